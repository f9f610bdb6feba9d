"""HTTP plumbing shared by every package: API errors, API authentication, security headers, error pages.

Every ServiceError (workspace.errors) a view lets through is answered here, once for all packages:
the JSON error body under /api/v1, the error page elsewhere.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, Response, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import HTTPException

from workspace import auth
from workspace.errors import CODES, MESSAGES, ApiError, ServiceError
from workspace.extensions import csrf
from workspace.security import printable

API_PREFIX = "/api/v1"


def error_response(
    status: int, message: str | None = None, code: str | None = None, **extra: Any
) -> Response:
    """Return the documented JSON error body with status."""
    body = {
        "error": {
            "code": code or CODES.get(status, "error"),
            "message": message or MESSAGES.get(status, ""),
        }
    }
    body["error"].update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def is_api_request() -> bool:
    """True for /api/v1 paths, which answer in JSON."""
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """Return a blueprint mounted under /api/v1 whose requests are authenticated like every API call.

    Flask-WTF's form check is off for it: a write carries a bearer token, or passes the X-CSRFToken
    header check in ``_authenticate_api_request``.
    """
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX)
    bp.before_request(_authenticate_api_request)
    bp.before_request(_password_change_gate)  # after it: the gate needs the token's person
    csrf.exempt(bp)
    return bp


def _authenticate_api_request() -> Response | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        found = auth.user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            auth.audit_denied("token", actor=None, target=printable(request.path), reason="invalid token")
            return error_response(401, "トークンが無効か、失効しています。", "invalid_token")
        user, token = found
        g._login_user = user  # Flask-Login reads the request's user from here; nothing goes into a cookie
        g.api_token = token
        auth.touch_token(token)
        return None
    g.api_token = None
    if current_user.is_authenticated and request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except CSRFError:
            auth.audit_denied("csrf", actor=current_user.username, target=request.path, reason="api")
            return error_response(
                400, "CSRFトークンが無効です。ページを再読み込みしてください。", "csrf_failed"
            )
        except Exception:  # flask-wtf raises ValidationError subclasses too
            auth.audit_denied("csrf", actor=current_user.username, target=request.path, reason="api")
            return error_response(
                400, "CSRFトークンが無効です。ページを再読み込みしてください。", "csrf_failed"
            )
    return None


def _password_change_gate() -> Response | None:
    from workspace import password_change

    return password_change.gate()


def api_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 401 JSON unless the request carries a valid token or session."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return error_response(401)
        return view(*args, **kwargs)

    wrapper.login_required = True  # type: ignore[attr-defined]  # read by the OpenAPI document (401)
    return wrapper


def login_is_required(view: Callable[..., Any]) -> bool:
    """True when view (or a view it wraps) answers 401 to an anonymous caller."""
    return bool(getattr(view, "login_required", False))


def json_body() -> dict[str, Any]:
    """Return the request's JSON object or raise ApiError(400)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "JSONオブジェクトを送ってください。")
    return data


def same_site_path(target: str | None) -> str | None:
    """Return target when it is a path on this site (for ?next= after sign-in), else None.

    Decided on the parsed URL, the way a browser will read it: control characters (which browsers
    strip, so "/%09/evil" becomes "//evil", and which cannot go into a Location header) and
    backslashes (read as "/") are refused outright; then no scheme, no host, a leading "/" that is
    not "//" — also after percent-decoding and NFKC (full-width and other look-alike slashes).
    """
    if not target or len(target) > 2000:
        return None
    for form in {target, unquote(target), unicodedata.normalize("NFKC", unquote(target))}:
        if "\\" in form or not form.startswith("/") or form.startswith("//"):
            return None
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in form):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return target


# --- headers and error pages -------------------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if _is_private():
        # Not setdefault: send_file writes its own Cache-Control (no-cache, which lets a shared or disk
        # cache keep the bytes), and a download of someone's file must never be stored anywhere.
        response.headers["Cache-Control"] = "no-store"
    return response


def _is_private() -> bool:
    """True for an answer that carries what only the signed-in caller may see (every API answer too).

    Static assets are the same for everyone and keep their own caching."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return False
    return is_api_request() or bool(current_user and current_user.is_authenticated)


def _handle_http(error: HTTPException) -> Any:
    if error.response is not None:
        return error.response  # a complete answer chosen where it was raised (the throttled sign-in form)
    status = error.code or 500
    # The exception's own headers are part of the answer (Allow on 405, Retry-After on 429/503,
    # WWW-Authenticate on 401); only its HTML Content-Type gives way to ours.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if is_api_request():
        response = error_response(status)
        response.headers.extend(headers)
        return response
    message = MESSAGES.get(status, "エラーが発生しました。")
    return render_template("error.html", status=status, message=message), status, headers


def service_error_response(error: ServiceError) -> Any:
    """The answer to a refused request: its JSON error body under /api/v1, else the error page."""
    if is_api_request():
        return error_response(error.status, error.message, error.code, **error.extra)
    return render_template("error.html", status=error.status, message=error.message), error.status


def _handle_csrf(error: CSRFError) -> Any:
    actor = current_user.username if current_user.is_authenticated else None
    auth.audit_denied("csrf", actor=actor, target=printable(request.path), reason="form")
    if is_api_request():
        return error_response(400, "CSRFトークンが無効です。", "csrf_failed")
    message = (
        "フォームの有効期限が切れたか、不正な送信です。ページを再読み込みしてからもう一度お試しください。"
    )
    return render_template("error.html", status=400, message=message), 400


def _handle_unexpected(error: Exception) -> Any:
    # Never a stack trace to the client: log it, answer with a calm message.
    from flask import current_app

    current_app.logger.exception("unhandled error on %s", printable(request.path, 200))
    if is_api_request():
        return error_response(500, code="internal")
    return render_template("error.html", status=500, message=MESSAGES[500]), 500


def init_app(app: Flask) -> None:
    """Install headers and error handlers on app."""
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(ServiceError, service_error_response)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
