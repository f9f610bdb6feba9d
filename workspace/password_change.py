"""Changing one's own password, and the forced change after an administrator's reset.

- :func:`change_own` is the rule, shared by the 設定 page and ``POST /api/v1/me/password``: local
  accounts only (a directory account's password is the directory's: 409), the current password
  first (403 ``wrong_password``), the new one by ``workspace.passwords`` (422 ``weak_password``, with
  the reason in Japanese; the current password again is refused too). In one write unit it stores
  the new hash, clears ``must_change_password``, ends the person's OTHER browser sessions (the one
  that asked stays signed in; a bearer-token call ends them all) with their sockets, and records
  ``user.password_changed``. API tokens stay: they are stopped one by one on the 設定 page.
- :func:`gate` is the before-request hook of the forced change: while ``must_change_password`` is
  set, every page sends the person to the change form and every API call answers 403
  ``password_change_required`` — except the change itself and signing out.
- Wrong current passwords are throttled like sign-in (``per_account``/``per_address``: the
  ``LOGIN_LIMIT_*`` settings, counted per person and per address, page and API together).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, make_response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import update

from workspace import audit, auth, db, live_access, passwords
from workspace.errors import ServiceError
from workspace.extensions import limiter
from workspace.models import User, UserSession, utcnow
from workspace.security import digest, hash_password, verify_password

DIRECTORY_MESSAGE = (
    "この職員のパスワードは庁内のディレクトリ（Active Directory など）で管理しています。"
    "ディレクトリの手順で変更してください。"
)
REQUIRED_MESSAGE = "パスワードの変更が必要です。新しいパスワードを決めてから、ほかの画面をお使いください。"


class WrongPassword(ServiceError):
    """The current password given is not the person's password."""

    status = 403
    code = "wrong_password"


def _weak(message: str) -> ServiceError:
    return ServiceError(message, "weak_password", status=422, field="new")


def change_own(user: User, current: str, new: str, *, keep_session_key: str | None = None) -> int:
    """Change ``user``'s own password and commit; return how many other sessions were ended.

    keep_session_key: the browser session that asked (it stays signed in); None ends every session.
    The password checks run before the write unit (argon2 is slow: no writer waits on them).
    """
    if user.source != "local":
        raise ServiceError(DIRECTORY_MESSAGE, "directory_account", status=409)
    if not current:
        raise ServiceError("現在のパスワードを入力してください。", "required", status=422, field="current")
    checked_hash = user.password_hash
    if not verify_password(checked_hash, current):
        raise WrongPassword("現在のパスワードが正しくありません。", field="current")
    if not new:
        raise ServiceError("新しいパスワードを入力してください。", "required", status=422, field="new")
    if new == current:
        raise _weak("今のパスワードと同じです。別のパスワードにしてください。")
    try:
        passwords.check(new, user.username)
    except passwords.WeakPassword as error:
        raise _weak(str(error)) from None
    new_hash = hash_password(new)
    with db.write():
        row = db.session().get(User, user.id, populate_existing=True)
        if row is None or not row.active or row.password_hash != checked_hash:
            # Changed (or disabled) by someone else since the check: the current password is stale.
            raise WrongPassword("現在のパスワードが正しくありません。", field="current")
        forced = bool(row.must_change_password)
        row.password_hash = new_hash
        row.must_change_password = False
        ended = _end_other_sessions(row, keep_session_key)
        audit.record(
            "user.password_changed",
            actor=row.username,
            target=row.username,
            detail={
                "before": {"must_change_password": forced},
                "after": {"must_change_password": False},
                "by": "self",
                "other_sessions_ended": ended,
            },
        )
    return ended


def _end_other_sessions(user: User, keep_session_key: str | None) -> int:
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if keep_session_key:
        statement = statement.where(UserSession.key_hash != digest(keep_session_key))
    ended = db.session().execute(statement).rowcount or 0
    if ended:
        live_access.changed(db.session())  # the sockets of those sessions end too
    return ended


def audit_wrong_password(user: User) -> None:
    """Record a refused current password (committed on its own, like a failed sign-in)."""
    g.password_change_failed = True  # counted by the throttle below
    auth.audit_denied("password_change", actor=user.username, target=user.username, reason="wrong_password")


# --- the forced change -------------------------------------------------------------------------

#: what a person whose password must be changed may still reach
ALLOWED_ENDPOINTS = frozenset(
    {
        "workspace.change_password",
        "workspace.logout",
        "workspace.login",
        "workspace.favicon",
        "workspace.healthz",
        "core_api.change_password",
        "core_api.revoke_token",
        "static",
    }
)


def gate() -> Response | None:
    """Before every request: hold a person whose password must be changed at the change form."""
    from workspace.web import error_response, is_api_request

    endpoint = request.endpoint
    if endpoint is None or endpoint in ALLOWED_ENDPOINTS or endpoint.endswith(".static"):
        return None
    if is_api_request() and "api_token" not in g:
        return None  # the API blueprints call this again once the bearer token is read
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if is_api_request():
        return error_response(403, REQUIRED_MESSAGE, "password_change_required")
    return redirect(url_for("workspace.change_password"))


# --- throttling --------------------------------------------------------------------------------


def _person_key() -> str:
    return f"password:{current_user.id}" if current_user.is_authenticated else "password:-"


def _failed(_response: Response) -> bool:
    return bool(g.get("password_change_failed"))


def _breach(limit: Any) -> Response | None:
    actor = current_user.username if current_user.is_authenticated else None
    auth.audit_denied("password_change.throttled", actor=actor, reason=str(limit.limit))
    from workspace.web import is_api_request

    if is_api_request():
        return None  # the documented JSON 429
    from workspace.views import password_page

    minutes = max(1, round(limit.limit.get_expiry() / 60))
    message = (
        f"現在のパスワードの誤りが続いたため、{minutes}分ほど受け付けません。"
        "しばらく待ってからお試しください。"
    )
    return make_response(password_page({"current": message}, status=429))  # a Response, or it is ignored


per_account = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"],
    scope="password-change-account",
    key_func=_person_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_breach,
)
per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_ADDRESS"],
    scope="password-change-address",
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_breach,
)
