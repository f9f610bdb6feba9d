"""Template helpers: Japanese dates, the navigation, cookie security over HTTPS."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from jinja2 import StrictUndefined

from workspace import calendar, text

NAV = (
    ("chat", "チャット"),
    ("approvals", "決裁"),
    ("documents", "文書"),
    ("search", "検索"),
)


def _as_date(value: dt.date | dt.datetime | str | None) -> dt.date | None:
    if not value:
        return None
    if isinstance(value, str):  # an ISO 8601 date or time, as the API's JSON gives it
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return calendar.to_jst(value).date()
    return value


def wareki_filter(value: dt.date | dt.datetime | str | None) -> str:
    """{{ d|wareki }} → 令和8年11月26日."""
    day = _as_date(value)
    return calendar.wareki(day) if day else ""


def both_filter(value: dt.date | dt.datetime | str | None) -> str:
    """{{ d|wareki_both }} → 令和8年11月26日（2026年11月26日）."""
    day = _as_date(value)
    return calendar.both(day) if day else ""


def datetime_filter(value: dt.datetime | str | None) -> str:
    """{{ t|jst }} → 令和8年11月26日 09:30 (a datetime, or an ISO 8601 string as the API gives)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    local = calendar.to_jst(value)
    return f"{calendar.wareki(local.date())} {local:%H:%M}"


def nendo_filter(year: int | str | None) -> str:
    """{{ doc.fiscal_year|nendo }} → 令和8年度 (where the 西暦 is not wanted beside it)."""
    if year in (None, ""):
        return ""
    return calendar.fiscal_year_wareki(int(year))


def nendo_both_filter(year: int | str | None) -> str:
    """{{ doc.fiscal_year|nendo_both }} → 令和8年度（2026年度）."""
    if year in (None, ""):
        return ""
    return calendar.fiscal_year_label(int(year))


def nav_url(key: str) -> str:
    """The URL of a capability's page, or its 'not built yet' page."""
    from flask import current_app, url_for

    endpoint = {
        "chat": "chat.index",
        "approvals": "approvals.index",
        "documents": "docsearch.index",
        "search": "docsearch.search",
    }[key]
    if endpoint in current_app.view_functions:
        return url_for(endpoint)
    return url_for("workspace.coming_soon", name=key)


def _unread_notifications() -> int:
    """The header's 通知 count: my unread notices (mentions, replies, reactions, 決裁 turns)."""
    from flask_login import current_user

    from workspace import notifications

    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(current_user)


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:  # noqa: D102
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def strict_templates(app: Flask) -> None:
    """Make a template that names a variable its view never passes fail instead of rendering blank.

    The home page once greeted 「、山田 太郎さん」 and every test passed; tests and ``serve --debug`` run so.
    """
    app.jinja_env.undefined = StrictUndefined


def init_app(app: Flask) -> None:
    """Register filters and globals used by templates/base.html."""
    app.session_interface = SessionInterface()
    app.jinja_env.filters.update(
        wareki=wareki_filter,
        wareki_both=both_filter,
        jst=datetime_filter,
        nendo=nendo_filter,
        nendo_both=nendo_both_filter,
    )
    # Every {{ … }} of every page: a bidi override stored before the text rule (workspace/text.py)
    # shows as U+FFFD instead of turning the rest of the line around. One hook, so no template forgets.
    app.jinja_env.finalize = text.for_display
    if app.testing or app.debug or app.config.get("STRICT_TEMPLATES"):
        strict_templates(app)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "nav_items": NAV,
            "nav_url": nav_url,
            "village_name": app.config["VILLAGE_NAME"],
            "active_nav": request.blueprint,
            "unread_notifications": _unread_notifications,
        }
