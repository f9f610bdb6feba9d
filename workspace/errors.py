"""The one exception every service raises for a refused request, and the words of each HTTP status.

A ``ServiceError`` carries the HTTP ``status``, a machine-readable ``code`` and a Japanese ``message``
that is safe to show (plus optional ``extra`` members of the error body). Services raise it (or a
domain's subclass: chat.errors.ChatError, approvals.errors.ApprovalError, docsearch.errors.DocumentError)
without knowing who asked; it is turned into an answer in one place for each channel:

- HTTP API (``/api/v1``): ``{"error": {"code", "message", …extra}}`` with ``status`` (workspace.web)
- HTML pages: the error page with ``status`` and ``message`` (workspace.web); views that flash the
  message and redirect catch the error themselves
- Socket.IO acknowledgements: ``{"ok": false, "error": {"code", "message", …}}`` (workspace.realtime)

No Flask here: services import this module.
"""

from __future__ import annotations

from typing import Any

#: the code an error of this status has when its raiser names none
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "throttled",
    503: "unavailable",
}
#: the message an error of this status shows when its raiser gives none
MESSAGES = {
    400: "リクエストの形式が正しくありません。",
    401: "サインインが必要です。",
    403: "この操作は許可されていません。",
    404: "見つかりません。",
    405: "この操作には対応していません。",
    409: "ほかの操作と競合しました。最新の状態を確認してください。",
    413: "ファイルまたはリクエストが大きすぎます。",
    415: "この形式には対応していません。",
    422: "入力内容を確認してください。",
    429: "操作が多すぎます。しばらく待ってからもう一度お試しください。",
    500: "サーバーで問題が発生しました。管理者にお知らせください。",
    503: "関連するサービスに接続できません。しばらくしてからもう一度お試しください。",
}


class ServiceError(Exception):
    """A rule refused the request: ``status`` (HTTP), ``code`` and a Japanese ``message``.

    Subclasses may fix ``status`` and ``code`` as class attributes; a raiser may override either.
    Without a code or a message, the usual ones for the status are used. ``extra`` members are added
    to the error body (``field`` names the offending input, for one).
    """

    status: int = 400
    code: str | None = None

    def __init__(
        self, message: str | None = None, code: str | None = None, *, status: int | None = None, **extra: Any
    ) -> None:
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        elif self.code is None:
            self.code = CODES.get(self.status, "error")
        self.message = message or MESSAGES.get(self.status, "")
        self.extra = extra
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        """The error body shared by the HTTP API and Socket.IO: {"code", "message", …extra}."""
        return {"code": self.code, "message": self.message, **self.extra}

    def ack(self) -> dict[str, Any]:
        """The Socket.IO acknowledgement of a refused request."""
        return {"ok": False, "error": self.as_dict()}


class ApiError(ServiceError):
    """Raised by a view (status first): ``ApiError(400, "…")`` answers {"error": {"code", "message"}}."""

    def __init__(
        self, status: int, message: str | None = None, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message, code, status=status, **extra)
