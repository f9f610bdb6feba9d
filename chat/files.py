"""Chat's file store, DATA_DIR/chat/files/ab/cd/<sha256> (a workspace.filestore.Store), and the kinds
of file chat accepts.

Rows in chat_attachments refer to files by sha256, as the file itself or as its thumbnail; a file is
removed only when no row refers to it any more (see retention.purge). The kind is judged from the
bytes (workspace.sniff), never from the name or the browser; a name whose extension promises another
kind than the content is refused with 415.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import or_, select

from chat.errors import ChatError
from chat.models import Attachment
from workspace import db, filestore
from workspace import sniff as content
from workspace.filestore import Staged

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    """An accepted kind of file: the MIME type it is served with and the extensions its name may carry."""

    mime_type: str
    extensions: tuple[str, ...]
    image: bool = False


#: filetype's extension (or "text") → the kind accepted in chat. Anything else is refused (415).
KINDS: dict[str, Kind] = {
    "png": Kind("image/png", (".png",), image=True),
    "apng": Kind("image/png", (".png", ".apng"), image=True),
    "jpg": Kind("image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), image=True),
    "gif": Kind("image/gif", (".gif",), image=True),
    "webp": Kind("image/webp", (".webp",), image=True),
    "pdf": Kind("application/pdf", (".pdf",)),
    "docx": Kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx", ".docm")
    ),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx", ".xlsm")),
    "pptx": Kind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx", ".pptm")
    ),
    "doc": Kind("application/msword", (".doc",)),
    "xls": Kind("application/vnd.ms-excel", (".xls",)),
    "ppt": Kind("application/vnd.ms-powerpoint", (".ppt",)),
    "odt": Kind("application/vnd.oasis.opendocument.text", (".odt",)),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", (".ods",)),
    "odp": Kind("application/vnd.oasis.opendocument.presentation", (".odp",)),
    "zip": Kind("application/zip", (".zip",)),
    # Text of any name-worthy sort is served as text/plain: never as HTML or SVG, which a browser runs.
    "text": Kind("text/plain", (".txt", ".csv", ".tsv", ".log", ".md", ".json", ".xml", ".ics", ".vcf")),
}


def referenced(digests: set[str]) -> set[str]:
    """Return the digests an attachment row still refers to, as file or thumbnail."""
    rows = db.session().execute(
        select(Attachment.sha256, Attachment.thumbnail_sha256).where(
            or_(Attachment.sha256.in_(digests), Attachment.thumbnail_sha256.in_(digests))
        )
    )
    return {digest for row in rows for digest in row if digest in digests}


STORE = filestore.Store("chat", ("chat", "files"), referenced)

store_root = STORE.root
path_for = STORE.path_for
place = STORE.place
discard = STORE.discard
remove = STORE.remove
is_referenced = STORE.is_referenced
stored_digests = STORE.stored_digests


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
    return STORE.stage(
        stream,
        limit,
        too_large=lambda: too_large(limit),
        empty=lambda: ChatError(422, "ファイルが空です。", "empty_file"),
    )


def stage_bytes(data: bytes) -> Staged:
    """Stage bytes made by the server itself (a thumbnail)."""
    return STORE.stage_bytes(data, prefix="thumb-")


def kind_of(path: Path, filename: str) -> Kind:
    """Return the accepted kind of the file at path, or raise ChatError 415.

    unsupported_type: the content is of a kind chat does not take (programs, archives other than
    zip, unknown binary). type_mismatch: the name's extension promises another kind than the content.
    """
    head = content.read_head(path)
    guessed = content.guess(head.data)
    if guessed is not None:
        key = guessed.extension
        if key not in KINDS:
            raise ChatError(415, f"この形式（{key}）のファイルは添付できません。", "unsupported_type")
    elif content.is_text(head):
        key = "text"
    else:
        raise ChatError(415, "この形式のファイルは添付できません。", "unsupported_type")
    kind = KINDS[key]
    ext = content.extension(filename)
    if ext and ext not in kind.extensions:
        raise ChatError(
            415,
            f"ファイルの内容（{kind.mime_type}）が拡張子（{ext[:20]}）と一致しません。",
            "type_mismatch",
        )
    return kind
