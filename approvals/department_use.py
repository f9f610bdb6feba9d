"""What 決裁 say to the core's 課・係 rules (workspace.departments): open 決裁 keep a 課 from 廃止,
and a 人事異動 shows which of the person's 決裁 will be resolved anew.

Registered from ``approvals.init_app``; the core never imports this module.
"""

from __future__ import annotations

from sqlalchemy import func, select

from approvals import route_store, service
from approvals.directory_adapter import DbDirectory
from approvals.errors import Invalid
from approvals.labels import KIND_LABELS
from approvals.models import ApprovalRequest, ApprovalTask
from approvals.resolution import Person, UnresolvableApprover, resolve_route
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


class _MovedDirectory(DbDirectory):
    """The directory as it will be after the move: the moving person's 係長 and 課長 are the new ones."""

    def __init__(self, user: User, department: Department, section: Department | None) -> None:
        # A transient stand-in (never added to a session): the lookups read only its unit ids and title.
        self._moved = User(
            id=user.id,
            department_id=department.id,
            title=user.title,
            section_id=section.id if section is not None else None,
        )

    def _user(self, person: Person) -> User | None:
        return self._moved if person.id == self._moved.id else super()._user(person)


def _new_route(row: ApprovalRequest, person: Person, moved: _MovedDirectory) -> str:
    """「回議 鈴木 花子 → 決裁 佐藤 一郎」: who the draft would go to if submitted after the move."""
    template = route_store.latest(row.route_key) or row.template
    try:
        choice = service.check_consult_choice(route_store.parsed(template), row.consult_choice)
    except Invalid:
        choice = None
    try:
        steps = resolve_route(service.effective_template(template, choice), person, row.amount, moved)
    except UnresolvableApprover as error:
        return f"{row.title} — 新しい所属ではルートが決まりません（{error.message_ja}）"
    parts = []
    for step in steps:
        names = "・".join(a.person.display_name for a in step.approvers if a.skipped is None)
        if names and step.skipped is None:
            parts.append(f"{KIND_LABELS.get(step.kind, step.kind)} {names}")
    return f"{row.title} — 新しいルート：" + " → ".join(parts)


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
        moved = _MovedDirectory(user, department, section)
        person = Person(
            user.id, user.username, user.display_name, department.code, department.name, user.title
        )
        routes = [_new_route(row, person, moved) for row in drafts[:SHOWN]]
        if len(drafts) > SHOWN:
            routes.append(f"ほか{len(drafts) - SHOWN}件")
        found.append(
            Consequence(
                f"ルートが決まり直す下書きの決裁（{len(drafts)}件）",
                routes,
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
