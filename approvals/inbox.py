"""The inbox: task rows derived from each request's state, and the indexed queries that read them.

``sync_tasks`` runs in the transaction that changes a request, so the inbox can never disagree with
the state it is derived from. Lists:

* 未処理 ``pending``: the request waits for me — or for someone who is away and named me deputy —
  or it is my own request sent back to me (差戻し: correcting it is my next task);
* 起案中 ``in_progress``: my own requests not finished and not waiting for me (draft, in_progress);
* 後閲 ``post_review``: someone acted for me (代決 / 引上げ) and I have not read it yet;
* 処理済み ``done``: requests I acted on, and my own finished ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, select

from approvals import absence, machine
from approvals.labels import ACTION_LABELS, approve_label
from approvals.models import (
    TASK_CIRCULATE,
    TASK_DONE,
    TASK_PENDING,
    TASK_POST_REVIEW,
    ApprovalRequest,
    ApprovalTask,
    RouteTemplateVersion,
)
from approvals.state import (
    FINISHED,
    NOTIFIED,
    SENT_BACK,
    RequestState,
    pending_user_ids,
    post_review_user_ids,
)
from workspace import calendar, db
from workspace.models import User

OPEN_STATUSES = ("draft", "in_progress")  # sent_back is under 未処理 (see desired_tasks)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def desired_tasks(state: RequestState) -> set[tuple[int, str]]:
    """Return the (user id, kind) pairs the inbox should hold for a request in ``state``."""
    tasks = {(uid, TASK_PENDING) for uid in pending_user_ids(state)}
    if state.status == SENT_BACK:
        tasks.add((state.drafter_id, TASK_PENDING))
    tasks |= {(uid, TASK_POST_REVIEW) for uid in post_review_user_ids(state)}
    tasks |= {
        (slot.user_id, TASK_CIRCULATE)
        for step in state.steps
        if step.kind == "circulate"
        for slot in step.slots
        if slot.status == NOTIFIED
    }
    acted = {h.actor_id for h in state.history} - {state.drafter_id}
    if state.status in FINISHED:
        acted.add(state.drafter_id)
    tasks |= {(uid, TASK_DONE) for uid in acted}
    return tasks


@db.joins_unit
def sync_tasks(request_id: int, state: RequestState, at: dt.datetime | None = None) -> None:
    """Make the request's task rows match ``state`` (in the caller's transaction).

    New rows are dated ``at``, the time of the transition that created them: the inbox shows it as
    受付日 and counts 経過日数 from it.
    """
    session = db.session()
    rows = session.execute(
        select(ApprovalTask.user_id, ApprovalTask.kind).where(ApprovalTask.request_id == request_id)
    )
    have = {(user_id, kind) for user_id, kind in rows}
    want = desired_tasks(state)
    for user_id, kind in have - want:
        session.execute(
            delete(ApprovalTask).where(
                ApprovalTask.request_id == request_id,
                ApprovalTask.user_id == user_id,
                ApprovalTask.kind == kind,
            )
        )
    when = {"created_at": at} if at is not None else {}
    added = [{"user_id": u, "kind": k, "request_id": request_id, **when} for u, k in sorted(want - have)]
    if added:
        session.execute(insert(ApprovalTask), added)


def _item(row: Any, on_behalf_of: dict[int, tuple[str, str] | None] | None = None) -> dict[str, Any]:
    item = {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "document_number": row.document_number,
        "route": row.route_key,
        "route_name": row.route_name,
        "amount": row.amount,
        "drafter": {"username": row.username, "display_name": row.display_name},
        "updated_at": calendar.isoformat(row.updated_at),
    }
    if on_behalf_of is not None:
        username, name = on_behalf_of.get(row.task_user_id) or (None, None)
        item["on_behalf_of"] = username
        item["on_behalf_of_name"] = name
    return item


def quick_action(state: RequestState, user_id: int, absences: dict[int, int]) -> tuple[str, str] | None:
    """Return the one-press action the inbox offers on an item, ``(action, word)``, or None.

    決裁 / 専決 on the deciding step, 承認 on an intermediate one, 代決 for an absent person's item;
    anything else (a 差戻し waiting for its drafter, a 合議 the person may only send back) is done on
    the request's page. Bulk processing groups items by this pair.
    """
    allowed = machine.allowed_actions(state, user_id, absences)
    step = state.steps[state.current] if state.current is not None else None
    if "approve" in allowed and step is not None:
        return "approve", approve_label(step.kind, step.label)
    if "deputy_approve" in allowed:
        return "deputy_approve", ACTION_LABELS["deputy_approve"]
    return None


def _columns() -> tuple[Any, ...]:
    return (
        ApprovalRequest.id,
        ApprovalRequest.title,
        ApprovalRequest.status,
        ApprovalRequest.document_number,
        ApprovalRequest.route_key,
        ApprovalRequest.amount,
        ApprovalRequest.updated_at,
        RouteTemplateVersion.name.label("route_name"),
        User.username,
        User.display_name,
    )


def _task_list(
    user_ids: list[int],
    kind: str,
    limit: int,
    offset: int,
    deputies: dict[int, tuple[str, str] | None] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    session = db.session()
    where = (ApprovalTask.user_id.in_(user_ids), ApprovalTask.kind == kind)
    rows = session.execute(
        select(
            *_columns(),
            ApprovalTask.user_id.label("task_user_id"),
            ApprovalTask.created_at.label("received_at"),
        )
        .select_from(ApprovalTask)
        .join(ApprovalRequest, ApprovalRequest.id == ApprovalTask.request_id)
        .join(User, User.id == ApprovalRequest.drafter_id)
        .join(RouteTemplateVersion, RouteTemplateVersion.id == ApprovalRequest.template_id)
        .where(*where)
        .order_by(ApprovalTask.request_id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.execute(select(func.count()).select_from(ApprovalTask).where(*where)).scalar_one()
    items = []
    today = calendar.today()
    for r in rows:
        item = _item(r, deputies)
        # 受付日: when the item reached this inbox (the task row is written by that transition).
        item["received_at"] = calendar.isoformat(r.received_at)
        item["waiting_days"] = (today - calendar.to_jst(r.received_at).date()).days
        items.append(item)
    return items, total


def with_quick_actions(user: User, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``quick_action`` ({"action", "label"} or None) to 未処理 items for the inbox page."""
    if not items:
        return items
    query = select(ApprovalRequest.id, ApprovalRequest.state).where(
        ApprovalRequest.id.in_([i["id"] for i in items])
    )
    states = {request_id: state for request_id, state in db.session().execute(query)}
    absences = absence.active_map()
    for item in items:
        found = quick_action(RequestState.from_dict(states[item["id"]]), user.id, absences)
        item["quick_action"] = {"action": found[0], "label": found[1]} if found else None
    return items


