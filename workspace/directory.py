"""The directory as the workspace knows it: departments, sections, users and roles.

Local accounts are managed here; LDAP entries are upserted here (at sign-in and by the sync), and
approval routes and chat channels read people from here, so someone who has never signed in still
exists once a sync has run.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, update

from workspace import audit, db, passwords, people, signals, text
from workspace.config import csv_list
from workspace.errors import ServiceError
from workspace.models import Department, SyncRun, User, UserRole, UserSession, utcnow
from workspace.security import hash_password, printable

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 100  # the column's width


class DirectoryInputError(ServiceError, ValueError):
    """Bad input to a directory change; message is Japanese and safe to show.

    A ServiceError (422 ``invalid`` unless the raiser says otherwise: 409 for a duplicate ユーザー名 or
    a change the directory decides, 404 for nobody), so the API answers it as it is; ``field`` names
    the input it is about (``username``, ``display_name_kana``, ``department_code`` …), and the 管理
    page shows the message next to that field.
    """

    status = 422
    code = "invalid"


# --- departments -------------------------------------------------------------------------------


def get_department(code: str) -> Department | None:
    """Return the department or section with code, or None."""
    if not isinstance(code, str) or "\x00" in code:
        return None  # PostgreSQL text cannot hold NUL: the lookup would fail instead of finding nothing
    return db.session().execute(select(Department).where(Department.code == code)).scalar_one_or_none()


@db.joins_unit
def ensure_department(
    code: str, name: str, parent: Department | None = None, prefix: str | None = None
) -> Department:
    """Return the department with code, creating it or updating its name and parent (a write unit)."""
    if not code or not name:
        raise DirectoryInputError("課のコードと名前は必須です。")
    name = _clean_line(name, "課・係の名前").strip()
    prefix = _clean_line(prefix, "略称").strip() if prefix else prefix
    if not name:
        raise DirectoryInputError("課のコードと名前は必須です。")
    dept = get_department(code)
    if dept is None:
        dept = Department(code=code, name=name, prefix=prefix or name[0], parent=parent, active=True)
        db.session().add(dept)
        db.session().flush()
    else:
        dept.name, dept.active = name, True
        dept.parent = parent
        if prefix:
            dept.prefix = prefix
    return dept


def list_departments(include_sections: bool = False) -> list[Department]:
    """Return active departments (課) by code, optionally with their sections (係)."""
    query = select(Department).where(Department.active.is_(True)).order_by(Department.code)
    if not include_sections:
        query = query.where(Department.parent_id.is_(None))
    return list(db.session().execute(query).scalars())


@db.writes
def set_department_prefix(code: str, prefix: str, actor: str) -> Department:
    """Change the short mark used in document numbers and commit."""
    dept = get_department(code)
    if dept is None:
        raise DirectoryInputError("その課は登録されていません。")
    prefix = _clean_line(prefix or "", "略称").strip()
    if not prefix or len(prefix) > 8:
        raise DirectoryInputError("略称は1〜8文字で入力してください。")
    dept.prefix = prefix
    audit.record("department.prefix", actor=actor, target=code, detail={"prefix": prefix})
    return dept


# --- users -----------------------------------------------------------------------------------

#: The roles a person may hold, with the words the 管理 page shows.
ROLES = {"admin": "管理者", "records": "文書管理担当"}
MAIL_MAX = 254
_MAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_DUPLICATE = "そのユーザー名はすでに使われています（大文字と小文字の違いだけでは別の名前になりません）。"


def get_user(username: str) -> User | None:
    """Return the user with username (active or not), or None; case does not matter.

    User names are unique regardless of case (the unique index on lower(username), migration
    0004_username_nocase), as in the directory (LDAP and AD match uid / sAMAccountName without
    case): ``Yamada`` signs in, is mentioned and is chosen as ``yamada``. SQL's lower() on both sides,
    so the comparison is the index's own on SQLite and PostgreSQL alike.
    """
    if not isinstance(username, str) or "\x00" in username or len(username) > USERNAME_MAX:
        # lower() of a number, or a NUL (which PostgreSQL text cannot hold), would be an SQL error
        # there, not "no such user"; nor is a name longer than the column anyone's.
        return None
    query = select(User).where(func.lower(User.username) == func.lower(username))
    return db.session().execute(query).unique().scalar_one_or_none()


def get_user_by_id(user_id: int) -> User | None:
    """Return the user with id, or None."""
    return db.session().get(User, user_id)


def active_users() -> list[User]:
    """Return every active user ordered by department code and username."""
    return list(
        db.session()
        .execute(select(User).where(User.active.is_(True)).order_by(User.department_id, User.username))
        .unique()
        .scalars()
    )


def facts(user: User) -> dict:
    """What an audit entry's before/after records of a person (never a password or its hash)."""
    return {
        "display_name": user.display_name,
        "display_name_kana": user.display_name_kana,
        "department": user.department.code if user.department else None,
        "section": user.section.code if user.section else None,
        "title": user.title,
        "mail": user.mail,
        "roles": sorted(user.roles),
        "active": bool(user.active),
    }


