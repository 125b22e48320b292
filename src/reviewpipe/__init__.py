"""reviewpipe: review files -> DuckDB warehouse -> Polars metrics -> published tables, CSVs."""

from reviewpipe.errors import ReviewpipeError

__all__ = ["ReviewpipeError", "__version__"]
__version__ = "0.1.0"
