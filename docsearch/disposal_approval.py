"""廃棄 through a 決裁: records staff propose expired documents for disposal as an approval request.

A municipal office does not destroy records on one clerk's say: the 廃棄 is decided (決裁) like any
other matter.  ``propose`` drafts and submits an approval request on the ``DOCSEARCH_DISPOSAL_ROUTE``
route (default ``general``) listing the documents, and writes the ``DisposalProposal`` in the same
transaction.  When the request is decided, ``approval_changed`` arrives and ``settle`` closes the
proposal in a transaction of its own: an approved request disposes of each listed document that is
still active and expired (``retention.dispose_locked``, leaving the usual disposal record, which
names the 決裁); a rejected or withdrawn one disposes of nothing.  A document disposed of directly
or extended (延長) since the proposal is left as it is, and the proposal's ``outcome`` says why.

If settling fails (the process dies after the decision committed), ``workspace disposals settle``
settles every proposal whose request is already decided; settling is idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app
from sqlalchemy import select

from approvals import indexing as approval_reads
from approvals import service as approval_service
from approvals.errors import ApprovalError
from docsearch.errors import DocumentError
from docsearch.models import STATUS_ACTIVE, DisposalProposal, Document
from docsearch.retention import checked_reason, dispose_locked, require_records
from workspace import audit, calendar, db, inputs, outbox
from workspace.models import User, utcnow

log = logging.getLogger(__name__)

MAX_DOCUMENTS = 200
PENDING = "pending"
#: approval status → the proposal's closing status.
CLOSING = {"approved": "disposed", "rejected": "rejected", "withdrawn": "withdrawn"}
STATUS_LABELS = {PENDING: "決裁中", "disposed": "廃棄済み", "rejected": "却下", "withdrawn": "取下げ"}


def _document_ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise DocumentError(422, "廃棄する文書を1件以上選んでください。")
    if len(value) > MAX_DOCUMENTS:
        raise DocumentError(422, f"一度に起案できるのは{MAX_DOCUMENTS}件までです。")
    ids: list[int] = []
    for item in value:
        number = inputs.parse_id(item)  # a JSON number or a form's text; ASCII digits, bounded
        if number is None:
            raise DocumentError(422, "文書の指定が正しくありません。")
        if number not in ids:
            ids.append(number)
    return ids


def _pending_document_ids() -> set[int]:
    rows = db.session().execute(
        select(DisposalProposal.document_ids).where(DisposalProposal.status == PENDING)
    )
    return {int(i) for (ids,) in rows for i in ids}


def _line(doc: Document) -> str:
    until = calendar.wareki(doc.retention_until) if doc.retention_until else "永年"
    number = doc.document_number or "番号なし"
    return f"・{number}　{doc.title}（{doc.department.name}・{doc.fiscal_year}年度・満了 {until}）"


@db.writes  # the checks below and the writes: one unit, so two proposals cannot race
def propose(
    actor: User, document_ids: Any, reason: str | None, today: dt.date | None = None
) -> DisposalProposal:
    """Draft and submit the 廃棄 決裁 for expired documents; commit; return the proposal.

    Raises DocumentError: 403 not records staff, 404 an unknown document, 409 one is disposed, not
    expired or already in a pending proposal, 422 no reason / no documents / the route refused.
    Nothing is written when it raises.
    """
    require_records(actor)
    reason = checked_reason(reason)
    ids = _document_ids(document_ids)
    today = today or calendar.today()
    session = db.session()
    docs = {d.id: d for d in session.execute(select(Document).where(Document.id.in_(ids))).scalars()}
    missing = [i for i in ids if i not in docs]
    if missing:
        raise DocumentError(404, "文書が見つかりません。", "not_found")
    for doc in docs.values():
        if doc.status != STATUS_ACTIVE:
            raise DocumentError(409, f"「{doc.title}」はすでに廃棄されています。", "already_disposed")
        if doc.retention_until is None or doc.retention_until >= today:
            raise DocumentError(409, f"「{doc.title}」は保存期間が満了していません。", "not_expired")
    if set(ids) & _pending_document_ids():
        raise DocumentError(409, "決裁中の廃棄起案に含まれている文書があります。", "already_proposed")
    ordered = [docs[i] for i in ids]
    body = "\n".join(
        [
            "保存期間が満了した次の文書を廃棄してよろしいか伺います。",
            "",
            f"理由: {reason}",
            "",
            *(_line(doc) for doc in ordered),
        ]
    )
    made: list[DisposalProposal] = []

    def link(request: Any) -> None:
        proposal = DisposalProposal(
            request_id=request.id, document_ids=ids, reason=reason, proposer=actor.username, outcome={}
        )
        session.add(proposal)
        audit.record(
            "document.dispose_proposed",
            actor=actor.username,
            target=f"approval:{request.id}",
            detail={"documents": ids, "reason": reason},
        )
        made.append(proposal)

    route = str(current_app.config.get("DOCSEARCH_DISPOSAL_ROUTE") or "general")
    data = {
        "route": route,
        "title": f"文書の廃棄について（{len(ids)}件）",
        "body": body,
        "retention_years": 30,  # the decision to destroy records is itself kept long
        "submit": True,
    }
    try:
        link(approval_service.create(actor, data))  # joins this unit: both commit, or neither
    except ApprovalError as error:
        message = f"廃棄の起案ができませんでした: {error.message}"
        raise DocumentError(422, message, "approval_refused") from None
    return made[0]


SETTLE_JOB = "docsearch.settle_disposal"


def on_approval_changed(_sender: Any = None, **kwargs: Any) -> None:
    """Receiver of ``approval_changed``: once the request is decided, owe the settling of its proposal
    (an outbox job that commits with the decision; ``workspace disposals settle`` also repairs)."""
    request_id, status = kwargs.get("request_id"), kwargs.get("status")
    if request_id is None or status not in CLOSING:
        return
    with db.write():  # joins the sender's unit (the decision's): the job commits with it
        proposal = db.session().scalar(
            select(DisposalProposal.id).where(
                DisposalProposal.request_id == int(request_id), DisposalProposal.status == PENDING
            )
        )
        if proposal is not None:  # most decisions are not 廃棄 proposals: they owe nothing here
            outbox.owe(SETTLE_JOB, int(request_id))


@outbox.handler(SETTLE_JOB)
def settle_job(request_id: int) -> None:
    """The outbox job: settle the proposal of a decided request."""
    settle(request_id)


@db.writes
def settle(request_id: int, today: dt.date | None = None) -> DisposalProposal | None:
    """Close the pending proposal of a decided request (disposing on approval); commit.

    Returns the proposal, or None when the request has no pending proposal or is not decided yet.
    """
    session = db.session()
    proposal = session.execute(
        select(DisposalProposal)
        .where(DisposalProposal.request_id == request_id, DisposalProposal.status == PENDING)
        .with_for_update()
    ).scalar_one_or_none()
    if proposal is None:
        return None
    request = approval_reads.requests_for_index([request_id]).get(request_id)
    closing = CLOSING.get(request.status) if request is not None else "withdrawn"
    if closing is None:  # still on its route (or sent back): nothing to do yet
        return None
    today = today or calendar.today()
    outcome: dict[str, str] = {}
    if closing == "disposed":
        number = request.document_number or f"起案 {request_id}"
        reason = f"{proposal.reason}（{number}の決裁による廃棄）"
        for doc_id in proposal.document_ids:
            doc = session.get(Document, int(doc_id))
            if doc is None or doc.status != STATUS_ACTIVE:
                outcome[str(doc_id)] = "already_disposed"
            elif doc.retention_until is None or doc.retention_until >= today:
                outcome[str(doc_id)] = "extended"  # 延長 since the proposal: the later decision wins
            else:
                dispose_locked(doc, reason, proposal.proposer)
                outcome[str(doc_id)] = "disposed"
    proposal.status, proposal.outcome, proposal.closed_at = closing, outcome, utcnow()
    audit.record(
        "document.dispose_decided",
        actor=proposal.proposer,
        target=f"approval:{request_id}",
        detail={"status": closing, "outcome": outcome},
    )
    return proposal


def settle_decided() -> int:
    """Settle every pending proposal whose request is decided; return how many were closed."""
    request_ids = list(
        db.session()
        .execute(select(DisposalProposal.request_id).where(DisposalProposal.status == PENDING))
        .scalars()
    )
    db.session().rollback()
    return sum(1 for request_id in request_ids if settle(request_id) is not None)


def proposals(actor: User, limit: int = 50) -> list[DisposalProposal]:
    """Return the newest disposal proposals (records staff only)."""
    require_records(actor)
    return list(
        db.session()
        .execute(select(DisposalProposal).order_by(DisposalProposal.id.desc()).limit(limit))
        .scalars()
    )


def proposal_json(proposal: DisposalProposal) -> dict[str, Any]:
    """The API shape of a proposal."""
    return {
        "id": proposal.id,
        "request_id": proposal.request_id,
        "url": f"/approvals/{proposal.request_id}",
        "document_ids": proposal.document_ids,
        "reason": proposal.reason,
        "proposer": proposal.proposer,
        "status": proposal.status,
        "status_label": STATUS_LABELS.get(proposal.status, proposal.status),
        "outcome": proposal.outcome,
        "created_at": calendar.isoformat(proposal.created_at),
        "closed_at": calendar.isoformat(proposal.closed_at),
    }
