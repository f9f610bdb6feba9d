"""The one exception the registry raises for bad input or a refused action."""

from __future__ import annotations


class DocumentError(Exception):
    """A refused request: ``status`` is the HTTP status, ``message`` is Japanese and safe to show."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
