"""Approval requests and chat messages as index entries, read through chat's and approvals' own
read modules (``chat.indexing``, ``approvals.indexing``): the declared dependency direction.

A deleted message, or an id that no longer exists, maps to None: the indexer then removes its entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy.orm import Session

from approvals import indexing as approval_reads
from approvals.labels import STATUS_LABELS as STATUS_LABELS  # shown beside an approval hit
from chat import indexing as chat_reads
from docsearch.engine import IndexEntry
from docsearch.permissions import approval_acl, message_acl
from workspace import calendar


def _yyyymmdd(when: dt.datetime) -> int:
    day = calendar.to_jst(when).date()
    return day.year * 10000 + day.month * 100 + day.day


def approval_entry(request: approval_reads.IndexableRequest) -> IndexEntry:
    """Return the index entry of an approval request (every status: who may see it, may find it)."""
    meta = [request.document_number, request.classification, request.drafter_name]
    return IndexEntry(
        type="approval",
        object_id=request.id,
        title=request.title,
        body="\n".join([*(m for m in meta if m), request.body]),
        acl=approval_acl(request),
        department=request.department_code,
        fiscal_year=request.fiscal_year,
        date=_yyyymmdd(request.decided_at or request.created_at),
    )


def message_entry(message: chat_reads.IndexableMessage) -> IndexEntry | None:
    """Return the index entry of a chat message, or None for a deleted one (it leaves the index)."""
    if message.deleted:
        return None
    return IndexEntry(
        type="message",
        object_id=message.id,
        title="",  # the hit's title (channel and author) is drawn from the database when shown
        body=message.body,
        acl=message_acl(message),
        department=message.department_code or "",
        fiscal_year=calendar.fiscal_year(calendar.to_jst(message.created_at).date()),
        date=_yyyymmdd(message.created_at),
    )


def load_approvals(session: Session, ids: set[int]) -> dict[int, IndexEntry | None]:
    """Return the current entries of these requests (None: gone)."""
    found = approval_reads.requests_for_index(ids, session)
    return {i: approval_entry(found[i]) if i in found else None for i in ids}


def approval_ids(session: Session, batch: int) -> Iterator[list[int]]:
    """Yield every request id in batches."""
    return approval_reads.request_ids(session, batch)


def count_approvals(session: Session) -> int:
    """Return how many requests a rebuild visits."""
    return approval_reads.count_requests(session)


def load_messages(session: Session, ids: set[int]) -> dict[int, IndexEntry | None]:
    """Return the current entries of these messages (None: deleted or gone)."""
    found = chat_reads.messages_for_index(ids, session)
    return {i: message_entry(found[i]) if i in found else None for i in ids}


def message_ids(session: Session, batch: int) -> Iterator[list[int]]:
    """Yield every live message id in batches."""
    return chat_reads.live_message_ids(session, batch)


def count_messages(session: Session) -> int:
    """Return how many messages a rebuild visits."""
    return chat_reads.count_live_messages(session)