def _own_open(user: User, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    session = db.session()
    where = (ApprovalRequest.drafter_id == user.id, ApprovalRequest.status.in_(OPEN_STATUSES))
    rows = session.execute(
        select(*_columns())
        .join(User, User.id == ApprovalRequest.drafter_id)
        .join(RouteTemplateVersion, RouteTemplateVersion.id == ApprovalRequest.template_id)
        .where(*where)
        .order_by(ApprovalRequest.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.execute(select(func.count()).select_from(ApprovalRequest).where(*where)).scalar_one()
    return [_item(r) for r in rows], total


def inbox(user: User, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    """Return the four inbox lists of ``user`` (newest first, ``limit`` each) and their totals.

    未処理 includes the pending items of people who are away today and named ``user`` deputy; those
    items carry ``on_behalf_of`` (the absent person's username).
    """
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    absent_ids = absence.deputized_for(user.id)
    names: dict[int, tuple[str, str] | None] = {user.id: None}
    if absent_ids:
        rows = db.session().execute(
            select(User.id, User.username, User.display_name).where(User.id.in_(absent_ids))
        )
        names.update({uid: (username, name) for uid, username, name in rows})
    pending, n_pending = _task_list([user.id, *absent_ids], TASK_PENDING, limit, offset, names)
    in_progress, n_open = _own_open(user, limit, offset)
    post_review, n_post = _task_list([user.id], TASK_POST_REVIEW, limit, offset)
    circulate, n_circ = _task_list([user.id], TASK_CIRCULATE, limit, offset)
    done, n_done = _task_list([user.id], TASK_DONE, limit, offset)
    return {
        "pending": pending,
        "in_progress": in_progress,
        "post_review": post_review,
        "circulate": circulate,
        "done": done,
        "counts": {
            "pending": n_pending,
            "in_progress": n_open,
            "post_review": n_post,
            "circulate": n_circ,
            "done": n_done,
        },
    }