def _changed(before: dict, after: dict) -> dict:
    """{"before": …, "after": …} of the keys that differ."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}


def _set_roles(user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    for row in list(user.role_rows):
        if row.role not in wanted:
            user.role_rows.remove(row)
    for role in wanted - user.roles:
        user.role_rows.append(UserRole(role=role))


def _check_roles(roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    unknown = sorted(r for r in wanted if r not in ROLES)
    if unknown:
        raise DirectoryInputError(
            f"役割 {printable(', '.join(unknown), 40)} はありません（admin か records を選んでください）。",
            field="roles",
        )
    return wanted


@db.writes
def add_local_user(
    username: str,
    display_name: str,
    password: str,
    *,
    department_code: str | None = None,
    section_code: str | None = None,
    title: str | None = None,
    mail: str | None = None,
    roles: Iterable[str] = (),
    actor: str = "cli",
    display_name_kana: str | None = None,
    password_hash: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a local account (argon2 hash) and commit; raise DirectoryInputError on bad input.

    password_hash: the argon2 hash of password made already (the demo's one shared password is
    hashed once, not once per account: each hash costs a noticeable part of a second by design).
    must_change_password: the password is a one-time one (管理's 追加): the person chooses their own
    at the first sign-in.
    """
    _check_username(username)
    display_name = _check_display_name(display_name)
    kana = _check_kana(display_name_kana)
    title = _optional_line(title, "役職", "title")
    mail = _check_mail(mail)
    roles = _check_roles(roles)
    _check_password(password, username)
    if get_user(username) is not None:
        raise DirectoryInputError(_DUPLICATE, "duplicate_username", status=409, field="username")
    user = User(
        username=username,
        display_name=display_name,
        display_name_kana=kana,
        title=title,
        mail=mail,
        source="local",
        password_hash=password_hash or hash_password(password),
        active=True,
        must_change_password=must_change_password,
    )
    user.department, user.section = _resolve_units(department_code, section_code)
    _set_roles(user, roles)
    db.session().add(user)
    audit.record(
        "user.create",
        actor=actor,
        target=username,
        detail={"roles": sorted(roles), "before": None, "after": facts(user)},
    )
    db.session().flush()
    _announce_changed(user.id, created=True, moved=True)
    return user


def _clean_line(value: str, label: str, field: str | None = None) -> str:
    # The shared rule for names (workspace/text.py), in the one place local directory data is written.
    try:
        return text.clean_line(value, label)
    except text.TextRefused as error:
        raise DirectoryInputError(str(error), field=field) from None


def _check_display_name(value: str | None) -> str:
    name = _clean_line(value or "", "氏名", "display_name").strip()
    if not name:
        raise DirectoryInputError("氏名は必須です。", field="display_name")
    if len(name) > DISPLAY_NAME_MAX:
        raise DirectoryInputError(
            f"氏名は{DISPLAY_NAME_MAX}文字以内で入力してください。", field="display_name"
        )
    return name


def _optional_line(value: str | None, label: str, field: str | None = None) -> str | None:
    line = (_clean_line(value, label, field).strip() or None) if value else None
    if field == "title" and line is not None and len(line) > 50:  # the column's width
        raise DirectoryInputError("役職は50文字以内で入力してください。", field="title")
    return line


def _check_mail(value: str | None) -> str | None:
    mail = _optional_line(value, "メールアドレス", "mail")
    if mail is not None and (len(mail) > MAIL_MAX or not _MAIL.fullmatch(mail)):
        raise DirectoryInputError(
            "メールアドレスの形式が正しくありません（例：yamada@vill.example.lg.jp）。", field="mail"
        )
    return mail


