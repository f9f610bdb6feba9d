"""Read-only views of approval requests for the search index and the document registry.

docsearch reads these; approvals never imports docsearch.  Nothing here writes or commits.  Every
function takes the session to read with (the indexer reads in a session of its own); ``None`` means
the app context's session.

Who may see a request is the rule of :mod:`approvals.access`, split so that an index can hold it:
the drafter; everyone *related* (on the frozen route, or who acted on it); today's deputy of a
related person (absences change daily, so that part is asked at query time through
:func:`absent_people_deputized_by`); administrators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from approvals import absence, attachments
from approvals.access import related_user_ids
from approvals.models import ApprovalRequest, DecidedRecord
from approvals.state import RequestState
from workspace import calendar, db


@dataclass(frozen=True)
class IndexableRequest:
    """What the index and the registry need of one 起案."""

    id: int
    title: str
    body: str
    status: str
    document_number: str | None
    classification: str | None  # free text as drafted (often a 文書分類 code)
    retention_years: int | None  # None = 永年
    department_code: str
    drafter_id: int
    drafter_name: str
    fiscal_year: int  # the 年度 of the 文書番号, else of the decision, else of the draft
    created_at: dt.datetime
    decided_at: dt.datetime | None
    related_user_ids: frozenset[int]  # on the route or acted on it (see the module docstring)


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session()


def _fiscal_year(row: ApprovalRequest) -> int:
    if row.number_fiscal_year is not None:
        return row.number_fiscal_year
    when = row.decided_at or row.submitted_at or row.created_at
    return calendar.fiscal_year(calendar.to_jst(when).date())


def requests_for_index(ids: Iterable[int], session: Session | None = None) -> dict[int, IndexableRequest]:
    """Return the requests with these ids that exist, by id."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        _session(session)
        .execute(select(ApprovalRequest).where(ApprovalRequest.id.in_(wanted)))
        .unique()
        .scalars()
        .all()
    )
    found: dict[int, IndexableRequest] = {}
    for row in rows:
        related = related_user_ids(RequestState.from_dict(row.state))
        found[row.id] = IndexableRequest(
            id=row.id,
            title=row.title,
            body=row.body or "",
            status=row.status,
            document_number=row.document_number,
            classification=row.classification,
            retention_years=row.retention_years,
            department_code=row.department.code,
            drafter_id=row.drafter_id,
            drafter_name=row.drafter.display_name,
            fiscal_year=_fiscal_year(row),
            created_at=row.created_at,
            decided_at=row.decided_at,
            related_user_ids=frozenset(related),
        )
    return found


def request_ids(session: Session | None = None, batch: int = 500) -> Iterator[list[int]]:
    """Yield the ids of every request, in ascending batches (for a rebuild)."""
    last = 0
    while True:
        ids = list(
            _session(session)
            .execute(
                select(ApprovalRequest.id)
                .where(ApprovalRequest.id > last)
                .order_by(ApprovalRequest.id)
                .limit(batch)
            )
            .scalars()
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def count_requests(session: Session | None = None) -> int:
    """Return how many requests exist."""
    return _session(session).execute(select(func.count()).select_from(ApprovalRequest)).scalar_one()


def absent_people_deputized_by(user_id: int, on: dt.date | None = None) -> list[int]:
    """Return the ids of the people absent today (or on ``on``) whose deputy is ``user_id``."""
    return absence.deputized_for(user_id, on)


def decided_records(
    exclude: Iterable[int] = (), session: Session | None = None, limit: int = 100
) -> list[tuple[int, bytes]]:
    """Return (request id, signed PDF) of approved requests whose record exists, oldest first,
    leaving out the ids in ``exclude`` (the ones the caller has dealt with already)."""
    skip = set(exclude)
    query = (
        select(DecidedRecord.request_id, DecidedRecord.pdf)
        .join(ApprovalRequest, ApprovalRequest.id == DecidedRecord.request_id)
        .where(ApprovalRequest.status == "approved")
        .order_by(DecidedRecord.request_id)
    )
    if skip:
        query = query.where(DecidedRecord.request_id.not_in(skip))
    return [(rid, bytes(pdf)) for rid, pdf in _session(session).execute(query.limit(limit))]


def decided_record(request_id: int, session: Session | None = None) -> bytes | None:
    """Return the signed PDF of an approved request, or None (not approved, or no record yet)."""
    row = _session(session).execute(
        select(DecidedRecord.pdf)
        .join(ApprovalRequest, ApprovalRequest.id == DecidedRecord.request_id)
        .where(DecidedRecord.request_id == request_id, ApprovalRequest.status == "approved")
    ).first()
    return bytes(row[0]) if row is not None else None


def decided_attachments(request_id: int, session: Session | None = None) -> list[dict[str, object]]:
    """Return the attachments frozen with an approved request (name, size, sha256, content_type and
    ``path`` to the stored bytes), as ``approval_decided`` carries them; [] for any other request."""
    row = _session(session).get(ApprovalRequest, request_id)
    if row is None or row.status != "approved":
        return []
    return attachments.decided_payload(row)
