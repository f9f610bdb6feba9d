"""Attachments of a 起案: add, remove, download, and the list frozen at submission.

Who may change the list: the drafter, while the request is a draft or sent back to him (差戻し to the
drafter). Anyone who may see the request may download. At 起案 and at 再提出 the service freezes the
list with each file's SHA-256 on the request (``attachments_frozen``); the PDF record and the
``approval_decided`` signal use that frozen list.

Nothing is half-written: the upload is hashed, measured and sniffed in a temporary file first; then,
with the request row locked and its state re-checked, the file is linked into the content-addressed
store and the row inserted and committed. If the commit fails, a file this upload put in the store
and no row refers to is removed again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select

from approvals import access
from approvals import attachment_store as store
from approvals.errors import ApprovalError, Conflict, Forbidden, Invalid, NotFound
from approvals.models import ApprovalAttachment, ApprovalRequest
from workspace import audit, calendar, db
from workspace.models import User

EDITABLE = ("draft", "sent_back")
MAX_ATTACHMENTS = 50
MAX_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def attachment_json(row: ApprovalAttachment) -> dict[str, Any]:
    """Return ``{"id", "name", "size", "sha256", "content_type"}``."""
    return {
        "id": row.id,
        "name": row.name,
        "size": row.size,
        "sha256": row.sha256,
        "content_type": row.content_type,
    }


def list_for(request_id: int) -> list[ApprovalAttachment]:
    """Return the current attachments of a request in upload order."""
    query = (
        select(ApprovalAttachment)
        .where(ApprovalAttachment.request_id == request_id)
        .order_by(ApprovalAttachment.id)
    )
    return list(db.session().execute(query).scalars())


def snapshot(request_id: int) -> list[dict[str, Any]]:
    """Return the list to freeze at submission (JSON-ready)."""
    return [attachment_json(a) for a in list_for(request_id)]


def manifest(row: ApprovalRequest) -> list[dict[str, Any]]:
    """Return the attachments the record lists: the frozen list once submitted, else the current one."""
    if row.attachments_frozen is not None and row.status not in EDITABLE:
        return list(row.attachments_frozen)
    return snapshot(row.id)


def decided_payload(row: ApprovalRequest) -> list[dict[str, Any]]:
    """Return the frozen list for ``approval_decided``: each item plus ``path`` to its stored bytes.

    ``path`` (str) names the immutable content-addressed file; receivers copy or read it, never move
    or change it. Paths rather than bytes keep a request with many large files out of memory.
    """
    return [{**item, "path": str(store.path_for(item["sha256"]))} for item in manifest(row)]


def clean_name(filename: str | None) -> str:
    """Return the file name to keep (no directories, no control or bidi characters, ≤ 200 characters)."""
    name = _UNSAFE.sub("", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name or name in (".", ".."):
        raise ApprovalError(
            "ファイル名がありません。ファイルを選んでください。", code="no_file", field="file"
        )
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_NAME - len(keep) - 1] + "." + keep if keep else name[:MAX_NAME]
    return name


def _check_editable(actor: User, row: ApprovalRequest | None) -> ApprovalRequest:
    """Return ``row`` if ``actor`` may change its attachments now; raise 404 / 403 / 409 otherwise."""
    if row is None or not access.can_view(actor, row):
        raise NotFound("起案が見つかりません。")
    if actor.id != row.drafter_id:
        raise Forbidden("添付ファイルを追加・削除できるのは起案者だけです。")
    if row.status not in EDITABLE:
        raise Conflict("起案後は添付ファイルを変更できません（起案者への差戻し後は変更できます）。", row.id)
    return row


def add(actor: User, request_id: int, stream: IO[bytes] | None, filename: str | None) -> ApprovalAttachment:
    """Attach the file read from ``stream`` to a draft (or sent-back request) of ``actor``; commit.

    Raises ``ApprovalError`` (400, no file), ``Invalid`` (422, empty, too many), ``TooLarge`` (413),
    ``UnsupportedType`` (415), ``NotFound`` / ``Forbidden`` / ``Conflict`` (not the caller's, or
    already submitted).
    """
    if stream is None:
        raise ApprovalError("添付するファイルを選んでください。", code="no_file", field="file")
    name = clean_name(filename)
    session = db.session()
    # Refuse early, before reading megabytes, and without holding the row lock while reading.
    _check_editable(actor, session.get(ApprovalRequest, request_id))
    db.end_read()
    staged = store.stage(stream, name)
    created = False
    try:
        with db.write():
            # The state may have changed while we read.
            row = _check_editable(actor, access.lock(request_id, actor))
            count = session.scalar(
                select(func.count())
                .select_from(ApprovalAttachment)
                .where(ApprovalAttachment.request_id == row.id)
            )
            if count >= MAX_ATTACHMENTS:
                raise Invalid(f"添付ファイルは{MAX_ATTACHMENTS}件までです。", code="too_many", field="file")
            created = store.place(staged)
            attachment = ApprovalAttachment(
                request_id=row.id,
                name=name,
                size=staged.size,
                sha256=staged.sha256,
                content_type=staged.content_type,
                created_at=calendar.now(),
                created_by=actor.id,
            )
            session.add(attachment)
            session.flush()
            audit.record(
                "approval.attach",
                actor=actor.username,
                target=f"approval:{row.id}",
                detail={
                    "attachment": attachment.id,
                    "name": name,
                    "size": staged.size,
                    "sha256": staged.sha256,
                },
            )
    except BaseException:
        if created and not store.is_referenced(staged.sha256):
            store.remove(staged.sha256)
        store.discard(staged)
        raise
    # A concurrent removal of the last other row with these bytes may have unlinked the file.
    store.ensure_placed(staged)
    store.discard(staged)
    return attachment


def remove(actor: User, request_id: int, attachment_id: int) -> None:
    """Remove an attachment from a draft (or sent-back request) of ``actor``; commit.

    The stored bytes are deleted too when no other attachment has the same content.
    """
    session = db.session()
    with db.write():
        row = _check_editable(actor, access.lock(request_id, actor))
        attachment = session.get(ApprovalAttachment, attachment_id)
        if attachment is None or attachment.request_id != row.id:
            raise NotFound("添付ファイルが見つかりません。")
        sha256, name = attachment.sha256, attachment.name
        session.delete(attachment)
        audit.record(
            "approval.detach",
            actor=actor.username,
            target=f"approval:{row.id}",
            detail={"attachment": attachment_id, "name": name, "sha256": sha256},
        )
    if not store.is_referenced(sha256):
        store.remove(sha256)


def for_download(viewer: User, request_id: int, attachment_id: int) -> tuple[ApprovalAttachment, Path]:
    """Return the attachment and its stored file for someone who may see the request; else NotFound."""
    row = access.get_visible(viewer, request_id)
    attachment = db.session().get(ApprovalAttachment, attachment_id)
    if attachment is None or attachment.request_id != row.id:
        raise NotFound("添付ファイルが見つかりません。")
    path = store.path_for(attachment.sha256)
    if not path.is_file():
        raise NotFound("添付ファイルの内容が見つかりません。管理者に連絡してください。")
    return attachment, path
