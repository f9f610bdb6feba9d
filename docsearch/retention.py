"""Retention (保存年限): the 満了 list, 廃棄 (disposal) and 延長 (extension), by records staff.

A disposal deletes the document's versions and every stored file no other document still uses
(rows in the transaction, files after the commit), removes the index entry through the outbox,
and leaves a ``DisposalRecord`` saying what was disposed, when, by whom and why.  The document row
stays with status ``disposed`` so the record and the audit log keep pointing at something.
Disposal through an approval (起案) is ``docsearch.disposal_approval``; it ends in ``dispose_locked``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from docsearch import files, indexer
from docsearch.errors import DocumentError
from docsearch.models import (
    STATUS_ACTIVE,
    STATUS_DISPOSED,
    DisposalRecord,
    Document,
    DocumentVersion,
    RetentionExtension,
    StoredFile,
)
from docsearch.permissions import is_records
from workspace import audit, calendar, db
from workspace.models import User


def require_records(actor: User) -> None:
    """Raise 403 unless actor is records staff (or an administrator)."""
    if not is_records(actor):
        raise DocumentError(403, "保存期間の管理は文書担当者だけが行えます。")


def expired(actor: User, as_of: dt.date | None = None) -> list[Document]:
    """Return active documents whose 保存期間満了日 has passed by as_of (default today), oldest first."""
    require_records(actor)
    as_of = as_of or calendar.today()
    query = (
        select(Document)
        .where(
            Document.status == STATUS_ACTIVE,
            Document.retention_until.is_not(None),
            Document.retention_until < as_of,
        )
        .order_by(Document.retention_until, Document.id)
    )
    return list(db.session().execute(query).scalars().unique())


def _get(doc_id: int) -> Document:
    doc = db.session().get(Document, doc_id)
    if doc is None:
        raise DocumentError(404, "文書が見つかりません。", "not_found")
    return doc


def checked_reason(reason: str | None) -> str:
    """Return the stripped reason of a 廃棄 or 延長; raise 422 when it is empty or too long."""
    if reason is not None and not isinstance(reason, str):
        raise DocumentError(422, "理由は文字列で入力してください。")
    reason = (reason or "").strip()
    if not reason:
        raise DocumentError(422, "理由を入力してください。")
    if len(reason) > 2000:
        raise DocumentError(422, "理由は2000文字以内で入力してください。")
    return reason


@db.writes
def dispose(actor: User, doc_id: int, reason: str | None, today: dt.date | None = None) -> DisposalRecord:
    """Dispose (廃棄) an expired document and commit; return the disposal record.

    Raises DocumentError: 403 not records staff, 404 unknown, 409 already disposed or not yet
    expired (永年 never expires), 422 no reason.
    """
    require_records(actor)
    reason = checked_reason(reason)
    doc = _get(doc_id)
    today = today or calendar.today()
    if doc.status != STATUS_ACTIVE:
        raise DocumentError(409, "この文書はすでに廃棄されています。", "already_disposed")
    if doc.retention_until is None or doc.retention_until >= today:
        raise DocumentError(409, "保存期間が満了していないため廃棄できません。", "not_expired")
    return dispose_locked(doc, reason, actor.username)


@db.joins_unit
def dispose_locked(doc: Document, reason: str, actor_name: str) -> DisposalRecord:
    """Dispose of an active document within the caller's write unit (the caller checked).

    Writes the disposal record, deletes the versions and every stored file no other document
    uses (the files themselves after the commit), and owes the index the removal.
    """
    session = db.session()
    record = DisposalRecord(
        document_id=doc.id,
        title=doc.title,
        document_number=doc.document_number,
        department_code=doc.department.code,
        fiscal_year=doc.fiscal_year,
        retention_until=doc.retention_until,
        files=[
            {"number": v.number, "filename": v.filename, "sha256": v.sha256, "size": v.file.size}
            for v in doc.versions
        ],
        reason=reason,
        actor=actor_name,
    )
    session.add(record)
    digests = {v.sha256 for v in doc.versions}
    doc.versions.clear()  # delete-orphan: the version rows go
    doc.status = STATUS_DISPOSED
    session.flush()
    orphaned = []
    for digest in sorted(digests):
        still_used = session.execute(
            select(DocumentVersion.id).where(DocumentVersion.sha256 == digest).limit(1)
        ).first()
        if still_used is None:
            session.delete(session.get(StoredFile, digest))
            orphaned.append(digest)
    audit.record("document.dispose", actor=actor_name, target=f"document:{doc.id}", detail={"reason": reason})
    indexer.enqueue("document", doc.id)
    indexer.drain_after_commit()

    def _remove_files() -> None:
        for digest in orphaned:
            files.remove(digest)

    db.on_commit(_remove_files)
    return record


@db.writes
def extend(
    actor: User, doc_id: int, reason: str | None, new_until: dt.date | None, *, permanent: bool = False
) -> RetentionExtension:
    """Extend (延長) a document's retention to new_until (or 永年) and commit; return the record.

    Raises DocumentError: 403, 404, 409 disposed or already 永年, 422 no reason or a date not later
    than the current end.
    """
    require_records(actor)
    reason = checked_reason(reason)
    doc = _get(doc_id)
    if doc.status != STATUS_ACTIVE:
        raise DocumentError(409, "廃棄済みの文書は延長できません。", "already_disposed")
    if doc.retention_until is None:
        raise DocumentError(409, "永年保存の文書は延長できません。", "permanent")
    if not permanent:
        if new_until is None:
            raise DocumentError(422, "新しい保存期間満了日を入力してください。")
        if new_until <= doc.retention_until:
            raise DocumentError(422, "新しい満了日は現在の満了日より後にしてください。")
    record = RetentionExtension(
        document_id=doc.id,
        previous_until=doc.retention_until,
        new_until=None if permanent else new_until,
        reason=reason,
        actor=actor.username,
    )
    doc.retention_until = record.new_until
    if permanent:
        doc.retention_years = None
    db.session().add(record)
    audit.record(
        "document.extend",
        actor=actor.username,
        target=f"document:{doc.id}",
        detail={"from": str(record.previous_until), "to": str(record.new_until), "reason": reason},
    )
    return record


def disposals(actor: User) -> list[DisposalRecord]:
    """Return every disposal record, newest first (records staff only)."""
    require_records(actor)
    return list(db.session().execute(select(DisposalRecord).order_by(DisposalRecord.id.desc())).scalars())
