"""Readers: how each configured format becomes rows, always through DuckDB's own readers."""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from reviewpipe.errors import ReviewpipeError
from reviewpipe.schema import REVIEW_FIELDS, TITLE_FIELDS
from reviewpipe.settings import Source

# Tab-separated exports (IMDb's datasets, Amazon's review dumps) do not quote fields: a lone " in a
# review body must stay text, not open a quoted field that swallows the following lines.
# A review can be long: lines up to 64 MiB are read (DuckDB's default stops at 2 MB).
_LONG_LINES = {"max_line_size": 64 * 2**20}
_FORMAT_DEFAULTS: dict[str, dict[str, Any]] = {
    "csv": {**_LONG_LINES},
    "tsv": {"delim": "\t", "quote": "", "escape": "", **_LONG_LINES},
    "json": {"format": "auto"},
    "jsonl": {"format": "newline_delimited"},
    "parquet": {},
}
REJECTS_TABLE = "_reader_rejects"

# Saved IMDb pages carry no review ids; a review is the same review in a newer save of the page when
# its title, author, date and review title match (its text, votes and rating may have changed).
_DEFAULT_COLUMNS: dict[tuple[str, str], dict[str, str]] = {
    ("imdb_page", "reviews"): {
        "review_id": "md5(concat_ws(chr(31), 'imdb_page', title_id, coalesce(author, ''), "
        "coalesce(review_date, ''), coalesce(review_title, '')))"
    },
}


class UnreadableFile(Exception):
    """A file the source's reader cannot make rows of at all; str(exc) says why."""


def default_columns(fmt: str, kind: str) -> dict[str, str]:
    """Column mappings a format implies for a kind of row, before the source's own [sources.columns]."""
    return _DEFAULT_COLUMNS.get((fmt, kind), {})


# DuckDB's readers (and Polars') take a path as a glob: `*`, `?` and `[...]` match other files,
# `\` escapes, `~` is the home folder, `s3://` a bucket. An absolute path of these characters alone
# means only itself.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/._+,=@%:-]+")
_PLAIN_SUFFIX = re.compile(r"\.[A-Za-z0-9]+")


@contextmanager
def literal_path(path: Path) -> Iterator[str]:
    """A path DuckDB reads as exactly the file `path`, whatever characters its name holds: the path
    itself when it is plain, else a symlink of a plain name to it in a private temporary folder,
    removed on leaving. The link keeps the file's extensions (`.csv.gz`), so that DuckDB still
    detects compression by them. DuckDB errors raised inside name `path`, not the link."""
    name = str(path)
    if name.startswith("/") and _PLAIN_PATH.fullmatch(name):
        yield name
        return
    folder = tempfile.mkdtemp(prefix="reviewpipe-read-")
    try:
        suffixes = "".join(s for s in path.suffixes if _PLAIN_SUFFIX.fullmatch(s))
        link = os.path.join(folder, "file" + suffixes)
        if not _PLAIN_PATH.fullmatch(link):
            raise ReviewpipeError(
                f"{path}: its name holds characters DuckDB reads as a pattern, and the temporary "
                f"folder {folder} does too; set TMPDIR to a folder of plain characters and run again"
            )
        os.symlink(os.path.abspath(name), link)
        try:
            yield link
        except duckdb.Error as exc:
            raise type(exc)(str(exc).replace(link, name)) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # little and big endian
_COMPRESSED = (".gz", ".zst")  # what DuckDB's readers decompress, known by the file's extension


