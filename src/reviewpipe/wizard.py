"""`reviewpipe add-source`: one file sniffed by DuckDB, matched to a preset or mapped by guesses from its
column names and values, written out as a ready `[[sources]]` block with comments on what it could not
decide.

The file is read exactly as ingest would read it (`reviewpipe.sources`: DuckDB's sniff_csv for a CSV
dialect, read_json's detection for JSON), into an in-memory database; nothing is written anywhere.
"""

from __future__ import annotations

import codecs
import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from reviewpipe import presets
from reviewpipe import sources as readers
from reviewpipe.errors import ReviewpipeError
from reviewpipe.settings import Source
from reviewpipe.warehouse import connect, quote_identifier, rows, scalar

# Records the guesses look at: enough for a scale and a date format, quick on any file.
SAMPLE_ROWS = 20_000
_HEAD_BYTES = 1 << 16
_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"PAR1": "parquet"}
_COMPRESSED_SUFFIX = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd"}

# Column names (lower case, letters and digits only) that say which field a column is, best first.
# A field takes the first unused column whose name is one of these, else one whose name contains one.
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "review_id": ("reviewid", "id", "commentid", "reviewuuid"),
    "title_id": ("titleid", "parentasin", "asin", "productid", "businessid", "appid", "gameid",
                 "itemid", "movieid", "tconst", "product", "hotel", "game", "app", "movie",
                 "business", "item", "title", "name"),
    "author": ("author", "username", "reviewername", "profilename", "user", "reviewer", "userid",
               "reviewerid", "customerid", "authorid"),
    "review_date": ("reviewdate", "date", "dateposted", "at", "timestamp", "createdat", "created",
                    "unixreviewtime", "time", "posted", "published", "reviewtime"),
    "rating": ("rating", "stars", "starrating", "score", "overall", "recommendation", "recommended",
               "votedup", "userrating", "rate", "grade"),
    "review_title": ("reviewtitle", "title", "summary", "headline", "reviewheadline", "subject"),
    "review_text": ("reviewtext", "text", "review", "reviewbody", "body", "content", "comment",
                    "comments", "message"),
    "helpful_votes": ("helpfulvotes", "helpful", "helpfulvote", "useful", "vote", "votes",
                      "thumbsupcount", "upvotes", "likes", "helpfulnessnumerator", "usefulnessvote",
                      "helpfulcount"),
    "total_votes": ("totalvotes", "helpfulnessdenominator", "votecount", "totalvotecount",
                    "totalvote"),
}
# the pairs a thumbs rating is written in (the shared contract of `rating_scale = "thumbs"`)
THUMBS_PAIRS = (
    {"recommended", "not recommended"}, {"true", "false"}, {"1", "0"}, {"1", "-1"}, {"yes", "no"},
    {"up", "down"}, {"positive", "negative"},
)
# strptime formats tried on dates parse_date does not read itself (ISO, "3 September 2002", ...)
DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%y", "%d/%m/%y", "%Y/%m/%d",
                "%m %d, %Y", "%b %d %Y", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d")


@dataclass
class Sniffed:
    """What one file is: how to read it and what it holds."""

    path: Path
    format: str
    options: dict[str, Any]
    columns: list[str]
    records: int  # in the sample (at most SAMPLE_ROWS)
    notes: list[str] = field(default_factory=list)


@dataclass
class Guess:
    """A source's settings guessed from a file, and what could not be decided."""

    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def source_block(path: Path, name: str | None = None) -> str:
    """A `[[sources]]` block (TOML with # comments) that loads the file at path."""
    path = path.expanduser().resolve()
    if name is not None:
        try:
            Source(name=name, path=str(path))
        except ValidationError as exc:
            raise ReviewpipeError(f"--name {name!r}: {exc.errors()[0]['msg']}") from exc
    if not path.is_file():
        raise ReviewpipeError(f"{path}: no such file; give the path of one export file")
    con = connect()
    try:
        sniffed = sniff(con, path)
        guess = recognised(con, sniffed) or guessed(con, sniffed)
    finally:
        con.close()
    settings = {"name": name or source_name(path), "path": str(path), **guess.settings}
    return render(settings, sniffed.notes + guess.notes)


_KNOWN_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".json", ".jsonl", ".ndjson", ".parquet", ".gz",
                   ".gzip", ".zst"}


