"""Where attachment bytes live and the checks a file passes before it gets there.

Files are stored by content under DATA_DIR/approvals/files/ab/cd/<sha256>, outside any web root: two
uploads of the same bytes share one file, and a stored file can never be overwritten with other bytes.
A received file is first copied to a temporary file in the same tree while it is hashed, measured
against the size limit and sniffed; only then is it linked into place (atomic on one filesystem), so
the store never holds half a file (workspace.filestore.Store). The type is judged from the bytes
(workspace.sniff; never from the name or the browser's header) and a name whose extension says
something else is refused.

No ``request`` here: :mod:`approvals.attachments` decides who may attach what.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import select

from approvals.errors import ApprovalError, Invalid
from approvals.models import ApprovalAttachment
from workspace import db, filestore
from workspace import sniff as content

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
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
class Staged(filestore.Staged):
    """A received file in a temporary path: hashed, measured and sniffed, not yet in the store."""

    content_type: str


def referenced(digests: set[str]) -> set[str]:
    """Return the digests an attachment row still refers to."""
    query = select(ApprovalAttachment.sha256).where(ApprovalAttachment.sha256.in_(digests))
    return set(db.session().execute(query).scalars())


STORE = filestore.Store("approvals", ("approvals", "files"), referenced)

path_for = STORE.path_for
discard = STORE.discard
is_referenced = STORE.is_referenced


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
    limit = max_bytes()
    staged = STORE.stage(
        stream,
        limit,
        too_large=lambda: TooLarge(f"ファイルが大きすぎます（上限 {human_size(limit)}）。"),
        empty=lambda: Invalid("ファイルが空です。", code="empty_file", field="file"),
    )
    try:
        content_type = sniff(staged.path, filename)
    except BaseException:
        STORE.discard(staged)
        raise
    return Staged(staged.path, staged.sha256, staged.size, content_type)


def sniff(path: Path, filename: str) -> str:
    """Return the MIME type of the file at ``path`` judged from its bytes, checked against the name.

    Raises :class:`UnsupportedType` for a type that cannot be attached or an extension that lies.
    """
    head = content.read_head(path)
    ext = content.extension(filename)
    guessed = content.guess(head.data)
    if guessed is not None:
        if guessed.extension not in ALLOWED:
            raise UnsupportedType(f"この形式（{guessed.extension}）のファイルは添付できません。")
        if ext and ext not in ALLOWED[guessed.extension]:
            raise UnsupportedType(
                f"ファイルの内容（{guessed.extension.upper()}）が拡張子（{ext}）と一致しません。",
                code="type_mismatch",
            )
        return guessed.mime
    # This store's text rule: control characters pass; NULs, UTF-16 and undecodable bytes do not.
    if not content.is_text(head, utf16=False, few_controls=False):
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
    return STORE.place(staged, keep=True)


def ensure_placed(staged: Staged) -> None:
    """Put the file back if a concurrent removal of the last other row took it away meanwhile."""
    if not path_for(staged.sha256).exists():
        place(staged)


def remove(sha256: str) -> None:
    """Delete a stored file (after its last row is gone)."""
    STORE.remove(sha256)