@contextmanager
def readable_path(path: Path) -> Iterator[str]:
    """A path DuckDB reads as exactly the file `path` (literal_path), in UTF-8: a file that starts
    with a UTF-16 byte order mark (little or big endian; plain or gzipped) is first written out as
    UTF-8, beside the link, since DuckDB's JSON reader takes UTF-8 alone and its CSV reader reads
    big-endian UTF-16 as no rows at all. Line ends and every character are kept as they are."""
    opener = _opener(path)
    try:
        with opener(path) as fh:
            utf16 = fh.read(2) in _UTF16_BOMS
    except (OSError, EOFError):  # not gzip after all: DuckDB's reader says what it is
        utf16 = False
    if not utf16:
        with literal_path(path) as readable:
            yield readable
        return
    folder = tempfile.mkdtemp(prefix="reviewpipe-utf8-")
    try:
        suffixes = "".join(s for s in path.suffixes if _PLAIN_SUFFIX.fullmatch(s) and s not in _COMPRESSED)
        copy = Path(folder) / ("file" + suffixes)
        with opener(path) as raw, io.TextIOWrapper(raw, encoding="utf-16", newline="") as text, \
                copy.open("w", encoding="utf-8", newline="") as out:
            shutil.copyfileobj(text, out, 1 << 20)
        with literal_path(copy) as readable:
            try:
                yield readable
            except duckdb.Error as exc:
                raise type(exc)(str(exc).replace(str(copy), str(path))) from exc
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path} starts as UTF-16 but is not: {exc}") from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _opener(path: Path) -> Any:
    """How to open a file's bytes as they are meant to be read: gzip's for `.gz`, else as they are.
    A zstd file's start is read as it is (Python has no zstd before 3.14), so UTF-16 in zstd is
    not converted."""
    if path.suffix.lower() == ".gz":
        import gzip

        return gzip.open
    return lambda p: open(p, "rb")  # noqa: SIM115 (closed by the caller's with)


def csv_buffer(source: Source, path: str) -> dict[str, Any]:
    """DuckDB's CSV buffer for a compressed file: `buffer_size` equal to the longest line read.

    DuckDB sizes its CSV buffer from max_line_size (16 times it: 1 GiB for reviewpipe's 64 MiB) and
    allocates it whole for a compressed file, whose size it cannot know in advance (a plain file's
    buffer is cut to the file's size): a 78-byte `.csv.gz` failed with "Out of Memory Error: could
    not allocate block of size 1.0 GiB" under a 2 GB memory_limit. A buffer of one longest line
    still reads a 60 MB review from a `.csv.gz` whole.
    """
    compression = str(source.options.get("compression", "auto")).lower()
    compressed = compression in ("gzip", "zstd") or (
        compression == "auto" and Path(path).suffix.lower() in _COMPRESSED)
    if not compressed or source.format not in ("csv", "tsv"):
        return {}
    options = {**_FORMAT_DEFAULTS[source.format], **source.options}
    return {"buffer_size": options.get("max_line_size", _LONG_LINES["max_line_size"])}


def read_imdb_page(path: Path) -> dict[str, pl.DataFrame]:
    """A saved IMDb title page (text or HTML) as frames of text: 'titles' and 'reviews', plus filename."""
    from reviewpipe.sources import imdb_page

    try:
        page = imdb_page.parse_page(path.read_bytes(), str(path))
    except imdb_page.NotATitlePage as exc:
        raise UnreadableFile(str(exc)) from exc
    frames = {}
    for kind, keys, records in (
        ("titles", TITLE_FIELDS, page.titles),
        ("reviews", REVIEW_FIELDS, page.reviews),
    ):
        frame = pl.DataFrame(records, schema={k: pl.String for k in keys})
        frames[kind] = frame.with_columns(filename=pl.lit(str(path)))
    return frames


# sniff_csv's columns -> read_csv's options
_SNIFFED = {"Delimiter": "delim", "Quote": "quote", "Escape": "escape", "NewLineDelimiter": "new_line",
            "HasHeader": "header", "SkipRows": "skip"}


def csv_dialect(con: duckdb.DuckDBPyConnection, source: Source, path: str) -> dict[str, Any]:
    """The dialect DuckDB's sniffer finds in a CSV file (delimiter, quote, escape, line ends, header,
    rows to skip), except what the source's options set: to read the file with it given.

    DuckDB 2.0's read_csv sniffs in time that grows with the square of a quoted field's length when it
    stores rejected lines; sniff_csv alone and read_csv with the dialect given are linear.
    """
    options = {**_FORMAT_DEFAULTS[source.format], **csv_buffer(source, path), **source.options}
    # lines that do not fit (bad bytes, a cut-off row) are left to read_csv, which stores them as rejects
    sniff_options = {"ignore_errors": True, **options}
    found = _sniff(con, path, sniff_options)
    if found and found[1] == "'" and "quote" not in options:
        # The sniffer takes ' for the quote when fields start and end with it: a review of '' or of
        # 'Tis ... it's' would lose its apostrophes, silently. Quotes are " (RFC 4180) unless the
        # source's options say quote = "'".
        found = _sniff(con, path, {**sniff_options, "quote": '"'})
    dialect: dict[str, Any] = {}
    for option, value in zip(_SNIFFED.values(), found or (), strict=False):
        if option not in options:
            dialect[option] = "" if value == "(empty)" else int(value) if option == "skip" else value
    return dialect