def source_name(path: Path) -> str:
    """A source name from a file name less its known extensions: lowercase letters, digits and _
    ("Netflix Reviews.csv.gz" -> "netflix_reviews", "title.basics.tsv" -> "title_basics")."""
    stem = path.name
    while Path(stem).suffix.lower() in _KNOWN_SUFFIXES:
        stem = Path(stem).stem
    name = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")
    return (name if re.match(r"[a-z]", name) else f"source_{name}".rstrip("_"))[:63]


def sniff(con: duckdb.DuckDBPyConnection, path: Path) -> Sniffed:
    """How the file is read (format, compression, encoding, CSV dialect) and a sample of its records
    as the temp table `sample`."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head:
        raise ReviewpipeError(f"{path}: the file is empty; point add-source at a file with records")
    options: dict[str, Any] = {}
    notes: list[str] = []
    compression = next((c for m, c in _MAGIC.items() if head.startswith(m) and c != "parquet"), None)
    if compression and _COMPRESSED_SUFFIX.get(path.suffix.lower()) != compression:
        options["compression"] = compression  # DuckDB knows compression by the extension alone
    if compression == "gzip":
        with gzip.open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    fmt = _format(path, head, compression)
    if fmt in ("csv", "tsv") and compression != "zstd":  # Python reads no zstd: UTF-8 assumed
        encoding = _encoding(head)
        if encoding != "utf-8":
            options["encoding"] = encoding
    elif fmt == "json" and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReviewpipeError(f"{path}: JSON in UTF-16; DuckDB reads JSON as UTF-8 only: save it as "
                              "UTF-8 and run add-source again")
    source = Source(name="sniffed", path=str(path), format=fmt, options=options)  # type: ignore[arg-type]
    with readers.literal_path(path) as readable:
        try:
            dialect: dict[str, Any] = {}
            if fmt in ("csv", "tsv"):
                dialect = readers.csv_dialect(con, source, readable)
                if dialect.get("header") is False:
                    options["header"] = False
                    notes.append("the file has no header row: its columns are named column0, "
                                 "column1, ...; name them with options.names = [...]")
                if fmt == "csv" and dialect.get("delim") == "\t":
                    fmt = "tsv"  # reviewpipe's tsv: tab-separated, unquoted
                elif fmt == "csv" and dialect.get("delim") != ",":
                    options["delim"] = dialect["delim"]
                if fmt == "tsv":
                    dialect = {}
                source = source.model_copy(update={"format": fmt, "options": options})
            call, params = readers.reader_sql(source, dialect)
            con.execute(f"create or replace temp table sample as select * exclude (filename) "
                        f"from {call} limit {SAMPLE_ROWS}", [readable, *params])
        except duckdb.Error as exc:
            raise ReviewpipeError(
                f"{path}: DuckDB cannot read it as {fmt} ({str(exc).strip().splitlines()[0]}); "
                "check that it is a CSV, TSV, JSON or Parquet export") from exc
    columns = [r[0] for r in rows(con, "describe sample")]
    records = scalar(con, "select count(*) from sample")
    if records == 0:
        raise ReviewpipeError(f"{path}: the file holds no records; point add-source at one that does")
    return Sniffed(path, fmt, options, columns, records, notes)


def _format(path: Path, head: bytes, compression: str | None) -> str:
    """The format the extension names, else the one the first bytes show."""
    if head.startswith(b"PAR1"):
        return "parquet"
    named = readers.format_for(path)
    if named:
        return "json" if named == "jsonl" else named  # reviewpipe's json reads JSON lines too
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    return "json" if text[:1] in (b"{", b"[") else "csv"


def _encoding(head: bytes) -> str:
    """utf-16 for a UTF-16 byte order mark, utf-8 for UTF-8 (a BOM or none), else latin-1."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            return "latin-1"
    return "utf-8"


def recognised(con: duckdb.DuckDBPyConnection, sniffed: Sniffed) -> Guess | None:
    """The settings of the preset whose layout the file has, if one does: the preset and what the
    file needs besides (another format, reader options)."""
    found = presets.recognise(sniffed.columns)
    if not found:
        return None
    preset = found[0]
    settings: dict[str, Any] = {"preset": preset.name}
    if sniffed.format != preset.settings.get("format", "csv"):
        settings["format"] = sniffed.format
    options = {k: v for k, v in sniffed.options.items() if k != "delim" or sniffed.format == "csv"}
    if options:
        settings["options"] = options
    notes = [f"preset {preset.name}: {preset.doc}"]
    notes += [f"the same file also fits preset {other.name} ({other.settings.get('kind', 'reviews')}): "
              "add a source of its own with it" for other in found[1:]
              if other.layout == preset.layout]
    review_id = preset.settings.get("columns", {}).get("review_id")
    if review_id in sniffed.columns:
        notes += _id_notes(con, sniffed, review_id)
    return Guess(settings, notes)


