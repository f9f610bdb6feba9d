"""The content-addressed file store every domain keeps its bytes in (chat, approvals, documents), and
the sweep that removes files no row refers to any more.

A store lives at DATA_DIR/<parts…>/ab/cd/<sha256>, outside any web root. Bytes arrive in a temporary
file inside the store (root/tmp, the same filesystem), are hashed while written, and are linked to
their address in one atomic step, so the store never holds half a file, a name always matches its
content, and two uploads of the same bytes share one file. Only the domain knows which rows refer
to a file: each store is given a ``referenced`` function that asks it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flask import Flask, current_app

from workspace import audit, db

_HEX = frozenset("0123456789abcdef")
CHUNK = 1024 * 1024


def address(root: Path, sha256: str) -> Path:
    """Return root/ab/cd/<digest> for a lowercase sha256 digest; raise ValueError for anything else.

    The check matters: a digest that came from a request must never become '../' in a path.
    """
    if len(sha256) != 64 or not _HEX.issuperset(sha256):
        raise ValueError("not a sha256 digest")
    return root / sha256[:2] / sha256[2:4] / sha256


@dataclass(frozen=True)
class Staged:
    """Received bytes in a temporary file of a store, hashed, not yet at their address.

    Domains that learn more about the bytes before placing them (their type) extend this class.
    """

    path: Path
    sha256: str
    size: int


class Store:
    """One content-addressed store: stage, place, remove, and ask whether a row still refers to a file.

    ``parts`` name the store's folder under DATA_DIR (read at call time, never at import).
    ``referenced`` is the domain's answer to "which of these digests does a row still refer to?".
    """

    def __init__(self, name: str, parts: tuple[str, ...], referenced: Callable[[set[str]], set[str]]) -> None:
        self.name = name
        self.parts = parts
        self._referenced = referenced

    def root(self) -> Path:
        """Return the store's folder (created on first use)."""
        path = Path(current_app.config["DATA_DIR"]).joinpath(*self.parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def tmp_dir(self) -> Path:
        """Return root/tmp, where uploads are staged before they are placed (created on first use)."""
        tmp = self.root() / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    def path_for(self, sha256: str) -> Path:
        """Return where the file with this digest lives; refuse (ValueError) anything but a digest."""
        return address(self.root(), sha256)

    def stage(
        self,
        stream: IO[bytes],
        limit: int,
        *,
        too_large: Callable[[], Exception],
        empty: Callable[[], Exception],
        prefix: str = "upload-",
    ) -> Staged:
        """Copy stream into a temporary file of the store while hashing it.

        Raises ``too_large()`` as soon as more than limit bytes arrived and ``empty()`` for no bytes
        (each domain says it in its own words); the temporary file is gone when it raises.
        Otherwise the caller checks the file further and then places or discards it.
        """
        fd, name = tempfile.mkstemp(dir=self.tmp_dir(), prefix=prefix)
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
        return Staged(path, digest.hexdigest(), size)

    def stage_bytes(self, data: bytes, prefix: str = "made-") -> Staged:
        """Stage bytes the server made itself (a thumbnail)."""
        fd, name = tempfile.mkstemp(dir=self.tmp_dir(), prefix=prefix)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return Staged(Path(name), hashlib.sha256(data).hexdigest(), len(data))

    def place(self, staged: Staged, *, keep: bool = False) -> bool:
        """Put a staged file at its address; return True if the store did not hold these bytes before.

        Atomic, and never replaces a stored file: the bytes are hard-linked into place (or, on a
        filesystem without hard links, copied beside the target and renamed). The staged copy is
        removed unless ``keep`` (then the caller may place it again after its transaction, see
        approvals.attachments, and discards it itself). A caller undoes a True placement with
        remove() if its transaction then fails.
        """
        target = self.path_for(staged.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if target.exists():
                return False
            os.link(staged.path, target)
        except FileExistsError:  # a concurrent upload of the same bytes got there first
            return False
        except OSError:
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as out, staged.path.open("rb") as src:
                shutil.copyfileobj(src, out, CHUNK)
            os.replace(name, target)  # same bytes if a concurrent upload got there first
        finally:
            if not keep:
                self.discard(staged)
        return True

    def discard(self, staged: Staged) -> None:
        """Remove a staged temporary file that will not be (or no longer needs to be) placed."""
        staged.path.unlink(missing_ok=True)

    def remove(self, sha256: str) -> bool:
        """Delete a stored file (after the last row referring to it is gone); return True if it existed."""
        path = self.path_for(sha256)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def referenced(self, digests: set[str]) -> set[str]:
        """Return those of digests that a row of the domain still refers to."""
        return self._referenced(digests) if digests else set()

    def is_referenced(self, sha256: str) -> bool:
        """True while a row of the domain still refers to the file with this digest."""
        return sha256 in self.referenced({sha256})

    def stored_digests(self) -> set[str]:
        """Every digest currently in the store (for checks and tests)."""
        return {p.name for p in self.root().glob("??/??/*") if p.is_file() and _is_digest(p.name)}


# --- the orphan sweep ----------------------------------------------------------------------------
#
# Each store writes bytes before the transaction that refers to them commits, and deletes them after
# the transaction that drops the last reference commits.  A crash in between leaves a file nothing
# refers to (or a staged upload in tmp/).  Nothing is lost by that, but the bytes linger: a disposed
# document's content must not survive in the store.  The sweep removes such files once they are older
# than a grace period (so an upload whose transaction is still running is never touched).


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
