"""課・係 as 管理 changes them: add, rename, 文書番号 prefix, move a 係, 廃止/再開, and 人事異動.

The rules live here and nowhere else: the 管理 page, the API (/api/v1/admin/departments) and any
command call these functions. Each change is one write unit with its audit entry (before and after).

Two registries let domains take part without the core importing them (both are per app, filled from
each package's ``init_app``):

- ``in_use_checks``: callables ``(department) -> str | None``; a sentence such as 「処理中の決裁が2件
  あります」 refuses a 廃止 (approvals registers its open 決裁). The core checks its own people.
- ``transfer_consequences``: callables ``(user, department, section) -> list[Consequence]`` saying
  what a 人事異動 would bring about (chat: channels joined and left; approvals: drafts whose route is
  resolved anew). Nothing is written while they are asked.

On the LDAP backend the directory is the truth for the tree (each sync writes names, parents and the
active flag again) and for people's 所属: only the prefix (ours alone) is changed here, and a 人事異動
is previewed, never applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from workspace import audit, db, directory, signals, text
from workspace.errors import ServiceError
from workspace.models import Department, User

NAME_MAX = 100
PREFIX_MAX = 8
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class DepartmentError(ServiceError):
    """A refused 課・係 change (422 bad input with ``field``; 409 in use, with ``reasons``)."""

    status = 422
    code = "invalid"


@dataclass(frozen=True)
class Consequence:
    """One group of what a 人事異動 brings about: a heading, the things concerned, an optional note."""

    heading: str
    items: list[str] = field(default_factory=list)
    note: str | None = None


InUseCheck = Callable[[Department], "str | None"]
ConsequenceProvider = Callable[[User, Department, "Department | None"], list[Consequence]]


def register_in_use_check(app: Flask, check: InUseCheck) -> None:
    """Add a domain's reason to refuse a 廃止 (from its package's init_app)."""
    checks = app.extensions.setdefault("workspace.department_in_use_checks", [])
    if check not in checks:
        checks.append(check)


def register_transfer_consequences(app: Flask, provider: ConsequenceProvider) -> None:
    """Add a domain's part of the 人事異動 preview (from its package's init_app)."""
    providers = app.extensions.setdefault("workspace.transfer_consequences", [])
    if provider not in providers:
        providers.append(provider)


def in_use_checks() -> list[InUseCheck]:
    """The current app's in-use checks (the core's own first)."""
    return [_people_in, _sections_in, *current_app.extensions.get("workspace.department_in_use_checks", [])]


def transfer_consequences() -> list[ConsequenceProvider]:
    """The current app's 人事異動 consequence providers."""
    return list(current_app.extensions.get("workspace.transfer_consequences", []))


def directory_managed() -> bool:
    """True on the LDAP backend: the directory decides the tree and each person's 所属."""
    return current_app.config.get("DIRECTORY", "local") == "ldap"


# --- reading -----------------------------------------------------------------------------------


def get(code: Any) -> Department | None:
    """The 課 or 係 with ``code`` (active or not), or None."""
    if not isinstance(code, str) or not code:
        return None
    return directory.get_department(code)


def tree(include_inactive: bool = True) -> list[dict[str, Any]]:
    """Every 課 by code with its 係 under it: ``[{"department": d, "sections": [...], "people": n}]``."""
    query = select(Department).order_by(Department.code)
    if not include_inactive:
        query = query.where(Department.active.is_(True))
    rows = list(db.session().execute(query).scalars())
    counts = _people_counts()
    sections: dict[int, list[Department]] = {}
    for row in rows:
        if row.parent_id is not None:
            sections.setdefault(row.parent_id, []).append(row)
    return [
        {
            "department": row,
            "people": counts.get(row.id, 0),
            "sections": [{"department": s, "people": counts.get(s.id, 0)} for s in sections.get(row.id, [])],
        }
        for row in rows
        if row.parent_id is None
    ]


def _people_counts() -> dict[int, int]:
    counts: dict[int, int] = {}
    for column in (User.department_id, User.section_id):
        query = (
            select(column, func.count()).where(User.active.is_(True), column.is_not(None)).group_by(column)
        )
        for unit_id, n in db.session().execute(query):
            counts[unit_id] = counts.get(unit_id, 0) + n
    return counts


