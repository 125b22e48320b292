"""Run the pipeline on a configuration into a folder of its own and keep what it published, to
compare two versions of the code: every published table (sorted, as Parquet) and every export.

    python bench/outputs_digest.py OUT [--config examples/shared_corpora.toml]
    python bench/outputs_digest.py --compare OLD NEW

Columns that name a run or its time (run_id, *_at) and the report (it states when it was drawn)
are left out: they differ between any two runs.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

from reviewpipe import pipeline
from reviewpipe.settings import load_settings


def snapshot(out: Path, config: str | None) -> None:
    """Run once into out/run and write out/tables/<table>.parquet and out/exports/<file>."""
    settings = load_settings(config)
    run_dir = out / "run"
    shutil.rmtree(out, ignore_errors=True)
    paths = settings.paths.model_copy(update={
        "warehouse": run_dir / "warehouse.duckdb", "published": run_dir / "reports.duckdb",
        "exports": run_dir / "exports",
        "samples": settings.samples_path,
    })
    settings = settings.model_copy(update={"paths": paths})
    summary = pipeline.run(settings)
    print(f"run {summary.run_id}: {summary.published}", file=sys.stderr)
    (out / "tables").mkdir(parents=True)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        for (table,) in con.sql("select table_name from duckdb_tables() order by 1").fetchall():
            frame = con.sql(f'select * from "{table}"').pl()
            frame = frame.drop([c for c in frame.columns if c == "run_id" or c.endswith("_at")])
            frame.sort(frame.columns, nulls_last=True).write_parquet(out / "tables" / f"{table}.parquet")
        # the tables' and columns' comments and types, in their order (the schema people read)
        con.sql("select table_name, null as column_name, null as data_type, comment from duckdb_tables() "
                "union all select table_name, column_name, data_type, comment from duckdb_columns() "
                "order by table_name, column_name nulls first").pl().with_row_index("position").drop(
            "position").write_parquet(out / "tables" / "_schema.parquet")
        con.sql("select table_name, column_index, column_name from duckdb_columns() order by all").pl(
            ).write_parquet(out / "tables" / "_column_order.parquet")
    shutil.copytree(settings.exports_path, out / "exports",
                    ignore=shutil.ignore_patterns("report.html"))


def compare(old: Path, new: Path) -> int:
    """0 when every table and export is identical, else 1; prints each difference."""
    failures = 0
    for kind in ("tables", "exports"):
        names = sorted({p.name for p in (old / kind).iterdir()} | {p.name for p in (new / kind).iterdir()})
        for name in names:
            a, b = old / kind / name, new / kind / name
            if not a.exists() or not b.exists():
                print(f"DIFFERENT {kind}/{name}: only in {'new' if not a.exists() else 'old'}")
                failures += 1
                continue
            if kind == "tables":
                try:
                    assert_frame_equal(pl.read_parquet(a), pl.read_parquet(b), check_exact=True)
                    same = True
                except AssertionError as exc:
                    same, why = False, str(exc).splitlines()[0]
                detail = "" if same else f": {why}"
            else:
                same = hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
                detail = ""
            rows = pl.read_parquet(b).height if kind == "tables" else b.stat().st_size
            print(f"{'identical' if same else 'DIFFERENT'} {kind}/{name} ({rows} {'rows' if kind == 'tables' else 'bytes'}){detail}")
            failures += not same
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--config", default=None)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    snapshot(args.out, args.config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
