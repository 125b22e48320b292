"""Benchmark: reviewpipe against the pandas + vaderSentiment script a user would otherwise write.

    python bench/run.py --rows 20000                  # baseline and pipeline on the same rows
    python bench/run.py --rows 1000000 --baseline-rows 20000

Builds a corpus of --rows distinct reviews recombined from the real reviews' sentences (bench/corpus.py)
as CSV files in a landing folder, then measures, each phase in a fresh process with the peak memory
of its whole process tree (scoring workers included):

- baseline: bench/baseline.py on the first --baseline-rows rows (all rows by default);
- pipeline on those same rows, cold, for the ratio baseline / pipeline;
- the README's own command, `reviewpipe run` (what `make run` runs), cold on those same rows, as a
  user runs it: its whole wall time, process start-up and imports included; then again, with
  nothing new (what a user waits for when nothing changed);
- pipeline on all rows: cold (empty warehouse), again with no new data, again with 1% new reviews;
- DuckDB alone counting the CSV rows with read_csv (what ingest is held against).

It checks that the pipeline's whole-text scores equal the baseline's for every review of the slice,
prints one table and writes it as JSON (bench/results/run-<rows>.json unless --json says otherwise).
The pipeline runs as `reviewpipe run --no-prefect` does (the library, without Prefect's server).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
STAGES = ("ingest", "score", "metrics", "trust", "terms", "publish", "export", "report")


# --- phases: each runs in its own process (python bench/run.py --phase NAME ...) -----------------


def config_text(landing: Path) -> str:
    return f"""
[paths]
warehouse = "data/warehouse.duckdb"
published = "data/reports.duckdb"
exports = "data/exports"

[[sources]]
name = "bench_reviews"
kind = "reviews"
path = "{landing}/*.csv"
format = "csv"
rating_scale = 10
"""


def phase_pipeline(project: Path) -> dict:
    from reviewpipe import pipeline
    from reviewpipe.settings import load_settings

    t = time.perf_counter()
    summary = pipeline.run(load_settings(project / "reviewpipe.toml"))
    return {"seconds": {**summary.seconds, "total": time.perf_counter() - t},
            "reviews": summary.published.get("reviews"), "texts_scored": summary.texts_scored,
            "files_loaded": summary.ingest.report.count("loaded")}


def phase_command(project: Path) -> dict:
    """`reviewpipe run` in the project's folder, as the README says (no PREFECT_API_URL: a fresh
    machine has no Prefect server), timed from the command's start to its exit."""
    exe = Path(sys.executable).with_name("reviewpipe")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    t = time.perf_counter()
    done = subprocess.run([str(exe), "run"], cwd=project, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"reviewpipe run failed: {done.stderr}")
    return {"seconds": {"total": seconds}}


def phase_baseline(landing: Path, out: Path) -> dict:
    sys.path.insert(0, str(HERE))
    import baseline

    t = time.perf_counter()
    seconds = baseline.run(sorted(landing.glob("*.csv")), out)
    return {"seconds": {**seconds, "total": time.perf_counter() - t}}


def phase_duckdb_count(landing: Path) -> dict:
    import duckdb

    t = time.perf_counter()
    rows = duckdb.sql(f"select count(*) from read_csv('{landing}/*.csv', all_varchar = true)").fetchall()
    return {"seconds": {"total": time.perf_counter() - t}, "rows": rows[0][0]}


