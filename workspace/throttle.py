"""Sign-in throttling rules: only failures count, per account and per client address.

The sign-in form and ``POST /api/v1/auth/token`` share one limit of each kind (Flask-Limiter's
``shared_limit``): they are two doors to the same password check, so together they allow what one
allows (5 failures per account and 30 per address in 5 minutes by default).

The lockout trade-off. A limit per account means five wrong passwords from anywhere lock the real
owner out for the window — a cheap way to stop a colleague working. So failures are counted per
account *per kind of address*: an address from which this account opened a browser session in the
last ``KNOWN_ADDRESS_DAYS`` days (its own PC) has its own bucket for that account, and every other
address shares one bucket. Someone guessing from elsewhere exhausts only the shared bucket; the owner
at their desk still signs in. Guessing from the owner's own address is still limited to the same five,
and the per-address limit applies to everyone. Behind a proxy that hides client addresses (all
requests from one address) the two buckets become one: configure ``TRUSTED_PROXIES``.
"""

from __future__ import annotations

import datetime as dt
import time

from flask import Response, current_app, flash, render_template, request
from flask_limiter import RequestLimit
from sqlalchemy import func, select

from workspace import auth, db
from workspace.extensions import limiter
from workspace.models import User, UserSession, utcnow
from workspace.security import printable
from workspace.web import is_api_request


def _username() -> str:
    username = request.form.get("username")
    if username is None:
        data = request.get_json(silent=True)
        username = data.get("username") if isinstance(data, dict) else None
    if not isinstance(username, str):
        username = ""
    return username.strip().casefold()[:64]


def known_address(username: str, address: str | None) -> bool:
    """True when this account opened a browser session from address within KNOWN_ADDRESS_DAYS."""
    days = int(current_app.config["KNOWN_ADDRESS_DAYS"])
    if not username or not address or days <= 0 or not auth.plausible_username(username):
        return False
    since = utcnow() - dt.timedelta(days=days)
    query = (
        select(UserSession.id)
        .join(User, User.id == UserSession.user_id)
        .where(
            func.lower(User.username) == username,
            UserSession.address == address,
            UserSession.created_at >= since,
        )
        .limit(1)
    )
    # A read session: the limiter asks before the view and again after it, and on SQLite the request's
    # own session would take the writer lock just to look.
    with db.read_session() as sess:
        return sess.execute(query).first() is not None


def account_key() -> str:
    """The limiter key for the account being tried (form or JSON), case-folded and capped.

    A known address of the account gets its own bucket (see the module's docstring).
    """
    username = _username()
    key = "account:" + username
    if known_address(username, request.remote_addr):
        key += "@" + (request.remote_addr or "")
    return key


def failed_sign_in(response: Response) -> bool:
    """Count a response against the limits only when the credentials were refused."""
    return response.status_code == 401


THROTTLED = (
    "ログインの失敗が続いたため、しばらくログインを受け付けていません。"
    "{minutes}分ほど待ってから、もう一度お試しください。"
)


def audit_breach(limit: RequestLimit) -> Response | None:
    """Record that a sign-in was throttled; the form answers with itself and a plain message.

    The API keeps the documented JSON 429 (returning None lets the error handler write it).
    """
    auth.audit_denied(
        "signin.throttled",
        actor=printable(_username(), 64) or None,
        reason=str(limit.limit),
    )
    minutes = max(1, round(limit.limit.get_expiry() / 60))
    seconds = max(1, limit.reset_at - int(time.time()))
    if is_api_request():
        return None
    from workspace.views import LoginForm  # the view module imports this one

    flash(THROTTLED.format(minutes=minutes), "error")
    form = LoginForm(formdata=None, data={"username": printable(_username(), 64)})
    page = render_template("workspace/login.html", form=form)
    return Response(page, status=429, headers={"Retry-After": str(seconds)})


# One limit of each kind for both doors (the form and the token endpoint), applied to both views.
per_account = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"],
    scope="signin-account",
    key_func=account_key,
    methods=["POST"],
    deduct_when=failed_sign_in,
    on_breach=audit_breach,
)
per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_ADDRESS"],
    scope="signin-address",
    methods=["POST"],
    deduct_when=failed_sign_in,
    on_breach=audit_breach,
)
