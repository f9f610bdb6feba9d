"""Sign-in: credentials against the configured directory, server-side sessions, personal API tokens.

Unknown user and wrong password are one answer (InvalidLogin). Every outcome is audited.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select, update

from workspace import audit, db, live_access, signals, text
from workspace.directory import USERNAME_MAX, apply_entry, get_user
from workspace.models import ApiToken, User, UserSession, utcnow
from workspace.security import digest, has_control_chars, new_secret, printable, verify_password


class SignInError(Exception):
    """A sign-in that did not succeed; message is Japanese and safe to show."""

    status = 401
    code = "invalid_credentials"
    message = "ユーザー名またはパスワードが正しくありません。"


class InvalidLogin(SignInError):
    """Unknown user, wrong or empty password, disabled account — deliberately indistinguishable."""


class DirectoryDown(SignInError):
    """The directory could not be reached; people already signed in carry on."""

    status = 503
    code = "directory_unavailable"
    message = "ディレクトリ（LDAP）に接続できません。しばらくしてからもう一度お試しください。"


def plausible_username(username: str) -> bool:
    """Reject what can never be a username before it reaches the database or the directory."""
    return 0 < len(username) <= USERNAME_MAX and not has_control_chars(username)


def check_credentials(username: str, password: str, *, address: str | None) -> User:
    """Return the active user for these credentials and commit the sign-in's effects.

    Raises InvalidLogin or DirectoryDown; either way the attempt is audited and committed.
    The password check and the directory bind run before the write unit, so no writer waits on them.
    """
    username = username or ""
    try:
        if not password or "\x00" in password or not plausible_username(username):
            raise InvalidLogin()
        ldap_entry = None
        if current_app.config["DIRECTORY"] == "ldap":
            ldap_entry = _authenticate_ldap(username, password)
        else:
            _check_local(username, password)
        with db.write():  # the refreshed directory entry, last login and audit commit together
            user = _apply_ldap(ldap_entry) if ldap_entry is not None else _active_local(username)
            user.last_login_at = utcnow()
            audit.record("signin.success", actor=user.username, address=address)
    except SignInError as error:
        # The unit rolled back whatever the attempt wrote; the failure is recorded on its own.
        _record_failure(username, address, error)
        raise
    return user


@db.writes
def _record_failure(username: str, address: str | None, error: SignInError) -> None:
    audit.record(
        "signin.failure",
        actor=printable(username, 64) or None,
        address=address,
        detail={"reason": error.code},
    )


def _check_local(username: str, password: str) -> User:
    user = get_user(username)
    stored = user.password_hash if user is not None and user.source == "local" else None
    if not verify_password(stored, password) or user is None or not user.active:
        raise InvalidLogin()
    return user


def _active_local(username: str) -> User:
    # Again inside the unit: the check above read outside it (an account disabled meanwhile stays out).
    user = get_user(username)
    if user is None or not user.active:
        raise InvalidLogin()
    return user


def _authenticate_ldap(username: str, password: str):  # -> workspace.ldap.DirectoryEntry
    from workspace import ldap

    settings = ldap.LdapSettings.from_config(current_app.config)
    try:
        return ldap.authenticate(settings, username, password)
    except ldap.DirectoryUnavailable as error:
        current_app.logger.warning("directory unavailable at sign-in: %s", printable(str(error), 200))
        raise DirectoryDown() from error
    except ldap.InvalidCredentials as error:
        raise InvalidLogin() from error


def _apply_ldap(entry) -> User:  # entry: workspace.ldap.DirectoryEntry
    # Sign-in refreshes the user's attributes from the directory.
    user, created, moved = apply_entry(entry)
    if not user.active:
        raise InvalidLogin()
    db.session().flush()
    _after_commit_user_changed(user.id, created, moved)
    return user


def _after_commit_user_changed(user_id: int, created: bool, moved: bool) -> None:
    app = current_app._get_current_object()
    db.on_commit(
        lambda: signals.user_changed.send(app, user_id=user_id, created=created, department_changed=moved)
    )


# --- browser sessions ------------------------------------------------------------------------


@db.writes
def open_session(user: User, *, address: str | None, user_agent: str | None) -> str:
    """Create a server-side session for user, commit, and return its key for the cookie."""
    key = new_secret()
    hours = int(current_app.config["SESSION_HOURS"])
    db.session().add(
        UserSession(
            user_id=user.id,
            key_hash=digest(key),
            address=address,
            user_agent=(user_agent or "")[:300],
            expires_at=utcnow() + dt.timedelta(hours=hours),
        )
    )
    user.login_key = key
    return key


def load_session(key: str) -> User | None:
    """Return the user of a live session key, or None when revoked, expired or deactivated."""
    row = (
        db.session()
        .execute(select(UserSession).where(UserSession.key_hash == digest(key)))
        .scalar_one_or_none()
    )
    if row is None or row.revoked_at is not None or _expired(row.expires_at):
        return None
    user = db.session().get(User, row.user_id)
    if user is None or not user.active:
        return None
    user.login_key = key
    return user


@db.writes
def close_session(key: str | None, *, actor: str | None) -> None:
    """Revoke the session with key (logout) and commit."""
    if key:
        db.session().execute(
            update(UserSession).where(UserSession.key_hash == digest(key)).values(revoked_at=utcnow())
        )
        live_access.changed(db.session())  # open sockets of this session end too
    audit.record("signout", actor=actor)


def _expired(moment: dt.datetime | None) -> bool:
    if moment is None:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment <= utcnow()


# --- personal API tokens ---------------------------------------------------------------------

TOKEN_PREFIX = "wst_"  # noqa: S105 - a public marker, not a secret


class TokenNameError(ValueError):
    """A token name that is refused (the message is Japanese, for the person)."""


@db.writes
def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for user and commit; return (row, secret). The secret is never stored."""
    try:
        name = text.clean_line(name or "", "トークンの名前").strip() or "API"
    except text.TextRefused as error:
        raise TokenNameError(str(error)) from None
    if len(name) > 100:
        raise TokenNameError("トークンの名前は100文字以内で入力してください。")
    secret = new_secret(TOKEN_PREFIX)
    days = int(current_app.config["TOKEN_DAYS"])
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(secret),
        hint=secret[:10],
        expires_at=utcnow() + dt.timedelta(days=days) if days else None,
    )
    db.session().add(token)
    audit.record("token.create", actor=user.username, target=name)
    return token, secret


