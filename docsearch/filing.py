"""Approved 決裁 are filed in the registry automatically, with their signed PDF (issue 5, item 7).

``approval_decided(request_id, pdf, attachments)`` arrives inside the transaction that keeps the
signed record; it owes the outbox job ``docsearch.file``, which commits with the record.  The job files it
in a transaction of its own: whatever happens there, the decision and its record stand; a failure is
retried by the outbox (``file_decision`` is idempotent: the ``doc_approval_filings`` row, keyed by
request, commits with the document or not at all, so a repeated job files nothing new).
``workspace file-decisions`` files every decided request that is not filed yet (decisions made before
this, or a data dir restored without its jobs).

What the filed document gets:

* 件名, 文書番号, 担当課 and 保存年限 from the request (None = 永年, as in the approvals API);
* 年度 of the 文書番号 (else of the decision);
* 文書分類 when the request's classification names a registered code (or, failing that, a label
  of the table); otherwise none, and the drafted text is kept as a tag ``分類:…``;
* 秘区分 ``department`` (課内限り) by default — a decided 起案 often holds personal or undecided
  matters of the 課, so it is not opened to the whole office unasked.  Everyone who could see the
  request (drafter, route members and whoever acted on it) is granted reading, so filing never
  takes away what the approvals screen showed them.  Records staff may widen it afterwards.
  ``DOCSEARCH_FILING_VISIBILITY`` (app config) chooses another default.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from approvals import indexing as approval_reads
from docsearch import registry
from docsearch.errors import DocumentError
from docsearch.models import (
    VISIBILITIES,
    ApprovalAttachmentFiling,
    ApprovalFiling,
    Classification,
    Document,
    DocumentGrant,
)
from workspace import db, outbox

log = logging.getLogger(__name__)

DEFAULT_VISIBILITY = "department"


FILE_JOB = "docsearch.file"


def on_approval_decided(_sender: Any = None, **kwargs: Any) -> None:
    """Receiver of ``approval_decided``: owe the filing of the record, in the record's transaction."""
    request_id, pdf = kwargs.get("request_id"), kwargs.get("pdf")
    if request_id is None or not pdf:
        return
    with db.write():  # joins the sender's unit (the record's): the job commits with the record
        outbox.owe(FILE_JOB, int(request_id))


@outbox.handler(FILE_JOB)
def file_job(request_id: int) -> None:
    """The outbox job: file the decided request's signed record and its attachments."""
    pdf = approval_reads.decided_record(request_id)
    if pdf is None:
        return  # not approved (any more), or no record: nothing to file
    file_decision(request_id, pdf)
    _, failures = file_attachments(request_id, approval_reads.decided_attachments(request_id))
    for name, reason in failures:
        log.warning("attachment %r of request %s was not filed: %s", name, request_id, reason)


def filing_of(request_id: int) -> Document | None:
    """Return the document a request was filed as, or None."""
    row = db.session().get(ApprovalFiling, request_id)
    return row.document if row is not None else None


def _classification(text: str | None) -> Classification | None:
    if not text:
        return None
    session = db.session()
    found = session.execute(select(Classification).where(Classification.code == text)).scalar_one_or_none()
    if found is not None:
        return found
    matches = [c for c in registry.list_classifications() if text in (c.label, c.minor, c.middle)]
    return matches[0] if len(matches) == 1 else None


def _metadata(request: approval_reads.IndexableRequest, tags: list[str]) -> dict[str, Any]:
    """The registry fields of a filed 決裁 (the record and each attachment alike)."""
    visibility = current_app.config.get("DOCSEARCH_FILING_VISIBILITY") or DEFAULT_VISIBILITY
    if visibility not in VISIBILITIES:
        raise DocumentError(422, f"DOCSEARCH_FILING_VISIBILITY={visibility!r} is not a 秘区分")
    classification = _classification(request.classification)
    if request.classification and classification is None:
        tags = [*tags, f"分類:{request.classification}"]
    return {
        "title": request.title,
        "department_code": request.department_code,
        "fiscal_year": str(request.fiscal_year),
        "classification": classification.code if classification else "",
        "retention_years": "permanent" if request.retention_years is None else str(request.retention_years),
        "visibility": visibility,
        "document_number": request.document_number or "",
        "tags": tags,
    }


def _readers(request: approval_reads.IndexableRequest) -> list[int]:
    """Everyone who could see the request keeps reading what was filed from it."""
    return sorted(request.related_user_ids | {request.drafter_id})


def file_decision(request_id: int, pdf: bytes) -> Document | None:
    """Register the signed record of an approved request; return the new document.

    Returns None (and files nothing) when the request was filed already, does not exist or is not
    approved.  Raises DocumentError when the registry refuses the metadata or the file.
    """
    session = db.session()
    if session.get(ApprovalFiling, request_id) is not None:
        return None
    request = approval_reads.requests_for_index([request_id]).get(request_id)
    if request is None or request.status != "approved":
        log.warning("request %s is not an approved request: not filed", request_id)
        return None
    data = _metadata(request, ["決裁"])
    readers = _readers(request)

    def link(doc: Document) -> None:
        doc.grants = [DocumentGrant(user_id=uid) for uid in readers]
        session.add(ApprovalFiling(request_id=request_id, document=doc))

    try:
        doc = registry.register(
            None,
            data,
            io.BytesIO(pdf),
            f"approval-{request_id}.pdf",
            audit_actor="system",
            before_commit=link,
        )
    except IntegrityError:  # a concurrent filing of the same request committed first
        session.rollback()
        log.info("request %s was filed concurrently; nothing more filed", request_id)
        return None
    log.info("decided request %s filed as document %s", request_id, doc.id)
    return doc


