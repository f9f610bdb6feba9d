"""The exception chat services raise for a refused request (a ServiceError; workspace.web and
workspace.realtime turn it into the HTTP or Socket.IO answer)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from workspace.errors import ServiceError


class ChatError(ServiceError):
    """A rule refused the request. status is the HTTP status; message is Japanese and safe to show."""

    def __init__(self, status: int, message: str, code: str, **extra: Any) -> None:
        super().__init__(message, code, status=status, **extra)


def not_found() -> ChatError:
    """The answer for a channel or message that does not exist or that the caller may not know of."""
    return ChatError(404, "見つかりません。", "not_found")


def config_int(key: str, default: int) -> int:
    """Read an integer option at call time (environment values arrive as strings)."""
    value = current_app.config.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        current_app.logger.warning("config %s=%r is not an integer; using %s", key, value, default)
        return default
