"""Errors raised by the approval services; each carries the HTTP status the API answers with.

Services never import Flask's request machinery: views translate these into ``ApiError`` (JSON) or a
flashed message (pages). Messages are Japanese and safe to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workspace.text import TextRefused


class ApprovalError(Exception):
    """Base class: ``status`` (HTTP), ``code`` (machine-readable) and a Japanese ``message``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra


class NotFound(ApprovalError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404
    code = "not_found"


class Forbidden(ApprovalError):
    """The caller is known but has no part in this (never on the route, not an admin …)."""

    status = 403
    code = "forbidden"


class Conflict(ApprovalError):
    """Not allowed now: already acted, not yet due, finished, or a concurrent change won.

    ``request_id`` names the request whose current state the API returns with the error.
    """

    status = 409
    code = "conflict"

    def __init__(self, message: str, request_id: int | None = None, code: str | None = None) -> None:
        super().__init__(message, code)
        self.request_id = request_id


class Invalid(ApprovalError):
    """The input is well-formed JSON but its content is wrong; ``field`` names the offending value."""

    status = 422
    code = "invalid"


def clean(rule: Callable[[str, str], str], value: str, label: str, field: str) -> str:
    """Apply the shared text rule (workspace/text.py: clean_line or clean_text) to one field;
    raise :class:`Invalid` naming ``field`` with the rule's Japanese message."""
    try:
        return rule(value, label)
    except TextRefused as error:
        raise Invalid(str(error), field=field) from None
