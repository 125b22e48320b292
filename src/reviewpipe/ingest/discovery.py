"""Discovery: the files a source's glob matches (symlinks followed inside its folder, refused outside
it), and what says a file is unchanged: its state (size, times, inode) and its fingerprint (sha256),
against those load_log holds from its last load."""

from __future__ import annotations

import fnmatch
import hashlib
import heapq
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reviewpipe.errors import ReviewpipeError
from reviewpipe.settings import Settings, Source
from reviewpipe.warehouse import rows


@dataclass(frozen=True)
class RefusedLink:
    """A symlink the source's glob reached that leads outside the source's folder: not read."""

    path: Path
    target: str
    folder: Path

    @property
    def message(self) -> str:
        """What load_log and quarantine say of it."""
        return (f"refused: {self.path} is a symlink to {self.target}, outside the source's folder "
                f"{self.folder}, so it is not read; if it is meant to be, copy what it leads to "
                "into that folder (or name the file in [[sources]] path, without wildcards)")


def source_files(settings: Settings, source: Source) -> tuple[list[Path], list[RefusedLink]]:
    """The files the source's glob matches now, sorted so loads are deterministic, and the symlinks
    it reached that lead outside the source's folder (see matched_files)."""
    pattern = str(settings.resolve(source.path))
    files, refused = matched_files(pattern)
    if not files and not refused:
        raise ReviewpipeError(
            f"source {source.name!r}: path {source.path!r} (resolved to {pattern}) matches no files; "
            "fix [[sources]] path in the config or put the files there"
        )
    return files, refused


_WILDCARD = re.compile(r"[*?[]")  # what glob.glob takes for a wildcard


def matched_files(pattern: str) -> tuple[list[Path], list[RefusedLink]]:
    """The files an absolute glob (`**` any folders, as glob.glob's recursive=True) matches, sorted,
    each real file once; and the symlinks refused because they lead outside the source's folder.

    The source's folder is the pattern's part before its first wildcard. The folders below it are
    walked, symlinks to folders followed, but each real folder once per position in the pattern,
    so that symlink loops end (glob.glob walks a loop until the system's 40 links, and two loops
    make that millions of paths). A file or folder the wildcards reach whose real path is outside
    the folder's is refused, not read. A real file reached by several paths is listed once, under
    the matched path through the fewest symlinks, then the fewest folders, then the first by name:
    a file reached without symlinks keeps its own name, however many links lead to it too (a link
    added later does not rename a loaded file, whose name keys its rows). A pattern without
    wildcards names one file, which is read wherever a symlink there leads (the user named it).
    """
    parts = Path(pattern).parts
    first = next((i for i, part in enumerate(parts) if _WILDCARD.search(part)), None)
    if first is None:
        return ([Path(pattern)] if Path(pattern).is_file() else []), []
    folder, rest = Path(*parts[:first]), parts[first:]
    root = os.path.realpath(folder)
    found: dict[str, Path] = {}
    refused: dict[Path, RefusedLink] = {}
    walked: set[tuple[str, int]] = set()
    # (symlinks followed, folders below `folder`, their names, position in `rest`, real path,
    # "dir"/"file"/"" or None if not known yet), popped in that order: each (real folder, position)
    # is first reached by the path its files are listed under
    todo: list[tuple[int, int, tuple[str, ...], int, str, str | None]] = [(0, 0, (), 0, root, None)]
    while todo:
        links, depth, names, i, real, kind = heapq.heappop(todo)
        if i < len(rest) and rest[i] == "**":
            heapq.heappush(todo, (links, depth, names, i + 1, real, kind))  # `**` as no folder
        if kind is None:
            kind = "dir" if os.path.isdir(real) else "file" if os.path.isfile(real) else ""
        if real != root and not real.startswith(root.rstrip("/") + "/"):
            # refused where the pattern would read it: a file it ends at, a folder it goes into
            if kind == ("file" if i == len(rest) else "dir"):
                path = folder.joinpath(*names)
                refused.setdefault(path, RefusedLink(path, real, folder))
            continue
        if i == len(rest):
            if kind == "file":
                found.setdefault(real, folder.joinpath(*names))
            continue
        if kind != "dir" or (real, i) in walked:
            continue
        walked.add((real, i))
        part = rest[i]
        if part == "**":
            step = i
        elif _WILDCARD.search(part):
            step = i + 1
        else:
            below = os.path.join(real, part)
            heapq.heappush(todo, (links + os.path.islink(below), depth + 1, (*names, part), i + 1,
                                  os.path.realpath(below), None))
            continue
        try:
            with os.scandir(real) as listing:
                entries = {entry.name: entry for entry in listing}
        except OSError:
            continue  # an unreadable folder: glob.glob skips it too
        # as glob.glob: a wildcard matches a name starting with "." only if it starts with "." too
        for name in fnmatch.filter(entries, "*" if part == "**" else part):
            if name.startswith(".") and not part.startswith("."):
                continue
            entry = entries[name]
            if entry.is_symlink():  # followed: where it leads decides
                heapq.heappush(todo, (links + 1, depth + 1, (*names, name), step,
                                      os.path.realpath(entry.path), None))
            else:
                kind = "dir" if entry.is_dir() else "file" if entry.is_file() else ""
                heapq.heappush(todo, (links, depth + 1, (*names, name), step, entry.path, kind))
    return sorted(found.values()), sorted(refused.values(), key=lambda link: link.path)


def fingerprint(path: Path, source: Source) -> str:
    """sha256 over the file's bytes and the source's configuration (a new mapping reloads the file)."""
    digest = hashlib.sha256(_source_config(source))
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_state(path: Path, source: Source) -> str:
    """What says a file is unchanged without reading it, as git and make do: size, modification and
    change times, inode, and the source's configuration. A file whose state equals the one logged at
    its load is not hashed again; any write, copy, move or touch changes the state, and then the
    fingerprint decides."""
    st = path.stat()
    config = hashlib.sha256(_source_config(source)).hexdigest()[:16]
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{config}"


def _source_config(source: Source) -> bytes:
    return source.model_dump_json(exclude={"name", "path"}).encode()


def last_load(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> tuple[str, str | None] | None:
    """(fingerprint, file_state) of the file's last load, if it loaded."""
    found = rows(
        con,
        "select fingerprint, file_state from load_log "
        "where source = ? and file_path = ? and status = 'loaded'",
        [source.name, str(path)],
    )
    return found[0] if found else None
