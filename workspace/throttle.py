"""Sign-in throttling rules: only failures count, per account and per client address."""

from __future__ import annotations

from flask import Response, request

from workspace import auth
from workspace.security import printable


def account_key() -> str:
    """The limiter key for the account being tried (form or JSON), case-folded and capped."""
    username = request.form.get("username")
    if username is None:
        data = request.get_json(silent=True)
        username = data.get("username") if isinstance(data, dict) else None
    if not isinstance(username, str):
        username = ""
    return "account:" + username.strip().casefold()[:64]


def failed_sign_in(response: Response) -> bool:
    """Count a response against the limits only when the credentials were refused."""
    return response.status_code == 401


def audit_breach(limit: object) -> None:
    """Record that a sign-in was throttled."""
    auth.audit_denied(
        "signin.throttled",
        actor=printable(account_key()[8:], 64) or None,
        reason=str(getattr(limit, "limit", "")),
    )
