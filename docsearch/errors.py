"""The exception the registry raises for bad input or a refused action (a ServiceError; workspace.web
turns it into the HTTP answer)."""

from __future__ import annotations

from workspace.errors import ServiceError


class DocumentError(ServiceError):
    """A refused request: ``status`` is the HTTP status, ``message`` is Japanese and safe to show.

    Without a code, the usual one for the status (400 → bad_request) is answered.
    """

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message, code, status=status)