def _check_password(password: str, username: str) -> None:
    try:
        passwords.check(password, username)
    except passwords.WeakPassword as error:
        raise DirectoryInputError(str(error), "weak_password", field="password") from None


def _check_local_password(user: User) -> None:
    if user.source != "local":
        # Directory people sign in with the directory's password; a local one would never be asked.
        raise DirectoryInputError(
            "ディレクトリの職員のパスワードはディレクトリで変更してください。",
            "directory_managed",
            status=409,
        )


def _check_kana(value: str | None) -> str | None:
    try:
        return people.clean_kana(value)
    except ValueError as error:
        raise DirectoryInputError(str(error), field="display_name_kana") from None


def _check_username(username: str) -> None:
    if not isinstance(username, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", username or ""):
        raise DirectoryInputError("ユーザー名は英数字と . _ - で64文字以内にしてください。", field="username")


def _resolve_units(
    department_code: str | None, section_code: str | None
) -> tuple[Department | None, Department | None]:
    department = get_department(department_code) if department_code else None
    if department_code and (department is None or not department.active or department.is_section):
        raise DirectoryInputError(
            f"課コード {printable(department_code, 32)} は登録されていません。", field="department_code"
        )
    section = get_department(section_code) if section_code else None
    if section_code and (
        section is None or not section.active or section.parent_id != getattr(department, "id", None)
    ):
        raise DirectoryInputError(
            f"係コード {printable(section_code, 32)} はその課の係ではありません。", field="section_code"
        )
    return department, section


@db.writes
def update_local_user(
    username: str,
    *,
    actor: str,
    password: str | None = None,
    display_name: str | None = None,
    department_code: str | None = None,
    title: str | None = None,
    roles: Iterable[str] | None = None,
    display_name_kana: str | None = None,
    section_code: str | None = None,
    mail: str | None = None,
) -> User:
    """Change a local account's password, name, 読み, 課/係, title, roles or mail and commit.

    None leaves a field as it is. display_name_kana, title, mail: an empty string clears it.
    department_code: the new 課 ("" for none); its 係 is then section_code (none when not given).
    section_code alone: a 係 of the person's 課 ("" for none). The audit entry ``user.update`` holds
    the changed fields before and after.
    """
    user = get_user(username)
    if user is None:
        raise DirectoryInputError("そのユーザーは登録されていません。", "not_found", status=404)
    before = facts(user)
    if display_name_kana is not None:
        _check_local(user)
        user.display_name_kana = _check_kana(display_name_kana)
    if password is not None:
        _check_local_password(user)
        _check_password(password, user.username)
        user.password_hash = hash_password(password)
    if display_name is not None:
        user.display_name = _check_display_name(display_name)
    if department_code is not None:
        user.department, user.section = _resolve_units(department_code, section_code)
    elif section_code is not None:
        _, user.section = _resolve_units(user.department.code if user.department else None, section_code)
    if title is not None:
        user.title = _optional_line(title, "役職", "title")
    if mail is not None:
        user.mail = _check_mail(mail)
    if roles is not None:
        _set_roles(user, _check_roles(roles))
    after = facts(user)
    moved = (before["department"], before["section"]) != (after["department"], after["section"])
    audit.record(
        "user.update",
        actor=actor,
        target=user.username,
        detail={
            "password_changed": password is not None,
            "moved": moved,
            "kana_changed": display_name_kana is not None,
            **_changed(before, after),
        },
    )
    _announce_changed(user.id, created=False, moved=moved)
    return user


@db.writes
def rename_user(old: str, new: str, *, actor: str) -> None:
    """Give the account named exactly ``old`` the user name ``new`` and commit.

    Exact, not case-insensitive: this is how an operator settles two names that differ only in case
    (migration 0004_username_nocase lists them), where a case-insensitive lookup would find both.
    Sessions, tokens and records refer to the id and stay valid.

    It reads and writes only the id and the user name: it is the way out when an upgrade stopped at
    0004 on such a pair, so the database may still lack columns today's User model has.
    """
    user_id = db.session().scalar(select(User.id).where(User.username == old))
    if user_id is None:
        raise DirectoryInputError("そのユーザーは登録されていません。", "not_found", status=404)
    _check_username(new)
    others = select(User.id).where(func.lower(User.username) == func.lower(new), User.id != user_id)
    if db.session().execute(others).first() is not None:
        raise DirectoryInputError(_DUPLICATE, "duplicate_username", status=409, field="username")
    db.session().execute(update(User).where(User.id == user_id).values(username=new))
    audit.record("user.rename", actor=actor, target=new, detail={"from": old})


def _check_local(user: User) -> None:
    if user.source != "local":
        # The directory is the truth for its people: a local change would be undone by the next sync.
        raise DirectoryInputError(
            "ディレクトリの職員の読みはディレクトリで変更してください。", "directory_managed", status=409,
            field="display_name_kana",
        )


def set_own_kana(user: User, kana: str) -> User:
    """Change one's own 読み (local accounts only; an empty string clears it) and commit."""
    return update_local_user(user.username, actor=user.username, display_name_kana=kana or "")


@db.writes
def set_active(username: str, active: bool, *, actor: str) -> User:
    """Enable or disable an account and commit; disabling ends its sessions and sockets at once.

    Its API tokens stop with it (a token of an inactive person is refused, workspace.auth). An
    account already in that state is left as it is (no audit entry: nothing changed).
    """
    user = get_user(username)
    if user is None:
        raise DirectoryInputError("そのユーザーは登録されていません。", "not_found", status=404)
    if bool(user.active) == active:
        return user
    if active:
        user.active = True
        audit.record(
            "user.enable", actor=actor, target=user.username,
            detail={"before": {"active": False}, "after": {"active": True}},
        )
        # Domains rebuild what deactivation removed (channel memberships, rooms).
        _announce_changed(user.id, created=False, moved=True)
        return user
    _deactivate(user, actor=actor, reason="disabled")
    _announce_deactivated([user.id])
    return user


def _deactivate(user: User, *, actor: str, reason: str) -> int:
    user.active = False
    ended = _end_sessions(user)
    audit.record(
        "user.deactivate",
        actor=actor,
        target=user.username,
        detail={
            "reason": reason,
            "before": {"active": True},
            "after": {"active": False},
            "sessions_ended": ended,
        },
    )
    return ended


def _end_sessions(user: User) -> int:
    result = db.session().execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)


