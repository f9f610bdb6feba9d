"""Chat's content-addressed file store: DATA_DIR/chat/files/ab/cd/<sha256>, outside any web root.

Bytes arrive in a temporary file inside the store (same filesystem), are hashed while written, and
are moved to their address with one atomic rename, so the store never holds half a file and a name
always matches its content. Rows in chat_attachments refer to files by sha256; a file is removed only
when no row refers to it any more (see retention.purge).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app

from chat.errors import ChatError
from workspace import filestore

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Staged:
    """Received bytes in a temporary file of the store, hashed, not yet at their address."""

    path: Path
    sha256: str
    size: int


def store_root() -> Path:
    """Return DATA_DIR/chat/files (created on first use)."""
    root = Path(current_app.config["DATA_DIR"]) / "chat" / "files"
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_for(sha256: str) -> Path:
    """Return where the file with this digest lives; refuse anything that is not a sha256 digest."""
    return filestore.address(store_root(), sha256)


def max_bytes() -> int:
    """The largest attachment accepted (CHAT_ATTACHMENT_MAX_BYTES, default 20 MiB)."""
    try:
        return int(current_app.config.get("CHAT_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))
    except (TypeError, ValueError):
        return DEFAULT_MAX_BYTES


def too_large(limit: int) -> ChatError:
    """The 413 answer for a file over limit bytes."""
    return ChatError(413, f"ファイルが大きすぎます（上限 {limit / (1024 * 1024):g} MB）。", "too_large")


def stage(stream: IO[bytes], limit: int) -> Staged:
    """Copy stream into a temporary file while hashing it. Raises 413 past limit, 422 when empty.

    The temporary file is removed on every failure; on success the caller must place() or discard().
    """
    path, digest, size = filestore.receive(
        stream,
        store_root(),
        limit,
        too_large=lambda: too_large(limit),
        empty=lambda: ChatError(422, "ファイルが空です。", "empty_file"),
    )
    return Staged(path, digest, size)


def stage_bytes(data: bytes) -> Staged:
    """Stage bytes made by the server itself (a thumbnail)."""
    fd, name = tempfile.mkstemp(dir=filestore.tmp_dir(store_root()), prefix="thumb-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return Staged(Path(name), hashlib.sha256(data).hexdigest(), len(data))


def discard(staged: Staged) -> None:
    """Remove a staged temporary file that will not be kept."""
    staged.path.unlink(missing_ok=True)


def place(staged: Staged) -> bool:
    """Move a staged file to its address; return True if the store did not hold these bytes before.

    The caller undoes a True placement with remove() if its transaction then fails.
    """
    target = path_for(staged.sha256)
    if target.exists():
        staged.path.unlink(missing_ok=True)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged.path, target)  # atomic on one filesystem
    return True


def remove(sha256: str) -> bool:
    """Delete a stored file; return True if it existed."""
    path = path_for(sha256)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def stored_digests() -> set[str]:
    """Every sha256 currently in the store (for checks and tests)."""
    root = store_root()
    return {p.name for p in root.glob("??/??/*") if p.is_file()}


def referenced(digests: set[str]) -> set[str]:
    """Return the digests an attachment row still refers to, as file or thumbnail (orphan sweep)."""
    from sqlalchemy import or_, select

    from chat.models import Attachment
    from workspace import db

    rows = db.session().execute(
        select(Attachment.sha256, Attachment.thumbnail_sha256).where(
            or_(Attachment.sha256.in_(digests), Attachment.thumbnail_sha256.in_(digests))
        )
    )
    return {digest for row in rows for digest in row if digest in digests}