def busy_cpu_seconds() -> float:
    """The CPU time this machine's cores have spent on anything but idling, since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def run_phase(name: str, *args: str) -> dict:
    """Run one phase in a fresh process; its result plus the peak RSS of its process tree and the
    CPU time the machine spent meanwhile (all cores, the phase's processes and DuckDB's threads;
    anything else running on the machine too, so measure on an idle one)."""
    cpu_before = busy_cpu_seconds()
    proc = psutil.Popen([sys.executable, __file__, "--phase", name, *args], stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [proc, *proc.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak / 2**20
    result["cpu_seconds"] = busy_cpu_seconds() - cpu_before
    return result


# --- the benchmark ---------------------------------------------------------------------------------


def parity(project: Path, baseline_out: Path) -> tuple[int, int, int]:
    """(reviews compared, scored reviews whose four whole-text scores differ, reviews left unscored)
    between pipeline and baseline. The baseline scores every text with VADER; the pipeline leaves
    unscored the texts it detects as another language or cannot place (label 'unscored', null scores):
    they are counted apart, not compared."""
    import duckdb

    con = duckdb.connect(str(project / "data" / "reports.duckdb"), read_only=True)
    try:
        return con.execute(
            """
            select count(*),
                   count(*) filter (where r.sentiment_label is distinct from 'unscored'
                                    and (r.sentiment_compound is distinct from b.compound
                                         or r.sentiment_pos is distinct from b.pos
                                         or r.sentiment_neu is distinct from b.neu
                                         or r.sentiment_neg is distinct from b.neg)),
                   count(*) filter (where r.sentiment_label = 'unscored')
            from read_csv(?, types = {'neg': 'double', 'neu': 'double', 'pos': 'double',
                                      'compound': 'double'}) b
            full join reviews r using (review_id)
            """,
            [str(baseline_out / "review_scores.csv")],
        ).fetchall()[0]
    finally:
        con.close()


def main() -> None:
    if "--trust-harness" in sys.argv[1:]:
        # issue 25's planted-campaign harness: its own options follow (bench/trust_harness.py --help)
        sys.path.insert(0, str(HERE))
        import trust_harness

        raise SystemExit(trust_harness.main([a for a in sys.argv[1:] if a != "--trust-harness"]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="reviews in the corpus")
    parser.add_argument("--baseline-rows", type=int, default=None,
                        help="rows the baseline (and the pipeline, for the ratio) run on; default all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="where the corpus and warehouses go")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--config-extra", default="",
                        help="TOML appended to every project's reviewpipe.toml, e.g. $'[trust]\\nenabled = false' "
                             "for the pipeline without its trust stage")
    parser.add_argument("--trust-harness", action="store_true",
                        help="run the trust tests' planted-campaign harness instead (bench/trust_harness.py; "
                             "its options follow, e.g. --seeds 1 2)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.phase:
        functions = {"pipeline": phase_pipeline, "baseline": phase_baseline, "count": phase_duckdb_count,
                     "command": phase_command}
        print(json.dumps(functions[a.phase](*map(Path, a.args))))
        return

    sys.path.insert(0, str(HERE))
    import corpus

    work = a.workdir or Path(tempfile.mkdtemp(prefix="reviewpipe-bench-"))
    slice_rows = min(a.baseline_rows or a.rows, a.rows)
    t = time.perf_counter()
    pool = corpus.sentence_pool()
    full_landing, slice_landing = work / "landing", work / "slice" / "landing"
    for folder in (full_landing, slice_landing, work / "projects"):
        shutil.rmtree(folder, ignore_errors=True)
    files = corpus.write_corpus(full_landing, a.rows, a.seed, pool=pool)
    if slice_rows < a.rows:  # the slice: the first rows of the same corpus (the same texts)
        corpus.write_corpus(slice_landing, slice_rows, a.seed, pool=pool)
    else:
        slice_landing = full_landing
    corpus_seconds = time.perf_counter() - t
    size_mb = sum(f.stat().st_size for f in files) / 2**20
    print(f"corpus: {a.rows} reviews in {len(files)} CSV files ({size_mb:.0f} MB), "
          f"{slice_rows} in the slice; built in {corpus_seconds:.1f} s", flush=True)

    def project(name: str, landing: Path) -> Path:
        folder = work / "projects" / name
        folder.mkdir(parents=True)
        (folder / "reviewpipe.toml").write_text(config_text(landing) + a.config_extra + "\n")
        return folder

    results: dict[str, dict] = {}
    results["baseline"] = run_phase("baseline", str(slice_landing), str(work / "baseline"))
    print("baseline done", flush=True)
    sliced = project("slice", slice_landing)
    results["pipeline_slice"] = run_phase("pipeline", str(sliced))
    compared, differing, unscored = parity(sliced, work / "baseline")
    command = project("command", slice_landing)
    results["command_slice"] = run_phase("command", str(command))
    results["command_rerun"] = run_phase("command", str(command))  # nothing new: start-up and all
    full = project("full", full_landing) if slice_rows < a.rows else sliced
    if full is not sliced:
        results["pipeline_cold"] = run_phase("pipeline", str(full))
    else:
        results["pipeline_cold"] = results["pipeline_slice"]
    results["pipeline_rerun"] = run_phase("pipeline", str(full))
    new_rows = max(1, a.rows // 100)
    corpus.write_corpus(full_landing, new_rows, a.seed + 1, first_id=a.rows, prefix="new", pool=pool)
    results["pipeline_1pct"] = run_phase("pipeline", str(full))
    results["duckdb_count"] = run_phase("count", str(full_landing))

    report = summarize(a, results, slice_rows, new_rows, compared, differing, unscored)
    print_table(report)
    out = a.json or HERE / "results" / f"run-{a.rows}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {out}")
    if not a.keep and a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    if differing or compared != slice_rows:
        raise SystemExit(f"parity failed: {differing} of {compared} reviews differ from the baseline")
    # the corpus is English: more than 1% of it unscored means the language detector has gone wrong
    if unscored * 100 > compared:
        raise SystemExit(f"parity failed: {unscored} of {compared} English reviews left unscored")


def summarize(a, results: dict, slice_rows: int, new_rows: int, compared: int, differing: int,
              unscored: int) -> dict:
    cold = results["pipeline_cold"]["seconds"]["total"]
    base = results["baseline"]["seconds"]["total"]
    piped = results["pipeline_slice"]["seconds"]["total"]
    # the end to end is ingest, score, metrics, publish, export: what the baseline does too
    # (it writes no HTML report), so the ratio is given both without the report (the wall seconds of
    # those stages, one after the other; the report is drawn while the exports are written) and with
    # it (the run's whole wall time)
    slice_seconds = results["pipeline_slice"]["seconds"]
    piped_to_export = sum(slice_seconds[s] for s in STAGES if s != "report")
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)},
        "rows": a.rows, "slice_rows": slice_rows, "new_rows": new_rows, "seed": a.seed,
        "config_extra": a.config_extra,
        "phases": results,
        "ratio_baseline_over_pipeline": base / piped,
        "ratio_baseline_over_pipeline_to_export": base / piped_to_export,
        "ratio_baseline_over_command": base / results["command_slice"]["seconds"]["total"],
        "rerun_share_of_cold": results["pipeline_rerun"]["seconds"]["total"] / cold,
        "one_percent_share_of_cold": results["pipeline_1pct"]["seconds"]["total"] / cold,
        "ingest_over_duckdb_count": results["pipeline_cold"]["seconds"]["ingest"]
        / results["duckdb_count"]["seconds"]["total"],
        "parity": {"compared": compared, "differing": differing, "unscored": unscored},
    }


def print_table(report: dict) -> None:
    rows_of = {"baseline": report["slice_rows"], "pipeline_slice": report["slice_rows"],
               "command_slice": report["slice_rows"], "command_rerun": report["slice_rows"],
               "pipeline_cold": report["rows"], "pipeline_rerun": report["rows"],
               "pipeline_1pct": report["rows"] + report["new_rows"], "duckdb_count": report["rows"]}
    print(f"\n{'phase':<16}{'stage':<11}{'rows':>10}{'seconds':>10}{'reviews/s':>12}{'peak RSS MB':>13}"
          f"{'CPU s':>8}")
    for phase, result in report["phases"].items():
        rows = rows_of[phase]
        for stage, seconds in result["seconds"].items():
            total = stage == "total"
            rss = f"{result['peak_rss_mb']:.0f}" if total else ""
            cpu = f"{result['cpu_seconds']:.1f}" if total and "cpu_seconds" in result else ""
            rate = f"{rows / seconds:,.0f}" if seconds > 0 else "-"
            print(f"{phase:<16}{stage:<11}{rows:>10,}{seconds:>10.2f}{rate:>12}{rss:>13}{cpu:>8}")
    print(f"\nbaseline / pipeline on the same {report['slice_rows']:,} rows: "
          f"{report['ratio_baseline_over_pipeline_to_export']:.1f}x from ingest to export (the "
          f"stages the baseline also does), {report['ratio_baseline_over_pipeline']:.1f}x with the "
          "HTML report")
    print(f"baseline / `reviewpipe run` (the README's command, start-up included) on the same "
          f"{report['slice_rows']:,} rows: {report['ratio_baseline_over_command']:.1f}x; again with "
          f"nothing new: {report['phases']['command_rerun']['seconds']['total']:.2f} s")
    base, piped = report["phases"]["baseline"], report["phases"]["pipeline_slice"]
    if "cpu_seconds" in piped:
        print("CPU time of the machine on the same rows: baseline "
              f"{base['cpu_seconds']:.1f} s in {base['seconds']['total']:.2f} s, pipeline "
              f"{piped['cpu_seconds']:.1f} s in {piped['seconds']['total']:.2f} s "
              f"({piped['cpu_seconds'] / piped['seconds']['total']:.1f} of "
              f"{report['machine']['cpus']} cores busy on average)")
    print(f"re-run with no new data: {report['rerun_share_of_cold']:.1%} of the cold run; "
          f"with {report['new_rows']:,} new reviews (1%): {report['one_percent_share_of_cold']:.1%}")
    print(f"ingest / DuckDB read_csv count: {report['ingest_over_duckdb_count']:.1f}x")
    p = report["parity"]
    print(f"whole-text scores equal to the baseline's: {p['compared'] - p['differing'] - p['unscored']:,} "
          f"of {p['compared']:,} reviews; {p['unscored']:,} left unscored (detected as another language "
          "or undetermined), not compared")


if __name__ == "__main__":
    main()