# --- 管理: the administrators' page and API (workspace/admin/users.py) -------------------------
#
# The same rules as the CLI (the functions above); in addition: only on the local backend (with
# LDAP the directory is the truth: 409), only local accounts, the fields a person needs to be found
# and routed (読み, 課, 役職) are required, a one-time password is made here and shown once.

TEMPORARY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"  # no 0/O, 1/l/I


def managed_here() -> bool:
    """True on the local backend: people are added and changed here, not in LDAP / AD."""
    return current_app.config.get("DIRECTORY", "local") != "ldap"


def check_managed_here() -> None:
    """Raise DirectoryInputError (409 ``directory_managed``) on the LDAP backend."""
    if not managed_here():
        raise DirectoryInputError(
            "職員の登録内容は庁内のディレクトリ（LDAP）で管理しています。変更はディレクトリで行い、"
            "「今すぐ同期」で取り込んでください。",
            "directory_managed",
            status=409,
        )


def _managed_local_user(username: str) -> User:
    check_managed_here()
    user = get_user(username)
    if user is None:
        raise DirectoryInputError("その職員は登録されていません。", "not_found", status=404)
    if user.source != "local":
        raise DirectoryInputError(
            "この職員はディレクトリから取り込んだ職員です。変更はディレクトリで行ってください。",
            "directory_managed",
            status=409,
        )
    return user


def temporary_password(username: str) -> str:
    """A one-time password (``Xk7p-Qm3a-Zt9w``: 12 random characters, about 70 bits) the rule accepts."""
    while True:
        groups = ("".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(3))
        candidate = "-".join(groups)
        try:
            passwords.check(candidate, username)
        except passwords.WeakPassword:
            continue
        return candidate


def _required(value: str | None, message: str, field: str) -> str:
    if value is None or not str(value).strip():
        raise DirectoryInputError(message, field=field)
    return value