def department_json(dept: Department) -> dict[str, Any]:
    """The API's view of one 課 or 係."""
    return {
        "code": dept.code,
        "name": dept.name,
        "prefix": dept.prefix,
        "parent_code": dept.parent.code if dept.parent is not None else None,
        "active": bool(dept.active),
        "kind": "section" if dept.is_section else "department",
    }


def list_json() -> list[dict[str, Any]]:
    """Every 課 and 係 (active or not), each 課 followed by its 係."""
    found: list[dict[str, Any]] = []
    for entry in tree():
        found.append(department_json(entry["department"]))
        found.extend(department_json(s["department"]) for s in entry["sections"])
    return found


def units() -> list[tuple[str, str]]:
    """(code, label) of every active 課 and 係, for a 所属 choice: 「総務課」, 「総務課 › 総務係」."""
    found: list[tuple[str, str]] = []
    for entry in tree(include_inactive=False):
        dept = entry["department"]
        found.append((dept.code, dept.name))
        found.extend(
            (s["department"].code, f"{dept.name} › {s['department'].name}") for s in entry["sections"]
        )
    return found


# --- checks --------------------------------------------------------------------------------------


def _clean_name(value: Any) -> str:
    if not isinstance(value, str):
        raise DepartmentError("名称を入力してください。", field="name")
    try:
        name = " ".join(text.clean_line(value, "名称").split())
    except text.TextRefused as error:
        raise DepartmentError(str(error), field="name") from None
    if not name:
        raise DepartmentError("名称を入力してください。", field="name")
    if len(name) > NAME_MAX:
        raise DepartmentError(f"名称は{NAME_MAX}文字以内で入力してください。", field="name")
    return name


def _clean_prefix(value: Any) -> str:
    if not isinstance(value, str):
        raise DepartmentError("文書番号の略称を入力してください。", field="prefix")
    try:
        prefix = text.clean_line(value, "略称").strip()
    except text.TextRefused as error:
        raise DepartmentError(str(error), field="prefix") from None
    if not prefix or len(prefix) > PREFIX_MAX or any(c.isspace() for c in prefix):
        raise DepartmentError(f"略称は空白なしの1〜{PREFIX_MAX}文字で入力してください。", field="prefix")
    return prefix


def _check_prefix_free(prefix: str, dept: Department | None) -> None:
    # 文書番号 are counted per 年度 and prefix: two 課 with one prefix would share one sequence.
    query = select(Department).where(
        Department.prefix == prefix, Department.parent_id.is_(None), Department.active.is_(True)
    )
    for other in db.session().execute(query).scalars():
        if dept is None or other.id != dept.id:
            raise DepartmentError(
                f"略称「{prefix}」は{other.name}が使っています。文書番号が重ならないよう、別の略称にしてください。",
                "prefix_taken",
                field="prefix",
            )


def _parent_for(parent_code: Any, dept: Department | None) -> Department:
    if not isinstance(parent_code, str) or not parent_code:
        raise DepartmentError("移動先の課を選んでください。", field="parent_code")
    parent = get(parent_code)
    if parent is None:
        raise DepartmentError("移動先の課が見つかりません。", "unknown_parent", field="parent_code")
    if dept is not None and parent.id == dept.id:
        raise DepartmentError("課・係を自分自身の下へは移せません。", "cycle", field="parent_code")
    if parent.parent_id is not None:
        if dept is not None and parent.parent_id == dept.id:
            raise DepartmentError(
                "自分の係の下へは移せません（課と係が循環します）。", "cycle", field="parent_code"
            )
        raise DepartmentError(
            f"{parent.name}は係です。係の下に係は作れません。課を選んでください。",
            "section_under_section",
            field="parent_code",
        )
    if not parent.active:
        raise DepartmentError(f"{parent.name}は廃止されています。", "inactive_parent", field="parent_code")
    return parent


def _refuse_on_directory(what: str) -> None:
    if directory_managed():
        raise DepartmentError(
            f"課・係の{what}はディレクトリ（LDAP / Active Directory）で行ってください。"
            "次の同期で反映されます。",
            "directory_managed",
            status=409,
        )


def _people_in(dept: Department) -> str | None:
    column = User.section_id if dept.is_section else User.department_id
    n = db.session().scalar(select(func.count()).where(column == dept.id, User.active.is_(True)))
    return f"在籍している職員が{n}人います" if n else None


