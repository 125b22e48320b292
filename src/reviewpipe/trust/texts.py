"""The trust tests that read texts: copied_text, repeated_phrases and incentivized.

(Contract of issue 25; the texts engineer fills it in.) Each staged text's MinHash signature and
phrase hashes are computed once and kept in the warehouse (`text_signatures`, keyed by text_hash),
updated with the texts new since the last run; the tests then run in SQL over them.
"""

from __future__ import annotations

import duckdb
import polars as pl

from reviewpipe.settings import Settings

# The frame text_members gives: one row per review in a text test's subset.
MEMBERS_SCHEMA = {"review_id": pl.String, "test": pl.String, "detail": pl.String}


def update_signatures(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Compute and keep the signatures of the staged texts that have none yet; how many."""
    return 0


def text_members(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.DataFrame:
    """The staged reviews in the subsets of copied_text, repeated_phrases and incentivized
    (MEMBERS_SCHEMA): review_id, test, and the detail in words ("near-copy of 12 reviews by 9 other
    reviewers", "shares \\"great quality for the price\\" with 31 reviews of the title", "discloses:
    \\"received this product free\\""). Call update_signatures first."""
    return pl.DataFrame(schema=MEMBERS_SCHEMA)