@db.writes
def create_user(
    *,
    actor: str,
    username: str,
    display_name: str,
    display_name_kana: str | None,
    department_code: str | None,
    title: str | None,
    roles: Iterable[str] = (),
    section_code: str | None = None,
    mail: str | None = None,
) -> tuple[User, str]:
    """管理's 追加: a local account with a one-time password; return (user, the password, shown once).

    The person must choose their own password at the first sign-in (``must_change_password``).
    """
    check_managed_here()
    _check_username(username)
    _required(display_name, "氏名は必須です。", "display_name")
    _required(display_name_kana, "読みは必須です（例：やまだ たろう）。", "display_name_kana")
    _required(department_code, "課を選んでください。", "department_code")
    _required(title, "役職は必須です（例：主事）。", "title")
    secret = temporary_password(username)
    user = add_local_user(
        username,
        display_name,
        secret,
        department_code=department_code,
        section_code=section_code or None,
        title=title,
        mail=mail or None,
        roles=roles,
        actor=actor,
        display_name_kana=display_name_kana,
        must_change_password=True,
    )
    return user, secret


@db.writes
def edit_user(
    username: str,
    *,
    actor: str,
    display_name: str | None = None,
    display_name_kana: str | None = None,
    department_code: str | None = None,
    section_code: str | None = None,
    title: str | None = None,
    roles: Iterable[str] | None = None,
    mail: str | None = None,
) -> User:
    """管理's 編集 of a local account (None leaves a field as it is; 読み, 課 and 役職 stay required)."""
    user = _managed_local_user(username)
    if display_name_kana is not None:
        _required(display_name_kana, "読みは必須です（例：やまだ たろう）。", "display_name_kana")
    if department_code is not None:
        _required(department_code, "課を選んでください。", "department_code")
    if title is not None:
        _required(title, "役職は必須です（例：主事）。", "title")
    if roles is not None and "admin" not in set(roles) and user.username.lower() == actor.lower():
        raise DirectoryInputError(
            "自分の管理者の役割は外せません（ほかの管理者に依頼してください）。", "self", field="roles"
        )
    return update_local_user(
        user.username,
        actor=actor,
        display_name=display_name,
        display_name_kana=display_name_kana,
        department_code=department_code,
        section_code=section_code,
        title=title,
        roles=roles,
        mail=mail,
    )


@db.writes
def set_user_active(username: str, active: bool, *, actor: str) -> User:
    """管理's 無効にする / 有効にする: ``set_active`` (sessions, tokens and sockets end at once)."""
    user = _managed_local_user(username)
    if not active and user.username.lower() == actor.lower():
        raise DirectoryInputError("自分自身を無効にすることはできません。", "self", status=409)
    return set_active(user.username, active, actor=actor)


@db.writes
def reset_password(username: str, *, actor: str) -> tuple[User, str]:
    """管理's パスワードの再設定: a one-time password (returned once, stored only hashed).

    The person must change it at the next sign-in; their open browser sessions end (whoever had
    the old password is signed out). API tokens stay: they are the person's own, not the password.
    """
    user = _managed_local_user(username)
    secret = temporary_password(user.username)
    before = bool(user.must_change_password)
    user.password_hash = hash_password(secret)
    user.must_change_password = True
    ended = _end_sessions(user)
    audit.record(
        "user.password_reset",
        actor=actor,
        target=user.username,
        detail={
            "before": {"must_change_password": before},
            "after": {"must_change_password": True},
            "sessions_ended": ended,
        },
    )
    return user, secret


@dataclass
class UserPage:
    """One page of 管理's list of people."""

    users: list[User]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _haystack(user: User) -> tuple[str, ...]:
    return (
        people.fold(user.display_name),
        people.fold(user.display_name_kana),
        user.username.lower(),
        people.fold(user.department.name if user.department else None),
        people.fold(user.section.name if user.section else None),
        people.fold(user.title),
    )


def find_users(query: str = "", *, active: bool | None = True, page: int = 1, per_page: int = 50) -> UserPage:
    """管理's list: people whose 氏名, 読み, ユーザー名, 課, 係 or 役職 contains ``query`` (folded as the
    person picker folds: kana of either kind, full-width letters, spaces ignored), by 読み.

    active: True (有効), False (無効) or None (すべて). A page past the last gives the last.
    """
    wanted = people.fold(query)
    statement = select(User)
    if active is not None:
        statement = statement.where(User.active.is_(active))
    found = [
        user
        for user in db.session().execute(statement).unique().scalars()
        if not wanted or any(wanted in field for field in _haystack(user))
    ]
    found.sort(key=lambda u: (people.fold(u.display_name_kana or u.display_name), u.username.lower()))
    result = UserPage([], len(found), 1, per_page)
    result.page = min(max(1, page), result.pages)
    start = (result.page - 1) * per_page
    result.users = found[start : start + per_page]
    return result


