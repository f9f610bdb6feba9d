"""The directory as the workspace knows it: departments, sections, users and roles.

Local accounts are managed here; LDAP entries are upserted here (at sign-in and by the sync), and
approval routes and chat channels read people from here, so someone who has never signed in still
exists once a sync has run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, update

from workspace import audit, db, passwords, people, signals, text
from workspace.config import csv_list
from workspace.models import Department, SyncRun, User, UserRole, UserSession, utcnow
from workspace.security import hash_password, printable

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 100  # the column's width


class DirectoryInputError(ValueError):
    """Bad input to a directory change; message is Japanese and safe to show."""


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


def _set_roles(user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    for row in list(user.role_rows):
        if row.role not in wanted:
            user.role_rows.remove(row)
    for role in wanted - user.roles:
        user.role_rows.append(UserRole(role=role))


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
) -> User:
    """Create a local account (argon2 hash) and commit; raise DirectoryInputError on bad input.

    password_hash: the argon2 hash of password made already (the demo's one shared password is
    hashed once, not once per account: each hash costs a noticeable part of a second by design).
    """
    _check_username(username)
    display_name = _check_display_name(display_name)
    title, mail = _optional_line(title, "役職"), _optional_line(mail, "メールアドレス")
    kana = _check_kana(display_name_kana)
    _check_password(password, username)
    if get_user(username) is not None:
        raise DirectoryInputError(
            "そのユーザー名はすでに使われています（大文字と小文字の違いだけでは別の名前になりません）。"
        )
    user = User(
        username=username,
        display_name=display_name,
        display_name_kana=kana,
        title=title,
        mail=mail,
        source="local",
        password_hash=password_hash or hash_password(password),
        active=True,
    )
    user.department, user.section = _resolve_units(department_code, section_code)
    _set_roles(user, roles)
    db.session().add(user)
    audit.record("user.create", actor=actor, target=username, detail={"roles": sorted(set(roles))})
    db.session().flush()
    _announce_changed(user.id, created=True, moved=True)
    return user


def _clean_line(value: str, label: str) -> str:
    # The shared rule for names (workspace/text.py), in the one place local directory data is written.
    try:
        return text.clean_line(value, label)
    except text.TextRefused as error:
        raise DirectoryInputError(str(error)) from None


def _check_display_name(value: str | None) -> str:
    name = _clean_line(value or "", "氏名").strip()
    if not name:
        raise DirectoryInputError("氏名は必須です。")
    if len(name) > DISPLAY_NAME_MAX:
        raise DirectoryInputError(f"氏名は{DISPLAY_NAME_MAX}文字以内で入力してください。")
    return name


def _optional_line(value: str | None, label: str) -> str | None:
    return (_clean_line(value, label).strip() or None) if value else None


def _check_password(password: str, username: str) -> None:
    try:
        passwords.check(password, username)
    except passwords.WeakPassword as error:
        raise DirectoryInputError(str(error)) from None


def _check_local_password(user: User) -> None:
    if user.source != "local":
        # Directory people sign in with the directory's password; a local one would never be asked.
        raise DirectoryInputError("ディレクトリの職員のパスワードはディレクトリで変更してください。")


def _check_kana(value: str | None) -> str | None:
    try:
        return people.clean_kana(value)
    except ValueError as error:
        raise DirectoryInputError(str(error)) from None


def _check_username(username: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", username or ""):
        raise DirectoryInputError("ユーザー名は英数字と . _ - で64文字以内にしてください。")


def _resolve_units(
    department_code: str | None, section_code: str | None
) -> tuple[Department | None, Department | None]:
    department = get_department(department_code) if department_code else None
    if department_code and department is None:
        raise DirectoryInputError(f"課コード {department_code} は登録されていません。")
    section = get_department(section_code) if section_code else None
    if section_code and (section is None or section.parent_id != getattr(department, "id", None)):
        raise DirectoryInputError(f"係コード {section_code} はその課の係ではありません。")
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
) -> User:
    """Change a local account's password, name, 読み, department, title or roles and commit.

    display_name_kana: a new 読み; an empty string clears it, None leaves it as it is.
    """
    user = get_user(username)
    if user is None:
        raise DirectoryInputError("そのユーザーは登録されていません。")
    moved = False
    if display_name_kana is not None:
        _check_local(user)
        user.display_name_kana = _check_kana(display_name_kana)
    if password is not None:
        _check_local_password(user)
        _check_password(password, user.username)
        user.password_hash = hash_password(password)
    if display_name:
        user.display_name = _check_display_name(display_name)
    if department_code is not None:
        department, _ = _resolve_units(department_code, None)
        moved = department is not user.department
        user.department, user.section = department, None
    if title is not None:
        user.title = _optional_line(title, "役職")
    if roles is not None:
        _set_roles(user, roles)
    audit.record(
        "user.update",
        actor=actor,
        target=username,
        detail={
            "password_changed": password is not None,
            "moved": moved,
            "kana_changed": display_name_kana is not None,
        },
    )
    _announce_changed(user.id, created=False, moved=moved)
    return user


@db.writes
def rename_user(old: str, new: str, *, actor: str) -> User:
    """Give the account named exactly ``old`` the user name ``new`` and commit.

    Exact, not case-insensitive: this is how an operator settles two names that differ only in case
    (migration 0004_username_nocase lists them), where a case-insensitive lookup would find both.
    Sessions, tokens and records refer to the id and stay valid.
    """
    user = db.session().execute(select(User).where(User.username == old)).unique().scalar_one_or_none()
    if user is None:
        raise DirectoryInputError("そのユーザーは登録されていません。")
    _check_username(new)
    others = select(User.id).where(func.lower(User.username) == func.lower(new), User.id != user.id)
    if db.session().execute(others).first() is not None:
        raise DirectoryInputError(
            "そのユーザー名はすでに使われています（大文字と小文字の違いだけでは別の名前になりません）。"
        )
    user.username = new
    audit.record("user.rename", actor=actor, target=new, detail={"from": old})
    return user


def _check_local(user: User) -> None:
    if user.source != "local":
        # The directory is the truth for its people: a local change would be undone by the next sync.
        raise DirectoryInputError("ディレクトリの職員の読みはディレクトリで変更してください。")


def set_own_kana(user: User, kana: str) -> User:
    """Change one's own 読み (local accounts only; an empty string clears it) and commit."""
    return update_local_user(user.username, actor=user.username, display_name_kana=kana or "")


