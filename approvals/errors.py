"""Errors raised by the approval services; each carries the HTTP status the API answers with.

They are ServiceErrors: workspace.web answers them as JSON errors (API) or the error page; views that
flash the message catch them themselves. Messages are Japanese and safe to show.
"""

from __future__ import annotations

from collections.abc import Callable

from workspace.errors import ServiceError
from workspace.text import TextRefused


class ApprovalError(ServiceError):
    """Base class: ``status`` (HTTP), ``code`` (machine-readable) and a Japanese ``message``;
    keyword arguments (``field=…``) are added to the error body."""

    status = 400
    code = "bad_request"


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