def last_sync() -> SyncRun | None:
    """The newest directory sync (finished or failed), or None."""
    return db.session().scalar(select(SyncRun).order_by(SyncRun.id.desc()).limit(1))


def _announce_changed(user_id: int, *, created: bool, moved: bool) -> None:
    # After the commit: the receivers (chat memberships) read the change and write in units of their own.
    app = current_app._get_current_object()
    db.on_commit(
        lambda: signals.user_changed.send(app, user_id=user_id, created=created, department_changed=moved)
    )


def _announce_deactivated(user_ids: list[int]) -> None:
    app = current_app._get_current_object()

    def announce() -> None:
        for user_id in user_ids:
            signals.user_deactivated.send(app, user_id=user_id)

    db.on_commit(announce)


# --- LDAP entries and the sync ---------------------------------------------------------------


@db.joins_unit
def apply_entry(entry) -> tuple[User, bool, bool]:  # entry: workspace.ldap.DirectoryEntry
    """Upsert a user (and its 課/係) from a directory entry; return (user, created, moved). A write unit.

    A user this call deactivates is remembered in session.info["deactivated_ids"] for the sync's report.
    """
    entry = _safe_entry(entry)
    department = section = None
    if entry.department_code and entry.department_name:
        department = ensure_department(entry.department_code, entry.department_name)
        if entry.section_code and entry.section_name:
            section = ensure_department(entry.section_code, entry.section_name, parent=department)
    user = get_user(entry.username)
    created = user is None
    if user is None:
        user = User(username=entry.username, source="ldap", display_name=entry.display_name or entry.username)
        db.session().add(user)
    moved = not created and (user.department_id != getattr(department, "id", None))
    user.source, user.ldap_dn = "ldap", entry.dn
    user.display_name = entry.display_name or entry.username
    user.display_name_kana = _kana_from_directory(entry.display_name_kana)
    user.mail, user.title = entry.mail, entry.title
    user.department, user.section = department, section
    user.password_hash = None  # directory accounts never have a local password
    _set_roles(user, entry.roles)
    if entry.enabled:
        user.active = True
    elif user.active and not created:
        _deactivate(user, actor="directory", reason="disabled in directory")
        db.session().info.setdefault("deactivated_ids", []).append(user.id)
    else:
        user.active = False
    db.session().flush()
    return user, created, moved


_ENTRY_TEXT = ("display_name", "display_name_kana", "title", "mail", "department_name", "section_name")


def _safe_entry(entry):  # entry: workspace.ldap.DirectoryEntry
    """Return entry with its human-readable attributes made safe by the shared text rule.

    The directory is the truth for its people and not ours to refuse: a record whose 氏名 holds a
    bidi override or a control character is still imported (refusing it would lock a colleague out
    for one odd attribute), with those characters removed (workspace.text.strip_line) — never shown
    raw. The operator is told in the log, so the directory itself can be corrected.
    """
    changes = {}
    for name in _ENTRY_TEXT:
        value = getattr(entry, name, None)
        if value is not None and not text.is_clean_line(value):
            changes[name] = text.strip_line(value)
    if not changes:
        return entry
    current_app.logger.warning(
        "directory entry %s: characters the text rule refuses were removed from %s",
        printable(entry.username, 64),
        ", ".join(sorted(changes)),
    )
    return dataclasses.replace(entry, **changes)


def _kana_from_directory(value: str | None) -> str | None:
    # A directory may hold a 読み with romaji or stray characters: keep it readable, never refuse the entry.
    try:
        return people.clean_kana(value)
    except ValueError:
        return " ".join(value.split())[: people.KANA_MAX] if value else None