@db.writes
def set_active(username: str, active: bool, *, actor: str) -> User:
    """Enable or disable an account and commit; disabling ends its sessions and sockets at once."""
    user = get_user(username)
    if user is None:
        raise DirectoryInputError("そのユーザーは登録されていません。")
    if active:
        user.active = True
        audit.record("user.enable", actor=actor, target=username)
        # Domains rebuild what deactivation removed (channel memberships, rooms).
        _announce_changed(user.id, created=False, moved=True)
        return user
    _deactivate(user, actor=actor, reason="disabled")
    _announce_deactivated([user.id])
    return user


def _deactivate(user: User, *, actor: str, reason: str) -> None:
    user.active = False
    db.session().execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record("user.deactivate", actor=actor, target=user.username, detail={"reason": reason})


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


def sync_from_ldap(progress: Callable[[Iterable], Iterable] | None = None) -> SyncReport:
    """Import or update every user and department from LDAP, deactivate vanished users, commit.

    progress wraps the entry iterable (the CLI passes a click progress bar).
    Raises workspace.ldap.DirectoryUnavailable when the directory cannot be read; nothing changes then.
    """
    from workspace import ldap

    settings = ldap.LdapSettings.from_config(current_app.config)
    run = SyncRun()
    entries = ldap.iter_entries(settings)
    report = SyncReport(total=len(entries))
    changed: list[tuple[int, bool, bool]] = []
    seen: set[str] = set()
    with db.write():  # after the directory read: no writer waits on the network
        iterable = progress(entries) if progress else entries
        for entry in iterable:
            user, created, moved = apply_entry(entry)
            seen.add(user.username)
            report.created += created
            report.updated += not created
            changed.append((user.id, created, moved))
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
        disabled_ids = [u.id for u in vanished] + db.session().info.pop("deactivated_ids", [])
        report.deactivated = len(disabled_ids)
        run.created, run.updated, run.deactivated, run.finished_at = (
            report.created,
            report.updated,
            report.deactivated,
            utcnow(),
        )
        db.session().add(run)
        audit.record("directory.sync", actor="directory", detail=report.__dict__)
        for user_id, created, moved in changed:
            _announce_changed(user_id, created=created, moved=moved)
        _announce_deactivated(disabled_ids)
    return report


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