def _sniff(con: duckdb.DuckDBPyConnection, path: str, options: dict[str, Any]) -> tuple | None:
    """sniff_csv's row (_SNIFFED's columns) for a file read with `options`."""
    named = "".join(f", {key} := ?" for key in options)
    return con.execute(f"select {', '.join(_SNIFFED)} from sniff_csv(?{named})", [path, *options.values()]).fetchone()


def reader_sql(source: Source, dialect: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
    """A DuckDB table-function call that reads one file (first parameter) of the source, and its parameters.

    CSV and TSV are read as text with malformed lines stored in REJECTS_TABLE instead of failing the
    file; JSON and Parquet keep their own types and fail as a whole when the file cannot be parsed.
    `dialect` (csv_dialect's) is given to read_csv as options.
    """
    options = {**_FORMAT_DEFAULTS[source.format], **(dialect or {}), **source.options}
    if source.format in ("csv", "tsv"):
        function = "read_csv"
        options.update(
            all_varchar=True,
            store_rejects=True,
            rejects_table=REJECTS_TABLE,
            rejects_scan=REJECTS_TABLE + "_scan",
        )
    elif source.format in ("json", "jsonl"):
        function = "read_json"
    else:
        function = "read_parquet"
    options["filename"] = True
    # Option names come from a whitelist in settings.Source; values are bound, never pasted.
    named = "".join(f", {key} := ?" for key in options)
    return f"{function}(?{named})", list(options.values())


def sniffer_gave_up_on_carriage_return(exc: Exception, path: Path) -> bool:
    """True when DuckDB could not read a CSV that holds a carriage return other than in its line ends.

    DuckDB 2.0's CSV sniffer and parser reject a lone carriage return inside a quoted field ("a\\rb")
    of a file whose lines end in newlines, and a file whose lines end some in CRLF, some in LF (a
    writer that leaves a trailing carriage return in a value unquoted): the whole file fails.
    """
    if "Error when sniffing file" not in str(exc) and "state machine reached an invalid state" not in str(exc):
        return False
    with path.open("rb") as fh:
        return any(b"\r" in chunk for chunk in iter(lambda: fh.read(1 << 24), b""))


def read_csv_exactly(path: Path, source: Source) -> pl.DataFrame:
    """A CSV file read by Polars' reader, every column as text, plus filename: for the files DuckDB
    cannot read (sniffer_gave_up_on_carriage_return). Raises UnreadableFile when Polars cannot either.
    """
    options = {**_FORMAT_DEFAULTS[source.format], **source.options}
    try:
        # an open file, not its path: Polars would take a path as a glob
        with path.open("rb") as fh:
            frame = pl.read_csv(fh, infer_schema=False, separator=options.get("delim", ","),
                                has_header=options.get("header", True))
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"{path}: {str(exc).splitlines()[0]}") from exc
    return frame.with_columns(filename=pl.lit(str(path)))


def rejects_sql() -> str:
    """One row per line the CSV reader rejected: line, first failing column, the line's text, the reason."""
    return f"""
        select
            line as line_number,
            arg_min(column_name, column_idx) as column_name,
            any_value(csv_line) as raw_value,
            arg_min(error_type || ': ' || error_message, column_idx) as reason
        from {REJECTS_TABLE}
        group by line
        order by line
    """


def format_for(path: Path) -> str | None:
    """The format a file's extension suggests, for `reviewpipe ingest` without a configured source."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".zst")]
    ext = suffixes[-1].lstrip(".") if suffixes else ""
    return {"csv": "csv", "tsv": "tsv", "tab": "tsv", "json": "json", "jsonl": "jsonl",
            "ndjson": "jsonl", "parquet": "parquet"}.get(ext)