def _sections_in(dept: Department) -> str | None:
    if dept.is_section:
        return None
    query = select(func.count()).where(Department.parent_id == dept.id, Department.active.is_(True))
    n = db.session().scalar(query)
    return f"廃止されていない係が{n}つあります" if n else None


def reasons_in_use(dept: Department) -> list[str]:
    """Why ``dept`` cannot be 廃止 now (empty when it can)."""
    return [reason for check in in_use_checks() if (reason := check(dept))]


def _snapshot(dept: Department) -> dict[str, Any]:
    return {
        "name": dept.name,
        "prefix": dept.prefix,
        "parent_code": dept.parent.code if dept.parent is not None else None,
        "active": bool(dept.active),
    }


# --- writing -------------------------------------------------------------------------------------


@db.writes
def add(code: Any, name: Any, *, actor: str, parent_code: Any = None, prefix: Any = None) -> Department:
    """Add a 課, or a 係 under the 課 ``parent_code``; commit. Raises DepartmentError (422/409)."""
    _refuse_on_directory("追加")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code) or code == "transfer":
        raise DepartmentError("コードは英数字（と - _）で32文字以内にしてください。", field="code")
    if get(code) is not None:
        raise DepartmentError(f"コード {code} はすでに使われています。", "code_taken", field="code")
    clean = _clean_name(name)
    parent = _parent_for(parent_code, None) if parent_code not in (None, "") else None
    mark = _clean_prefix(prefix) if prefix not in (None, "") else clean[0]
    if parent is None:
        _check_prefix_free(mark, None)
    dept = Department(code=code, name=clean, prefix=mark, parent=parent, active=True)
    db.session().add(dept)
    db.session().flush()
    audit.record(
        "department.create", actor=actor, target=code, detail={"before": None, "after": _snapshot(dept)}
    )
    return dept


@db.writes
def update(code: Any, changes: dict[str, Any], *, actor: str) -> Department:
    """Change a 課・係's name, prefix, 課 (a 係 only) or active flag; commit.

    ``changes`` holds any of "name", "prefix", "parent_code", "active". Nothing changes when one
    of them is refused: DepartmentError 422 with ``field``, or 409 ``in_use`` with ``reasons``.
    """
    dept = get(code)
    if dept is None:
        raise DepartmentError("その課・係は登録されていません。", "not_found", status=404)
    unknown = set(changes) - {"name", "prefix", "parent_code", "active"}
    if unknown:
        raise DepartmentError("変更できない項目が含まれています。", field=sorted(unknown)[0])
    before = _snapshot(dept)
    moved_people: list[User] = []
    if "name" in changes and _clean_name(changes["name"]) != dept.name:
        _refuse_on_directory("名称変更")
        dept.name = _clean_name(changes["name"])
    if "parent_code" in changes and changes["parent_code"] != before["parent_code"]:
        _refuse_on_directory("移動")
        moved_people = _move(dept, changes["parent_code"])
    if "active" in changes:
        if not isinstance(changes["active"], bool):
            raise DepartmentError("active は true か false です。", field="active")
        if changes["active"] != dept.active:
            _refuse_on_directory("廃止と再開")
            _set_active(dept, changes["active"])
    if "prefix" in changes:
        prefix = _clean_prefix(changes["prefix"])
        if prefix != dept.prefix:
            if not dept.is_section:
                _check_prefix_free(prefix, dept)
            try:
                directory.set_department_prefix(dept.code, prefix, actor)
            except directory.DirectoryInputError as error:
                raise DepartmentError(str(error), field="prefix") from None
    after = _snapshot(dept)
    if after != before:
        detail: dict[str, Any] = {"before": before, "after": after}
        if moved_people:
            detail["people"] = sorted(u.username for u in moved_people)
        audit.record("department.update", actor=actor, target=dept.code, detail=detail)
    _announce_moved(moved_people)
    return dept


