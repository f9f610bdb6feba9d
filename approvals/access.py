"""Who may see a request: the one place that decides it, for pages, the API, attachments and the index.

May see: the drafter; everyone *related* (on the frozen route, or who acted on it); today's deputy of
a related person (不在設定); administrators. Anyone else is told the request does not exist — the same
404 as for an id that names nothing, before any other rule could tell the two apart (403 vs 404).

The search index holds the same rule split in two (``related_user_ids`` is stored with the entry,
the deputies are asked at query time), so it uses :func:`related_user_ids` from here.
"""

from __future__ import annotations

from sqlalchemy import select

from approvals import absence
from approvals.errors import NotFound
from approvals.models import ApprovalRequest
from approvals.state import RequestState, route_user_ids
from workspace import db, inputs
from workspace.models import User

NOT_FOUND = "起案が見つかりません。"


def related_user_ids(state: RequestState) -> set[int]:
    """Return the people on the frozen route (skipped people and 供覧 readers included) or in its history."""
    return route_user_ids(state) | {h.actor_id for h in state.history}


def can_view(user: User, row: ApprovalRequest, absences: dict[int, int] | None = None) -> bool:
    """True for the drafter, anyone on the route or who acted on it, their deputies today, admins.

    ``absences`` ({absent id: deputy id}) is today's map when not given.
    """
    if user.id == row.drafter_id or user.has_role("admin"):
        return True
    related = related_user_ids(RequestState.from_dict(row.state))
    if user.id in related:
        return True
    absences = absence.active_map() if absences is None else absences
    return any(deputy == user.id and absent in related for absent, deputy in absences.items())


def get_visible(user: User, request_id: int) -> ApprovalRequest:
    """Return the request if ``user`` may see it; raise :class:`NotFound` otherwise (no existence leak)."""
    row = db.session().get(ApprovalRequest, request_id) if inputs.json_id(request_id) else None
    if row is None or not can_view(user, row):
        raise NotFound(NOT_FOUND)
    return row


def lock(request_id: int, viewer: User, absences: dict[int, int] | None = None) -> ApprovalRequest:
    """Return the request row locked for this transaction (fresh from the database).

    NotFound unless ``viewer`` may see it: a request that exists but is not theirs answers exactly
    like one that does not exist, before any other rule can tell them apart (403 vs 404).
    """
    if inputs.json_id(request_id) is None:  # beyond any id (a bulk list is JSON): names nothing
        raise NotFound(NOT_FOUND)
    row = (
        db.session()
        .execute(
            select(ApprovalRequest)
            .where(ApprovalRequest.id == request_id)
            .with_for_update(of=ApprovalRequest)
            .execution_options(populate_existing=True)
        )
        .unique()
        .scalar_one_or_none()
    )
    if row is None or not can_view(viewer, row, absences):
        raise NotFound(NOT_FOUND)
    return row