@dataclass
class SyncReport:
    """What one sync did."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    total: int = 0


#: Entries applied per write unit: the progress shows between them and other writers are not held.
SYNC_BATCH = 50


def sync_from_ldap(progress: Callable[[Iterable], Iterable] | None = None) -> SyncReport:
    """Import or update every user and department from LDAP, deactivate vanished users, commit.

    progress wraps the entry iterable (the CLI passes a click progress bar; 管理's 「今すぐ同期」 job
    a function that reports to its progress bar). The entries are applied SYNC_BATCH to a write unit
    (an upsert each, so a sync stopped halfway is completed by the next), the wrapper advanced inside
    it; people who vanished from the directory are deactivated at the end, in the unit that records
    the run, once every entry has been seen.
    Raises workspace.ldap.DirectoryError (DirectoryUnavailable …) when the directory cannot be
    read; nothing in the directory changes then, and the failed run is recorded (``last_sync``).
    """
    from workspace import ldap

    run = SyncRun()
    try:
        settings = ldap.LdapSettings.from_config(current_app.config)
        entries = ldap.iter_entries(settings)
    except (ldap.DirectoryError, ValueError) as error:
        with db.write():
            run.finished_at, run.error = utcnow(), printable(str(error), 500) or type(error).__name__
            db.session().add(run)
            audit.record("directory.sync", actor="directory", detail={"error": run.error})
        raise
    report = SyncReport(total=len(entries))
    seen: set[str] = set()
    disabled_ids: list[int] = []
    remaining = iter(progress(entries) if progress else entries)
    while _apply_batch(remaining, report, seen, disabled_ids) == SYNC_BATCH:
        pass
    with db.write():
        vanished = (
            db.session()
            .execute(
                select(User).where(
                    User.source == "ldap", User.active.is_(True), User.username.not_in(seen or {""})
                )
            )
            .unique()
            .scalars()
            .all()
        )
        for user in vanished:
            _deactivate(user, actor="directory", reason="not in directory")
        # Only users whose state changed in this run: someone disabled long ago is not news.
        disabled_ids = [u.id for u in vanished] + disabled_ids
        report.deactivated = len(disabled_ids)
        run.created, run.updated, run.deactivated, run.finished_at = (
            report.created,
            report.updated,
            report.deactivated,
            utcnow(),
        )
        db.session().add(run)
        audit.record("directory.sync", actor="directory", detail=report.__dict__)
        _announce_deactivated([u.id for u in vanished])
    return report


def _apply_batch(remaining: Iterator, report: SyncReport, seen: set[str], disabled_ids: list[int]) -> int:
    """Apply up to SYNC_BATCH entries in one write unit; return how many there were.

    The progress wrapper is advanced inside the unit, so what it reports (a job's progress row)
    commits with the entries it counts: the bar never runs ahead of the directory.
    """
    count = 0
    with db.write():  # after the directory read: no writer waits on the network
        db.session().info.pop("deactivated_ids", None)
        for entry in remaining:
            user, created, moved = apply_entry(entry)
            seen.add(user.username)
            report.created += created
            report.updated += not created
            _announce_changed(user.id, created=created, moved=moved)
            count += 1
            if count == SYNC_BATCH:
                break
        disabled = db.session().info.pop("deactivated_ids", [])
        _announce_deactivated(disabled)
    disabled_ids.extend(disabled)
    return count


# --- lookups used by approval routes ---------------------------------------------------------


def _titles(key: str) -> list[str]:
    return csv_list(current_app.config.get(key))


def _first_with_title(unit_id: int | None, titles: list[str], field) -> User | None:
    if unit_id is None:
        return None
    rows = (
        db.session()
        .execute(
            select(User)
            .where(field == unit_id, User.active.is_(True), User.title.in_(titles))
            .order_by(User.id)
        )
        .unique()
        .scalars()
        .all()
    )
    return rows[0] if len(rows) == 1 else None


def section_chief_of(user: User) -> User | None:
    """Return the 係長 of the user's 係, or of the user's 課 when there is no 係 (unique, active)."""
    titles = _titles("SECTION_CHIEF_TITLES")
    if user.section_id is not None:
        return _first_with_title(user.section_id, titles, User.section_id)
    return _first_with_title(user.department_id, titles, User.department_id)


def department_head_of(user: User) -> User | None:
    """Return the 課長 of the user's 課 (unique, active)."""
    return _first_with_title(user.department_id, _titles("DEPARTMENT_HEAD_TITLES"), User.department_id)


def users_with_title(title: str, department_code: str | None = None) -> list[User]:
    """Return active users holding title, optionally only in the department with code."""
    query = select(User).where(User.active.is_(True), User.title == title)
    if department_code is not None:
        dept = get_department(department_code)
        if dept is None:
            return []
        query = query.where(User.department_id == dept.id)
    return list(db.session().execute(query.order_by(User.id)).unique().scalars())