def _move(dept: Department, parent_code: Any) -> list[User]:
    if not dept.is_section:
        if parent_code in (None, ""):
            return []
        parent = _parent_for(parent_code, dept)  # names the cycle when the target is its own 係
        raise DepartmentError(
            f"課を{parent.name}の下へは移せません。移動できるのは係だけです。",
            "department_not_movable",
            field="parent_code",
        )
    if parent_code in (None, ""):
        raise DepartmentError("係は課の下にだけ置けます。移動先の課を選んでください。", field="parent_code")
    parent = _parent_for(parent_code, dept)
    dept.parent = parent
    # The 係's people follow it to the new 課 (their 課 channel and 課長 change with it).
    people = list(db.session().execute(select(User).where(User.section_id == dept.id)).unique().scalars())
    for user in people:
        user.department = parent
    db.session().flush()
    return [u for u in people if u.active]


def _set_active(dept: Department, active: bool) -> None:
    if active:
        if dept.parent is not None and not dept.parent.active:
            raise DepartmentError(
                f"{dept.parent.name}が廃止されているため、係だけを再開することはできません。先に課を再開してください。",
                "inactive_parent",
                field="active",
            )
        dept.active = True
        return
    reasons = reasons_in_use(dept)
    if reasons:
        raise DepartmentError(
            f"{dept.name}は廃止できません。" + "、".join(reasons) + "。",
            "in_use",
            status=409,
            reasons=reasons,
        )
    dept.active = False


def _announce_moved(people: list[User]) -> None:
    if not people:
        return
    app = current_app._get_current_object()
    ids = [u.id for u in people]

    def announce() -> None:
        for user_id in ids:
            signals.user_changed.send(app, user_id=user_id, created=False, department_changed=True)

    db.on_commit(announce)


# --- 人事異動 ------------------------------------------------------------------------------------


def _target_units(unit_code: Any) -> tuple[Department, Department | None]:
    unit = get(unit_code) if isinstance(unit_code, str) else None
    if unit is None or not unit.active:
        raise DepartmentError("異動先の課・係を選んでください。", field="unit")
    if unit.is_section:
        return unit.parent, unit
    return unit, None


def _person(username: Any) -> User:
    user = directory.get_user(username) if isinstance(username, str) and username else None
    if user is None or not user.active:
        raise DepartmentError("異動する職員を候補から選んでください。", field="person")
    return user


def _unit_label(department: Department | None, section: Department | None) -> str:
    if department is None:
        return "所属なし"
    return f"{department.name} › {section.name}" if section is not None else department.name


def transfer_preview(username: Any, unit_code: Any) -> dict[str, Any]:
    """What moving ``username`` to the 課 or 係 ``unit_code`` brings about; nothing is written."""
    user = _person(username)
    department, section = _target_units(unit_code)
    same = user.department_id == department.id and user.section_id == getattr(section, "id", None)
    consequences: list[Consequence] = []
    if not same:
        for provider in transfer_consequences():
            consequences.extend(provider(user, department, section))
    return {
        "person": {"username": user.username, "display_name": user.display_name, "title": user.title},
        "from": _unit_label(user.department, user.section),
        "to": _unit_label(department, section),
        "unit": unit_code,
        "unchanged": same,
        "applicable": not directory_managed() and user.source == "local" and not same,
        "directory_managed": directory_managed() or user.source != "local",
        "consequences": [asdict(c) for c in consequences],
    }


@db.writes
def transfer(username: Any, unit_code: Any, *, actor: str) -> User:
    """Move a local account to the 課 or 係 ``unit_code`` and commit (audited with before/after).

    Chat and approvals follow through ``signals.user_changed`` after the commit, as for any change
    of 所属. Refused (409) on the LDAP backend and for directory people: the directory decides.
    """
    user = _person(username)
    department, section = _target_units(unit_code)
    if directory_managed() or user.source != "local":
        raise DepartmentError(
            "この職員の所属はディレクトリ（LDAP / Active Directory）で変更してください。"
            "次の同期で反映されます。",
            "directory_managed",
            status=409,
        )
    before = {
        "department": user.department.code if user.department else None,
        "section": user.section.code if user.section else None,
    }
    after = {"department": department.code, "section": section.code if section else None}
    if before == after:
        raise DepartmentError(
            f"{user.display_name}さんはすでに{_unit_label(department, section)}の所属です。", field="unit"
        )
    directory.update_local_user(user.username, actor=actor, department_code=department.code)
    user.section = section
    audit.record(
        "department.transfer", actor=actor, target=user.username, detail={"before": before, "after": after}
    )
    return user
