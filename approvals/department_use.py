"""What 決裁 say to the core's 課・係 rules (workspace.departments): open 決裁 keep a 課 from 廃止,
and a 人事異動 shows which of the person's 決裁 will be resolved anew.

Registered from ``approvals.init_app``; the core never imports this module.
"""

from __future__ import annotations

from sqlalchemy import func, select

from approvals.models import ApprovalRequest, ApprovalTask
from approvals.state import DRAFT, IN_PROGRESS, SENT_BACK
from workspace import db
from workspace.departments import Consequence
from workspace.models import Department, User

OPEN = (DRAFT, IN_PROGRESS, SENT_BACK)
SHOWN = 10  # titles listed per group; the rest are counted


def open_requests(department: Department) -> str | None:
    """In-use check: the 決裁 of this 課 that are not finished (下書き, 回議中, 差戻し)."""
    n = db.session().scalar(
        select(func.count())
        .select_from(ApprovalRequest)
        .where(ApprovalRequest.department_id == department.id, ApprovalRequest.status.in_(OPEN))
    )
    return f"処理中の決裁（下書き・回議中・差戻しを含む）が{n}件あります" if n else None


def _titles(rows: list[ApprovalRequest]) -> list[str]:
    shown = [f"{row.title}" for row in rows[:SHOWN]]
    if len(rows) > SHOWN:
        shown.append(f"ほか{len(rows) - SHOWN}件")
    return shown


def transfer_consequences(
    user: User, department: Department, section: Department | None
) -> list[Consequence]:
    """人事異動 preview: drafts re-resolve at 起案; routes already submitted stay as they were frozen."""
    session = db.session()
    mine = (
        session.execute(
            select(ApprovalRequest)
            .where(ApprovalRequest.drafter_id == user.id, ApprovalRequest.status.in_(OPEN))
            .order_by(ApprovalRequest.id)
        )
        .unique()
        .scalars()
        .all()
    )
    drafts = [r for r in mine if r.status == DRAFT]
    running = [r for r in mine if r.status != DRAFT]
    waiting = (
        session.execute(
            select(ApprovalRequest)
            .join(ApprovalTask, ApprovalTask.request_id == ApprovalRequest.id)
            .where(
                ApprovalTask.user_id == user.id,
                ApprovalTask.kind == "pending",
                ApprovalRequest.status == IN_PROGRESS,
            )
            .order_by(ApprovalRequest.id)
        )
        .unique()
        .scalars()
        .all()
    )
    to = f"{department.name} › {section.name}" if section is not None else department.name
    found: list[Consequence] = []
    if drafts:
        found.append(
            Consequence(
                f"ルートが決まり直す下書きの決裁（{len(drafts)}件）",
                _titles(drafts),
                f"提出するときに、新しい所属（{to}）の係長・課長でルートが決まります。",
            )
        )
    if running:
        found.append(
            Consequence(
                f"起案済みの決裁（{len(running)}件）",
                _titles(running),
                "回議中・差戻しの決裁のルートは起案時に確定しているため、異動しても変わりません。",
            )
        )
    if waiting:
        found.append(
            Consequence(
                f"この人の決裁待ち（{len(waiting)}件）",
                _titles(waiting),
                "確定したルートのとおり、異動後もこの人が処理します。必要なら不在設定で代決者を決めてください。",
            )
        )
    if not found:
        found.append(Consequence("決裁", [], "この人の処理中の決裁はありません。"))
    return found
