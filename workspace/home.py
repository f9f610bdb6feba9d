"""今日の仕事: what the home page and ``GET /api/v1/home`` show the signed-in person.

The shell owns the shape; each domain registers a provider (``register``) that fills its part, so
the workspace package never imports chat, approvals or the registry. A provider returns a dict of
some of the FIELDS below and must only include what that person may see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from workspace.models import User

Provider = Callable[[User], dict[str, Any]]


def _empty() -> dict[str, Any]:
    """The public shape with nothing in it (what a person sees before any domain answers)."""
    return {
        "approvals_pending": [],
        "approvals_pending_count": 0,
        "sent_back": [],
        "in_progress": [],
        "post_review": [],
        "mentions_unread": 0,
        "channels_unread": [],
        "expiring_documents": 0,
        "recent_documents": [],
        "absent_today": [],
    }


FIELDS = tuple(_empty())


def register(app: Flask, provider: Provider) -> None:
    """Let a domain fill its part of 今日の仕事."""
    app.extensions.setdefault("workspace.home_providers", []).append(provider)


def today_for(user: User) -> dict[str, Any]:
    """Return every field of 今日の仕事 for ``user``."""
    data = _empty()
    for provider in current_app.extensions.get("workspace.home_providers", []):
        data.update({k: v for k, v in provider(user).items() if k in data})
    return data


def is_empty(data: dict[str, Any]) -> bool:
    """True when there is nothing to do today (the page then says what to do first)."""
    return not any(data[k] for k in FIELDS if k != "absent_today")