def guessed(con: duckdb.DuckDBPyConnection, sniffed: Sniffed) -> Guess:
    """Settings guessed from the file's column names and values, with a note on each doubt."""
    columns = _columns_by_name(sniffed.columns)
    notes: list[str] = []
    settings: dict[str, Any] = {"format": sniffed.format}
    mapped: dict[str, str] = {}
    if "title_id" not in columns:
        mapped["title_id"] = presets.FILE_STEM
        notes.append("no column names the title: it is the file's name; set columns.title_id to "
                     "a column or a quoted name")
    if "rating" in columns:
        rating, scale, rating_notes = _rating(con, columns["rating"])
        notes += rating_notes
        if rating is None:
            del columns["rating"]
        else:
            settings.update(scale)
    else:
        notes.append("no column looks like a rating: map rating under [sources.columns] if the "
                     "file has one")
    if "review_date" in columns:
        expression, date_notes = _date(con, columns["review_date"])
        notes += date_notes
        if expression is None:
            del columns["review_date"]
        elif expression != columns["review_date"]:
            mapped["review_date"] = expression
    if "review_id" in columns:
        notes += _id_notes(con, sniffed, columns["review_id"])
    if "helpful_votes" in columns and "total_votes" not in columns:
        notes.append(f"votes: {columns['helpful_votes']} counts helpful votes only (no total): "
                     "helpful_ratio stays null and these reviews are ranked by helpful votes")
    if "review_text" not in columns:
        notes.append("no column looks like the review's text: map review_text under "
                     "[sources.columns] if the file has one")
    for name, column in columns.items():
        mapped.setdefault(name, column)
    unused = [c for c in sniffed.columns if c not in mapped.values()]
    if unused:
        notes.append(f"columns not mapped: {', '.join(unused)}")
    settings.update(options=sniffed.options, columns=dict(sorted(
        mapped.items(), key=lambda item: list(NAME_HINTS).index(item[0]))))
    return Guess(settings, notes)


def _columns_by_name(columns: list[str]) -> dict[str, str]:
    """Field -> the file's column its name suggests; each column at most once, exact names first."""
    key = {c: re.sub(r"[^a-z0-9]", "", c.lower()) for c in columns}
    found: dict[str, str] = {}
    for exact in (True, False):
        for name, hints in NAME_HINTS.items():
            if name in found:
                continue
            for hint in hints:
                match = next((c for c in columns if c not in found.values() and (
                    key[c] == hint if exact else len(hint) >= 4 and hint in key[c])), None)
                if match:
                    found[name] = match
                    break
    return found


def _values(con: duckdb.DuckDBPyConnection, column: str) -> str:
    """The sample's non-blank values of a column, as text, in a subquery `v(x)`."""
    quoted = quote_identifier(column)
    return f"(select trim({quoted}::varchar) as x from sample where nullif(trim({quoted}::varchar), '') is not null) v"


def _rating(con: duckdb.DuckDBPyConnection, column: str) -> tuple[str | None, dict[str, Any], list[str]]:
    """The rating column (or None when its values are no rating), its scale settings, and notes."""
    values = _values(con, column)
    distinct = {r[0].lower() for r in rows(con, f"select distinct x from {values} limit 3")}
    if len(distinct) <= 2 and any(distinct <= pair for pair in THUMBS_PAIRS):
        return column, {"rating_scale": "thumbs"}, [
            f"rating: {column} holds {' / '.join(sorted(distinct))}: a thumbs rating (1 = up)"]
    count, numbers, low, high, places = rows(con, f"""
        select count(*), count(try_cast(x as double)), min(try_cast(x as double)),
               max(try_cast(x as double)),
               max(length(regexp_extract(x, '\\.([0-9]*?)0*$', 1))) filter (try_cast(x as double) is not null)
        from {values}""")[0]
    if numbers == 0 or numbers < 0.9 * count or high > 100 or low < 0:
        return None, {}, [f"rating: {column} does not hold ratings (e.g. {_example(con, column)}); "
                          "not mapped"]
    scale: dict[str, Any] = {"rating_scale": next(s for s in (5, 10, 100) if high <= s)}
    notes = []
    if high != scale["rating_scale"]:
        notes.append(f"rating: the highest {column} is {high:g}, so rating_scale = "
                     f"{scale['rating_scale']} is a guess; set it to the scale's top")
    if low < 1:  # a scale from 0, or from its first step (0.5 of 0.5..5)
        scale["rating_min"] = 0 if low == 0 else low
    halves = scalar(con, f"select bool_and(try_cast(x as double) * 2 = round(try_cast(x as double) * 2)) "
                         f"from {values} where try_cast(x as double) is not null")
    if places:
        scale["rating_step"] = 0.5 if halves else float(f"1e-{places}")
    if numbers < count:
        notes.append(f"rating: {count - numbers} of {count} {column} values are not numbers (e.g. "
                     f"{_example(con, column)}); those rows will be quarantined")
    return column, scale, notes