def file_attachments(request_id: int, items: list[dict[str, Any]]) -> tuple[int, list[tuple[str, str]]]:
    """File each attachment of a decided request that is not filed yet, as a document of its own
    beside the record (same 課, 年度, 分類, 保存年限, 秘区分 and readers); return how many were filed
    and (name, reason) of those the registry refused (type or size): they stay listed with their
    digest in the signed PDF, and in the approvals store.

    Each attachment commits on its own; a repeated or concurrent call files nothing twice.
    """
    session = db.session()
    request = approval_reads.requests_for_index([request_id]).get(request_id)
    if request is None or request.status != "approved" or not items:
        return 0, []
    done = set(
        session.execute(
            select(ApprovalAttachmentFiling.sha256).where(ApprovalAttachmentFiling.request_id == request_id)
        ).scalars()
    )
    readers = _readers(request)
    filed, failures = 0, []
    for item in items:
        digest, name = str(item["sha256"]), str(item["name"])
        if digest in done:
            continue
        data = _metadata(request, ["決裁", "決裁添付"])
        data["title"] = f"{request.title}（添付: {name}）"[:300]

        def link(doc: Document, digest: str = digest, name: str = name) -> None:
            doc.grants = [DocumentGrant(user_id=uid) for uid in readers]
            session.add(
                ApprovalAttachmentFiling(request_id=request_id, sha256=digest, name=name, document=doc)
            )

        try:
            with open(item["path"], "rb") as stream:
                registry.register(None, data, stream, name, audit_actor="system", before_commit=link)
        except DocumentError as error:
            session.rollback()
            failures.append((name, error.message))
            continue
        except OSError as error:  # the approvals store lost the file: say so, file the rest
            session.rollback()
            failures.append((name, f"ファイルを読めません: {error.strerror}"))
            continue
        except IntegrityError:  # filed concurrently
            session.rollback()
        else:
            filed += 1
        done.add(digest)
    return filed, failures


def attachments_of(doc: Document) -> list[Document]:
    """Return the documents filed from the attachments of the 決裁 that ``doc`` is the record of."""
    filing = (
        db.session()
        .execute(select(ApprovalFiling).where(ApprovalFiling.document_id == doc.id))
        .scalar_one_or_none()
    )
    if filing is None:
        return []
    rows = db.session().execute(
        select(ApprovalAttachmentFiling)
        .where(ApprovalAttachmentFiling.request_id == filing.request_id)
        .order_by(ApprovalAttachmentFiling.filed_at, ApprovalAttachmentFiling.name)
    )
    return [row.document for row in rows.scalars()]


def record_of(doc: Document) -> Document | None:
    """Return the filed record of the 決裁 that ``doc`` was attached to, or None."""
    row = (
        db.session()
        .execute(select(ApprovalAttachmentFiling).where(ApprovalAttachmentFiling.document_id == doc.id))
        .scalar_one_or_none()
    )
    if row is None:
        return None
    filing = db.session().get(ApprovalFiling, row.request_id)
    return filing.document if filing is not None else None


def file_unfiled(limit: int | None = None) -> tuple[int, list[tuple[int, str]]]:
    """File every decided request with a record that is not filed yet; return (filed, failures).

    Each request is filed in its own transaction; a failure is reported and the rest go on.
    """
    filed, failures = 0, []
    done = set(db.session().execute(select(ApprovalFiling.request_id)).scalars())
    while limit is None or filed + len(failures) < limit:
        batch = approval_reads.decided_records(exclude=done, limit=50)
        db.session().rollback()  # end the read: each filing opens a transaction of its own
        if not batch:
            break
        for request_id, pdf in batch:
            done.add(request_id)
            try:
                if file_decision(request_id, pdf) is not None:
                    filed += 1
            except Exception as error:  # noqa: BLE001 - reported per request, the rest go on
                db.session().rollback()
                failures.append((request_id, getattr(error, "message", None) or str(error)))
    return filed, failures


def file_unfiled_attachments() -> tuple[int, list[tuple[int, str, str]]]:
    """File the attachments of every filed 決裁 that are not filed yet; return (filed, refused) with
    refused as (request id, attachment name, reason).  A refused attachment is not an error: the
    registry does not accept its type or size, and it is tried again on the next run."""
    request_ids = list(
        db.session().execute(select(ApprovalFiling.request_id).order_by(ApprovalFiling.request_id)).scalars()
    )
    filed, refused = 0, []
    for request_id in request_ids:
        items = approval_reads.decided_attachments(request_id)
        db.session().rollback()
        if not items:
            continue
        count, failures = file_attachments(request_id, items)
        filed += count
        refused.extend((request_id, name, reason) for name, reason in failures)
    return filed, refused
