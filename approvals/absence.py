"""不在設定: who is away, from when until when, and which deputy acts (代決) meanwhile.

The machine receives the absences active *now* as ``{absent user id: deputy id}``; deputies are not
chained (the machine's rule), so a deputy who is away himself does not pass the work on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, or_, select

from approvals.errors import Forbidden, Invalid, NotFound, clean
from approvals.models import Absence
from workspace import audit, calendar, db, directory, inputs, text
from workspace.models import User

MAX_DAYS = 366
MAX_NOTE = 200


def active_map(on: dt.date | None = None) -> dict[int, int]:
    """Return ``{absent user id: deputy id}`` for absences covering ``on`` (today in JST by default).

    When several absences of one person overlap, the most recently registered one wins.
    """
    day = on or calendar.today()
    rows = db.session().execute(
        select(Absence.user_id, Absence.deputy_id)
        .where(Absence.starts_on <= day, Absence.ends_on >= day)
        .order_by(Absence.id)
    )
    return {user_id: deputy_id for user_id, deputy_id in rows}


def deputized_for(deputy_id: int, on: dt.date | None = None) -> list[int]:
    """Return the ids of the people for whom ``deputy_id`` acts today."""
    return sorted(absent for absent, deputy in active_map(on).items() if deputy == deputy_id)


def _date(value: Any, field: str) -> dt.date:
    if not isinstance(value, str):
        raise Invalid("日付は YYYY-MM-DD の形式で指定してください。", field=field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("日付は YYYY-MM-DD の形式で指定してください。", field=field) from exc


def _active_user(username: Any, field: str) -> User:
    user = directory.get_user(username) if isinstance(username, str) else None
    if user is None or not user.active:
        raise Invalid("指定された職員が見つかりません。", field=field)
    return user


@db.writes
def register(actor: User, data: dict[str, Any]) -> Absence:
    """Register an absence from API/form data ``{"user"?, "deputy", "from", "until", "note"?}`` and commit.

    Staff register their own absences; an admin may register anyone's. Raises :class:`Invalid` for
    bad dates or people and :class:`Forbidden` for someone else's absence without the admin role.
    """
    user = actor if data.get("user") in (None, actor.username) else _active_user(data.get("user"), "user")
    if user.id != actor.id and not actor.has_role("admin"):
        raise Forbidden("ほかの職員の不在設定は管理者だけが登録できます。")
    deputy = _active_user(data.get("deputy"), "deputy")
    if deputy.id == user.id:
        raise Invalid("代決者には本人以外を指定してください。", field="deputy")
    starts, ends = _date(data.get("from"), "from"), _date(data.get("until"), "until")
    if ends < starts:
        raise Invalid("終了日は開始日以降にしてください。", field="until")
    if (ends - starts).days >= MAX_DAYS:
        raise Invalid(f"不在期間は{MAX_DAYS}日以内で登録してください。", field="until")
    if ends < calendar.today():
        raise Invalid("終了日が過去の日付です。", field="until")
    note = data.get("note")
    if isinstance(note, str):
        note = clean(text.clean_text, note, "備考", "note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise Invalid(f"備考は{MAX_NOTE}文字以内で入力してください。", field="note")
    absence = Absence(
        user_id=user.id,
        deputy_id=deputy.id,
        starts_on=starts,
        ends_on=ends,
        note=note or None,
        created_by=actor.id,
    )
    session = db.session()
    session.add(absence)
    session.flush()
    audit.record(
        "approval.absence.create",
        actor=actor.username,
        target=f"absence:{absence.id}",
        detail={"user": user.username, "deputy": deputy.username, "from": str(starts), "until": str(ends)},
    )
    return absence


@db.writes
def cancel(actor: User, absence_id: int) -> None:
    """Delete an absence (its owner or an admin) and commit; raises :class:`NotFound` otherwise."""
    session = db.session()
    absence = session.get(Absence, absence_id) if inputs.json_id(absence_id) else None
    if absence is None or (absence.user_id != actor.id and not actor.has_role("admin")):
        raise NotFound("不在設定が見つかりません。")
    session.execute(delete(Absence).where(Absence.id == absence_id))
    audit.record("approval.absence.delete", actor=actor.username, target=f"absence:{absence_id}")


def current_and_future(user: User) -> list[Absence]:
    """Return the absences of ``user`` and those naming ``user`` as deputy that have not ended."""
    today = calendar.today()
    return list(
        db.session()
        .execute(
            select(Absence)
            .where(or_(Absence.user_id == user.id, Absence.deputy_id == user.id), Absence.ends_on >= today)
            .order_by(Absence.starts_on, Absence.id)
        )
        .unique()
        .scalars()
    )


def absence_json(absence: Absence) -> dict[str, Any]:
    """Return the API shape of an absence."""
    return {
        "id": absence.id,
        "user": absence.user.username,
        "user_name": absence.user.display_name,
        "deputy": absence.deputy.username,
        "deputy_name": absence.deputy.display_name,
        "from": absence.starts_on.isoformat(),
        "until": absence.ends_on.isoformat(),
        "note": absence.note,
    }
