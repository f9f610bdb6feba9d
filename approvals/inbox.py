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

from typing import Any

from sqlalchemy import delete, func, insert, select

from approvals import absence
from approvals.models import (
    TASK_CIRCULATE,
    TASK_DONE,
    TASK_PENDING,
    TASK_POST_REVIEW,
    ApprovalRequest,
    ApprovalTask,
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


def sync_tasks(request_id: int, state: RequestState) -> None:
    """Make the request's task rows match ``state`` (in the caller's transaction)."""
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
    added = [{"user_id": u, "kind": k, "request_id": request_id} for u, k in sorted(want - have)]
    if added:
        session.execute(insert(ApprovalTask), added)


def _item(row: Any, on_behalf_of: dict[int, str] | None = None) -> dict[str, Any]:
    item = {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "document_number": row.document_number,
        "route": row.route_key,
        "amount": row.amount,
        "drafter": {"username": row.username, "display_name": row.display_name},
        "updated_at": calendar.isoformat(row.updated_at),
    }
    if on_behalf_of is not None:
        item["on_behalf_of"] = on_behalf_of.get(row.task_user_id)
    return item


def _columns() -> tuple[Any, ...]:
    return (
        ApprovalRequest.id,
        ApprovalRequest.title,
        ApprovalRequest.status,
        ApprovalRequest.document_number,
        ApprovalRequest.route_key,
        ApprovalRequest.amount,
        ApprovalRequest.updated_at,
        User.username,
        User.display_name,
    )


def _task_list(
    user_ids: list[int], kind: str, limit: int, offset: int, deputies: dict[int, str] | None = None
) -> tuple[list[dict[str, Any]], int]:
    session = db.session()
    where = (ApprovalTask.user_id.in_(user_ids), ApprovalTask.kind == kind)
    rows = session.execute(
        select(*_columns(), ApprovalTask.user_id.label("task_user_id"))
        .select_from(ApprovalTask)
        .join(ApprovalRequest, ApprovalRequest.id == ApprovalTask.request_id)
        .join(User, User.id == ApprovalRequest.drafter_id)
        .where(*where)
        .order_by(ApprovalTask.request_id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.execute(select(func.count()).select_from(ApprovalTask).where(*where)).scalar_one()
    return [_item(r, deputies) for r in rows], total


def _own_open(user: User, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    session = db.session()
    where = (ApprovalRequest.drafter_id == user.id, ApprovalRequest.status.in_(OPEN_STATUSES))
    rows = session.execute(
        select(*_columns())
        .join(User, User.id == ApprovalRequest.drafter_id)
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
    names = {user.id: None}
    if absent_ids:
        rows = db.session().execute(select(User.id, User.username).where(User.id.in_(absent_ids)))
        names.update({uid: name for uid, name in rows})
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


def pending_count(user: User) -> int:
    """Return how many requests wait for ``user`` (the header badge)."""
    ids = [user.id, *absence.deputized_for(user.id)]
    return (
        db.session()
        .execute(
            select(func.count())
            .select_from(ApprovalTask)
            .where(ApprovalTask.user_id.in_(ids), ApprovalTask.kind == TASK_PENDING)
        )
        .scalar_one()
    )
