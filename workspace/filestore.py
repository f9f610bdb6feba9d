"""The address scheme shared by every content-addressed file store (chat, approvals, documents), and
the sweep that removes files no row refers to any more."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flask import Flask, current_app

from workspace import audit, db

_HEX = frozenset("0123456789abcdef")


def address(root: Path, sha256: str) -> Path:
    """Return root/ab/cd/<digest> for a lowercase sha256 digest; raise ValueError for anything else.

    The check matters: a digest that came from a request must never become '../' in a path.
    """
    if len(sha256) != 64 or not _HEX.issuperset(sha256):
        raise ValueError("not a sha256 digest")
    return root / sha256[:2] / sha256[2:4] / sha256


CHUNK = 1024 * 1024


def tmp_dir(root: Path) -> Path:
    """Return root/tmp, where uploads are staged before they are placed (created on first use)."""
    tmp = root / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return tmp


def receive(
    stream: IO[bytes],
    root: Path,
    limit: int,
    *,
    too_large: Callable[[], Exception],
    empty: Callable[[], Exception],
    prefix: str = "upload-",
) -> tuple[Path, str, int]:
    """Copy stream into a temporary file under root/tmp while hashing it; return (path, sha256, size).

    Raises ``too_large()`` as soon as more than limit bytes arrived and ``empty()`` for no bytes
    (each store says it in its own error type); the temporary file is gone when it raises.
    Otherwise the caller checks the file further and places or discards it.
    """
    fd, name = tempfile.mkstemp(dir=tmp_dir(root), prefix=prefix)
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large()
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise empty()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


# --- the orphan sweep ----------------------------------------------------------------------------
#
# Each store writes bytes before the transaction that refers to them commits, and deletes them after
# the transaction that drops the last reference commits.  A crash in between leaves a file nothing
# refers to (or a staged upload in tmp/).  Nothing is lost by that, but the bytes linger: a disposed
# document's content must not survive in the store.  The sweep removes such files once they are older
# than a grace period (so an upload whose transaction is still running is never touched).


@dataclass(frozen=True)
class Store:
    """One content-addressed store: its name, its root, and which digests the database still uses."""

    name: str
    root: Callable[[], Path]
    #: Given candidate digests, return those a row still refers to.
    referenced: Callable[[set[str]], set[str]]


@dataclass
class SweepResult:
    """What a sweep found (and removed unless it was a dry run)."""

    orphans: list[tuple[str, str, int]] = field(default_factory=list)  # (store, digest, size)
    stale_uploads: list[tuple[str, str, int]] = field(default_factory=list)  # (store, name, size)

    @property
    def bytes(self) -> int:
        """The bytes the found files take."""
        return sum(size for *_, size in self.orphans + self.stale_uploads)


def register(app: Flask, store: Store) -> None:
    """Make a domain's store known to the sweep (called from the domain's init_app)."""
    app.extensions.setdefault("file_stores", {})[store.name] = store


def stores() -> list[Store]:
    """Return the stores registered on the current app."""
    return list(current_app.extensions.get("file_stores", {}).values())


def _older_files(directory: Path, cutoff: float) -> list[Path]:
    found = []
    for path in directory.iterdir() if directory.is_dir() else ():
        try:
            info = path.stat()
        except FileNotFoundError:  # removed meanwhile
            continue
        if path.is_file() and info.st_mtime < cutoff:
            found.append(path)
    return found


def sweep(
    min_age: dt.timedelta, *, dry_run: bool = False, actor: str = "system", batch: int = 500
) -> SweepResult:
    """Find files no row refers to, older than min_age, in every registered store; remove them and
    write an audit entry (committed) unless dry_run.  The database is read in batches."""
    result = SweepResult()
    cutoff = time.time() - min_age.total_seconds()
    for store in stores():
        root = store.root()
        candidates: dict[str, Path] = {}
        for path in root.glob("??/??/*"):
            if path.name in _SKIP or not _is_digest(path.name):
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    candidates[path.name] = path
            except FileNotFoundError:
                continue
        digests = sorted(candidates)
        for start in range(0, len(digests), batch):
            chunk = set(digests[start : start + batch])
            for digest in sorted(chunk - store.referenced(chunk)):
                path = candidates[digest]
                result.orphans.append((store.name, digest, _size(path)))
                if not dry_run:
                    path.unlink(missing_ok=True)
        for path in _older_files(root / "tmp", cutoff):
            result.stale_uploads.append((store.name, path.name, _size(path)))
            if not dry_run:
                path.unlink(missing_ok=True)
    db.end_read()
    if not dry_run and (result.orphans or result.stale_uploads):
        with db.write():
            audit.record(
                "files.sweep",
                actor=actor,
                detail={
                    "orphans": [f"{store}:{digest}" for store, digest, _ in result.orphans],
                    "stale_uploads": len(result.stale_uploads),
                    "bytes": result.bytes,
                },
            )
    return result


_SKIP = frozenset({"tmp"})


def _is_digest(name: str) -> bool:
    return len(name) == 64 and _HEX.issuperset(name)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