def _date(con: duckdb.DuckDBPyConnection, column: str) -> tuple[str | None, list[str]]:
    """The expression that reads the date column (the column itself when staging reads it as it is),
    or None when no date form fits, and notes."""
    values = _values(con, column)
    quoted = quote_identifier(column)
    count, iso, whole, high = rows(con, f"""
        select count(*), count(coalesce(try_cast(x as date), try_cast(try_cast(x as timestamp) as date),
                                        try_strptime(x, ['%d %B %Y', '%B %d, %Y', '%d %b %Y', '%b %d, %Y']))),
               count(*) filter (regexp_full_match(x, '[0-9]{{9,13}}')), max(try_cast(x as bigint))
        from {values}""")[0]
    if count and iso == count:
        return column, []
    if count and whole == count:  # seconds or, beyond 1e11 (the year 5138 in seconds), milliseconds
        if high > 1e11:
            return f"epoch_ms({quoted}::bigint)::date", [f"review_date: {column} is in unix milliseconds"]
        return f"to_timestamp({quoted}::bigint)::date", [f"review_date: {column} is in unix seconds"]
    fits = [f for f in DATE_FORMATS
            if scalar(con, f"select count(try_strptime(x, ?)) from {values}", [f]) == count]
    if not fits:
        return None, [f"review_date: {column} is in no date form tried (e.g. {_example(con, column)}); "
                      "not mapped: write strptime(...) for it"]
    notes = [f"review_date: {column} read as {fits[0]}"]
    if len(fits) > 1:
        notes.append(f"review_date: {column} also fits {', '.join(fits[1:])}; check the first "
                     "is right (month and day first are told apart only by days after the 12th)")
    return f"strptime({quoted}, '{fits[0]}')::date", notes


def _id_notes(con: duckdb.DuckDBPyConnection, sniffed: Sniffed, column: str) -> list[str]:
    """A note when the id column repeats values in the sample."""
    quoted = quote_identifier(column)
    total, distinct = rows(con, f"select count({quoted}), count(distinct {quoted}) from sample")[0]
    if total == distinct:
        return []
    within = "" if sniffed.records < SAMPLE_ROWS else f" of the first {SAMPLE_ROWS:,} records"
    return [f"review_id: {column} repeats: {total - distinct:,}{within} records are later copies of "
            "a review, counted as duplicates (the first copy is kept); if they are different "
            "reviews, map review_id to an expression that tells them apart"]


def _example(con: duckdb.DuckDBPyConnection, column: str) -> str:
    value = scalar(con, f"select x from {_values(con, column)} "
                        "where try_cast(x as double) is null limit 1")
    return json.dumps(" ".join((value or "").split())[:40], ensure_ascii=False)


def render(settings: dict[str, Any], notes: list[str]) -> str:
    """The settings as a TOML [[sources]] block, the notes as comments above it."""
    lines = [f"# {line}" for note in notes for line in _wrap(note)]
    lines.append("[[sources]]")
    # keys and inline tables first: after a [sources.columns] header every key belongs to it
    tables = {k: v for k, v in settings.items() if isinstance(v, dict) and len(v) > 1 and k != "options"}
    lines += [f"{key} = {_toml(value)}" for key, value in settings.items()
              if key not in tables and value != {}]
    for key, value in tables.items():
        lines.append(f"[sources.{key}]")
        lines += [f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 98) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = "  " + word
        else:
            line = f"{line} {word}" if line else word
    return [*out, line]


def _toml(value: Any) -> str:
    """A TOML value: JSON's escapes are TOML's for strings; dicts as inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)
