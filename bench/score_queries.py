"""The score stage's queries that find the texts to do, timed on a synthetic warehouse of ROWS staged
reviews, all cached, a share OTHER of them in another language (unscored), nothing to redo.

    PYTHONPATH=src python bench/score_queries.py 1000000 0.1 /tmp/score_queries.duckdb
"""

from __future__ import annotations

import sys
import time

from reviewpipe import stages
from reviewpipe.warehouse import connect


def main(rows: int, other: float, path: str) -> None:
    con = connect(path)
    german = f"i % 1000 < {int(other * 1000)}"
    con.execute(f"""create or replace table int_reviews_typed as
        select 'r' || i as review_id, md5(i::varchar) as text_hash, true as staged,
               null::varchar as declared_language
        from range({rows}) t(i)""")
    con.execute(f"""create or replace table sentiment_scores as
        select md5(i::varchar) as text_hash,
               case when {german} then 'de' else 'en' end as review_language,
               0.99 as language_confidence,
               case when {german} then 'de' else 'en' end as language_guess,
               case when {german} then null else 'en' end as sentiment_language
        from range({rows}) t(i)""")
    con.execute("create or replace table publish_pending as select 'r' || i as review_id from range(100) t(i)")
    for name, sql, params in [
        ("step 1, narrow", stages._UNSCORED.format(pending=stages._PENDING), [["en"]]),
        ("step 1, whole", stages._UNSCORED.format(pending=""), [["en"]]),
        ("step 2: _REDETECTED", stages._REDETECTED, [["en"], True]),
        ("step 2: _DECLARED", stages._DECLARED, [["en"]]),
    ]:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            con.execute(f"select count(*) from ({sql})", params).fetchall()
            times.append(time.perf_counter() - start)
        print(f"{name}: {min(times) * 1000:.0f} ms (best of 5), rows={rows}, other={other}")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3])
