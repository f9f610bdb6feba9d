"""Where attachment bytes live and the checks a file passes before it gets there.

Files are stored by content under DATA_DIR/approvals/files/ab/cd/<sha256>, outside any web root: two
uploads of the same bytes share one file, and a stored file can never be overwritten with other bytes.
A received file is first copied to a temporary file in the same tree while it is hashed, measured
against the size limit and sniffed; only then is it linked into place (atomic on one filesystem), so
the store never holds half a file. The type is judged from the bytes with ``filetype`` (never from the
name or the browser's header) and a name whose extension says something else is refused.

No database and no ``request`` here: :mod:`approvals.attachments` decides who may attach what.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from flask import current_app

from approvals.errors import ApprovalError
from workspace import filestore

CHUNK = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
_OLE = (".doc", ".xls", ".ppt")  # filetype cannot always tell the old binary Office formats apart

#: the kind ``filetype`` reports → the extensions a file of that kind may carry
ALLOWED: dict[str, tuple[str, ...]] = {
    "pdf": (".pdf",),
    "jpg": (".jpg", ".jpeg", ".jpe"),
    "png": (".png",),
    "gif": (".gif",),
    "tif": (".tif", ".tiff"),
    "bmp": (".bmp",),
    "webp": (".webp",),
    "heic": (".heic",),
    "docx": (".docx",),
    "xlsx": (".xlsx",),
    "pptx": (".pptx",),
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
    "odt": (".odt",),
    "ods": (".ods",),
    "odp": (".odp",),
    "rtf": (".rtf",),
}
#: plain text (no signature for filetype to find) → its MIME type per extension
TEXT_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
}


class UnsupportedType(ApprovalError):
    """The content is of a type that cannot be attached, or contradicts the file name (→ 415)."""

    status = 415
    code = "unsupported_type"


class TooLarge(ApprovalError):
    """The file is over ``APPROVALS_ATTACHMENT_MAX_BYTES`` (→ 413)."""

    status = 413
    code = "too_large"


@dataclass(frozen=True)
class Staged:
    """A received file in a temporary path: hashed, measured and sniffed, not yet in the store."""

    path: Path
    sha256: str
    size: int
    content_type: str


def root() -> Path:
    """Return DATA_DIR/approvals/files (created on first use)."""
    path = Path(current_app.config["DATA_DIR"]) / "approvals" / "files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(sha256: str) -> Path:
    """Return where the file with this digest lives; raise ``ValueError`` for anything but a digest."""
    return filestore.address(root(), sha256)


def max_bytes() -> int:
    """The largest attachment accepted (``APPROVALS_ATTACHMENT_MAX_BYTES``, default 20 MiB)."""
    return int(current_app.config.get("APPROVALS_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int) -> str:
    """Return a limit as people read it: ``20 MB``, ``512 KB``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(size // 1024, 1)} KB" if size >= 1024 else f"{size} バイト"


def stage(stream: IO[bytes], filename: str) -> Staged:
    """Copy ``stream`` to a temporary file while hashing it; check size and type.

    Raises :class:`TooLarge` (413), :class:`UnsupportedType` (415) or ``Invalid`` (422, empty file);
    the temporary file is gone when it raises. Otherwise the caller must :func:`place` or :func:`discard`.
    """
    from approvals.errors import Invalid

    limit = max_bytes()
    path, digest, size = filestore.receive(
        stream,
        root(),
        limit,
        too_large=lambda: TooLarge(f"ファイルが大きすぎます（上限 {human_size(limit)}）。"),
        empty=lambda: Invalid("ファイルが空です。", code="empty_file", field="file"),
    )
    try:
        content_type = sniff(path, filename)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(path, digest, size, content_type)


def _looks_like_text(head: bytes, complete: bool) -> bool:
    """True when ``head`` is UTF-8 (with or without BOM) or Shift_JIS (cp932) text without NULs."""
    if b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "cp932"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            # final=complete: a multi-byte character cut at the end of the sniffed head is fine.
            decoder.decode(head, final=complete)
        except UnicodeDecodeError:
            continue
        return True
    return False


def sniff(path: Path, filename: str) -> str:
    """Return the MIME type of the file at ``path`` judged from its bytes, checked against the name.

    Raises :class:`UnsupportedType` for a type that cannot be attached or an extension that lies.
    """
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
        complete = not fh.read(1)
    ext = os.path.splitext(filename or "")[1].lower()
    guessed = filetype.guess(head)
    if guessed is not None:
        if guessed.extension not in ALLOWED:
            raise UnsupportedType(f"この形式（{guessed.extension}）のファイルは添付できません。")
        if ext and ext not in ALLOWED[guessed.extension]:
            raise UnsupportedType(
                f"ファイルの内容（{guessed.extension.upper()}）が拡張子（{ext}）と一致しません。",
                code="type_mismatch",
            )
        return guessed.mime
    if not _looks_like_text(head, complete):
        raise UnsupportedType("ファイルの形式を判別できないため添付できません。")
    if ext and ext not in TEXT_TYPES:
        raise UnsupportedType(
            f"ファイルの内容（テキスト）が拡張子（{ext}）と一致しません。", code="type_mismatch"
        )
    return TEXT_TYPES.get(ext, "text/plain")


def place(staged: Staged) -> bool:
    """Link a staged file to its content address; return False when the store had those bytes already.

    The staged copy is kept, so :func:`ensure_placed` can put it back; :func:`discard` removes it.
    """
    target = path_for(staged.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return False
    try:
        os.link(staged.path, target)  # atomic, and never replaces an existing file
    except FileExistsError:
        return False
    except OSError:  # a store without hard links: copy beside the target, then rename into place
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out, staged.path.open("rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
        os.replace(name, target)  # same bytes if a concurrent upload got there first
    return True


def ensure_placed(staged: Staged) -> None:
    """Put the file back if a concurrent removal of the last other row took it away meanwhile."""
    if not path_for(staged.sha256).exists():
        place(staged)


def discard(staged: Staged) -> None:
    """Remove the temporary copy of a staged file."""
    staged.path.unlink(missing_ok=True)


def remove(sha256: str) -> None:
    """Delete a stored file (after its last row is gone)."""
    path_for(sha256).unlink(missing_ok=True)


def referenced(digests: set[str]) -> set[str]:
    """Return the digests an attachment row still refers to (for the orphan sweep)."""
    from sqlalchemy import select

    from approvals.models import ApprovalAttachment
    from workspace import db

    query = select(ApprovalAttachment.sha256).where(ApprovalAttachment.sha256.in_(digests))
    rows = db.session().execute(query)
    return set(rows.scalars())