def user_for_token(secret: str) -> tuple[User, ApiToken] | None:
    """Return (user, token) for a live token secret, or None when unknown, revoked, expired or inactive."""
    if not secret or len(secret) > 200:
        return None
    token = (
        db.session()
        .execute(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
        .unique()
        .scalar_one_or_none()
    )
    if token is None or token.revoked_at is not None or _expired(token.expires_at) or not token.user.active:
        return None
    return token.user, token


def touch_token(token: ApiToken) -> None:
    """Record use of a token, at most once a minute so reads do not become writes."""
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    if last is None or now - last > dt.timedelta(minutes=1):
        with db.write():
            token.last_used_at = now


def list_tokens(user: User) -> list[ApiToken]:
    """Return the user's tokens, newest first (revoked ones included, marked)."""
    return list(
        db.session()
        .execute(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
        .unique()
        .scalars()
    )


def revoke_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens and commit; False when it is not theirs or unknown."""
    token = db.session().get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return False
    if token.revoked_at is None:
        with db.write():
            token.revoked_at = utcnow()
            audit.record("token.revoke", actor=user.username, target=token.name)
    return True


def audit_denied(
    action: str, *, actor: str | None, target: str | None = None, reason: str = "", address: str | None = None
) -> None:
    """Record a refused request (foreign origin, bad CSRF token, forbidden action) and commit."""
    if db.in_write_unit():
        raise RuntimeError("audit_denied() records on its own; call it outside a write unit")
    db.session().rollback()
    with db.write():
        detail = {"reason": reason}
        audit.record("denied." + action, actor=actor, target=target, address=address, detail=detail)
