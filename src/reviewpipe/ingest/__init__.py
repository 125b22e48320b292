"""Ingest: configured files -> raw_ tables (as text, with the file's rejects) -> staged stg_ tables.

Every file is read by DuckDB's own reader, mapped onto the pipeline's fields by the source's
`[sources.columns]`, and logged in `load_log` with a fingerprint so unchanged files are skipped and a
changed file replaces only its own rows. Validation happens in the staging models (sql/staging), which
send every unusable row to `quarantine` with its reason.

discovery  the files a source's glob matches; file states and fingerprints
mapping    [sources.columns] onto the pipeline's fields
reading    one file through DuckDB's readers into mapped rows; the read-ahead; read_file_apart (Dask)
loading    raw tables, load_log and rejects, one transaction per file; `ingest`, the whole step
staging    the staging models, staged flags, touched review ids; `stage`
"""

from reviewpipe.ingest.discovery import matched_files
from reviewpipe.ingest.loading import FileLoad, IngestReport, forget_source, ingest, load_file
from reviewpipe.ingest.reading import (
    EMPTY_FILE,
    FileBeingWritten,
    FileStatus,
    FileVanished,
    Mapper,
    PreparedFile,
    prepare_file,
    read_file_apart,
)
from reviewpipe.ingest.staging import ensure_typed_reviews, stage, staged_counts

__all__ = [
    "EMPTY_FILE",
    "FileBeingWritten",
    "FileLoad",
    "FileStatus",
    "FileVanished",
    "IngestReport",
    "Mapper",
    "PreparedFile",
    "ensure_typed_reviews",
    "forget_source",
    "ingest",
    "load_file",
    "matched_files",
    "prepare_file",
    "read_file_apart",
    "stage",
    "staged_counts",
]
