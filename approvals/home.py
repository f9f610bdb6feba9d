"""The 決裁 part of 今日の仕事: what waits for me, my requests sent back or under way, 後閲, who is away."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from approvals import absence
from approvals.models import (
    TASK_PENDING,
    TASK_POST_REVIEW,
    ApprovalRequest,
    ApprovalTask,
    RouteTemplateVersion,
)
from approvals.serialize import send_back_reason
from approvals.state import RequestState
from workspace import calendar, db
from workspace.models import User

OWN_OPEN = ("in_progress", "sent_back")
SHOWN = 5  # the five oldest waiting items; the inbox has the rest


def _tasks(user_ids: list[int], kind: str, oldest_first: bool) -> tuple[list[Any], int]:
    session = db.session()
    where = (ApprovalTask.user_id.in_(user_ids), ApprovalTask.kind == kind)
    if kind == TASK_PENDING:
        # A request sent back to me is also a pending task of mine, but the home page lists it
        # under 差戻し with its reason, not among the 決裁 waiting for me.
        where = (*where, ApprovalRequest.status == "in_progress")
    order = ApprovalRequest.updated_at.asc() if oldest_first else ApprovalRequest.updated_at.desc()
    rows = session.execute(
        select(ApprovalRequest, User.display_name, RouteTemplateVersion.name)
        .select_from(ApprovalTask)
        .join(ApprovalRequest, ApprovalRequest.id == ApprovalTask.request_id)
        .join(User, User.id == ApprovalRequest.drafter_id)
        .join(RouteTemplateVersion, RouteTemplateVersion.id == ApprovalRequest.template_id)
        .where(*where)
        .order_by(order, ApprovalRequest.id)
        .limit(SHOWN)
    ).all()
    total = session.execute(
        select(func.count())
        .select_from(ApprovalTask)
        .join(ApprovalRequest, ApprovalRequest.id == ApprovalTask.request_id)
        .where(*where)
    ).scalar_one()
    return rows, total


def today(user: User) -> dict[str, Any]:
    """Return the approvals fields of 今日の仕事 for ``user``."""
    today = calendar.today()
    pending, pending_total = _tasks([user.id, *absence.deputized_for(user.id)], TASK_PENDING, True)
    post_review, _ = _tasks([user.id], TASK_POST_REVIEW, True)
    own = (
        db.session()
        .execute(
            select(ApprovalRequest)
            .where(ApprovalRequest.drafter_id == user.id, ApprovalRequest.status.in_(OWN_OPEN))
            .order_by(ApprovalRequest.updated_at.desc())
            .limit(50)
        )
        .scalars()
    )
    sent_back, in_progress = [], []
    for row in own:
        if row.status == "sent_back":
            # "" (sent back without a comment) is shown as null here, as it always was.
            reason = send_back_reason(RequestState.from_dict(row.state)) or None
            sent_back.append({"id": row.id, "title": row.title, "reason": reason})
        elif len(in_progress) < SHOWN:
            in_progress.append({"id": row.id, "title": row.title, "status": row.status})
    away_ids = list(absence.active_map(today))
    away = []
    if away_ids:
        away = (
            db.session()
            .execute(
                select(User.username, User.display_name)
                .where(User.id.in_(away_ids), User.active.is_(True))
                .order_by(User.display_name)
            )
            .all()
        )
    return {
        "approvals_pending": [
            {
                "id": row.id,
                "title": row.title,
                "kind": kind,
                "drafter": drafter,
                "waiting_days": (today - calendar.to_jst(row.updated_at).date()).days,
            }
            for row, drafter, kind in pending
        ],
        "approvals_pending_count": pending_total,
        "sent_back": sent_back,
        "in_progress": in_progress,
        "post_review": [{"id": row.id, "title": row.title, "drafter": d} for row, d, _ in post_review],
        "absent_today": [{"username": u, "display_name": n} for u, n in away],
    }
