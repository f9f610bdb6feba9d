"""One search hit per decided 決裁: the request, its filed 起案用紙 PDF and its filed attachments.

A decided request is in the index three ways (the request itself, the signed record filed in the
registry, each attachment filed beside it), so the same 決裁 could fill three rows of a page.  The
page's rows of one request are merged into the best-ranked one, which carries links to the record
and to each attachment the caller may open; the request's own row is preferred as the one shown, so
the hit reads as the 決裁 it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from approvals import indexing as approval_reads
from docsearch.models import ApprovalAttachmentFiling, ApprovalFiling, Document
from docsearch.permissions import approval_acl, can_view
from workspace import db
from workspace.models import User


@dataclass
class Filings:
    """The filed documents of the requests on a page: which request each document belongs to."""

    record_of_request: dict[int, Document] = field(default_factory=dict)
    attachments_of_request: dict[int, list[Document]] = field(default_factory=dict)
    request_of_document: dict[int, int] = field(default_factory=dict)
    #: The requests the filed documents on the page belong to, as the index reads them.
    requests: dict[int, approval_reads.IndexableRequest] = field(default_factory=dict)

    def is_record(self, document_id: int) -> bool:
        """True when the document is the filed 起案用紙 of a request (not an attachment)."""
        request_id = self.request_of_document.get(document_id)
        record = self.record_of_request.get(request_id) if request_id is not None else None
        return record is not None and record.id == document_id


def filings_for(document_ids: list[int], request_ids: list[int]) -> Filings:
    """Return the filings touching these documents or requests (three queries, whatever the page)."""
    session = db.session()
    found = Filings()
    wanted = set(request_ids)
    if document_ids:
        for model in (ApprovalFiling, ApprovalAttachmentFiling):
            rows = session.execute(select(model.request_id).where(model.document_id.in_(document_ids)))
            wanted.update(rows.scalars())
    if not wanted:
        return found
    for row in session.execute(select(ApprovalFiling).where(ApprovalFiling.request_id.in_(wanted))).scalars():
        found.record_of_request[row.request_id] = row.document
        found.request_of_document[row.document_id] = row.request_id
    attachments = session.execute(
        select(ApprovalAttachmentFiling)
        .where(ApprovalAttachmentFiling.request_id.in_(wanted))
        .order_by(ApprovalAttachmentFiling.filed_at, ApprovalAttachmentFiling.name)
    ).scalars()
    for row in attachments:
        found.attachments_of_request.setdefault(row.request_id, []).append(row.document)
        found.request_of_document[row.document_id] = row.request_id
    found.requests = approval_reads.requests_for_index(
        {found.request_of_document[d] for d in document_ids if d in found.request_of_document}
    )
    return found


def group_key(kind: str, object_id: int, filings: Filings) -> int | None:
    """The request a row belongs to (an approval, or a document filed from one), else None."""
    if kind == "approval":
        return object_id
    if kind == "document":
        return filings.request_of_document.get(object_id)
    return None


def filed_links(request_id: int, filings: Filings, user: User) -> list[dict[str, Any]]:
    """The record and attachments of a request that ``user`` may open, as result links."""
    links = []
    record = filings.record_of_request.get(request_id)
    if record is not None and can_view(user, record):
        links.append(_link("record", record))
    for doc in filings.attachments_of_request.get(request_id, []):
        if can_view(user, doc):
            links.append(_link("attachment", doc))
    return links


def approval_link(request_id: int, filings: Filings, tokens: set[str]) -> dict[str, Any] | None:
    """The request itself as a link, when the caller may open it (a filed document's row)."""
    request = filings.requests.get(request_id)
    if request is None or not tokens & set(approval_acl(request)):
        return None
    return {"id": request.id, "title": request.title, "url": f"/approvals/{request.id}"}


def _link(kind: str, doc: Document) -> dict[str, Any]:
    version = doc.current_version
    return {
        "kind": kind,
        "id": doc.id,
        "title": doc.title,
        "filename": version.filename if version else None,
        "url": f"/documents/{doc.id}",
    }
