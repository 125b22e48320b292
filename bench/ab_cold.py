"""Cold runs of two checkouts of reviewpipe on one benchmark corpus, alternating: the cost of a change.

    python bench/ab_cold.py BEFORE_CHECKOUT AFTER_CHECKOUT [--rows 1000000] [--rounds 2] [--workdir DIR]
        [--before-config TOML]

The cost of a stage that a setting turns off, at one commit: the same checkout twice, the setting
in --before-config (appended to the before runs' reviewpipe.toml), e.g. the trust tests:

    python bench/ab_cold.py . . --before-config $'[trust]\nenabled = false'

Each round runs `bench/run.py --phase pipeline` of each checkout (its own src/ first on PYTHONPATH) on
a fresh project over the same corpus (bench/corpus.py, seed 7), in turn, so that the machine's drift
falls on both. Prints each run's stage seconds and writes them to DIR/ab.json. A checkout is a folder
holding src/reviewpipe and bench/run.py (`git worktree add /tmp/before <commit>` makes one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--before-config", default="", help="TOML appended to the before runs' configuration")
    a = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import corpus
    from run import config_text

    work = a.workdir or Path(tempfile.mkdtemp(prefix="reviewpipe-ab-"))
    landing = work / "landing"
    if not landing.exists():
        corpus.write_corpus(landing, a.rows, 7, pool=corpus.sentence_pool())
    results = []
    for round_ in range(a.rounds):
        for name, tree in (("before", a.before.resolve()), ("after", a.after.resolve())):
            project = work / f"{name}-{round_}"
            shutil.rmtree(project, ignore_errors=True)
            project.mkdir(parents=True)
            extra = f"\n{a.before_config}\n" if name == "before" and a.before_config else ""
            (project / "reviewpipe.toml").write_text(config_text(landing) + extra)
            done = subprocess.run(
                [sys.executable, str(tree / "bench" / "run.py"), "--phase", "pipeline", str(project)],
                env={**os.environ, "PYTHONPATH": str(tree / "src")}, capture_output=True, text=True, check=True,
            )
            run = {"name": name, "round": round_, **json.loads(done.stdout.strip().splitlines()[-1])}
            results.append(run)
            print(name, round_, {k: round(v, 2) for k, v in run["seconds"].items()}, flush=True)
            shutil.rmtree(project, ignore_errors=True)
    (work / "ab.json").write_text(json.dumps(results, indent=1) + "\n")
    for name in ("before", "after"):
        totals = [r["seconds"]["total"] for r in results if r["name"] == name]
        print(f"{name}: mean total {sum(totals) / len(totals):.2f} s over {len(totals)} runs")


if __name__ == "__main__":
    main()
