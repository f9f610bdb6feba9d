"""The real-time hub: Socket.IO authentication, server-chosen rooms and notify().

A socket is accepted only with a live session cookie or auth={"token": …}, and only from an allowed
Origin. The server puts it in its user room (user:<id>); other domains add rooms through the
socket_connected signal. With WORKSPACE_REDIS_URL set, emits travel through Redis, so any process —
a second web worker or a CLI job — reaches every connected client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from workspace import auth, db, inputs, live_access, signals, sockets
from workspace.config import csv_list
from workspace.errors import ServiceError
from workspace.models import User
from workspace.security import digest, printable


class CheckedSocketIO(SocketIO):
    """SocketIO whose every event handler is guarded, in one place.

    Arguments refused while the packet was decoded (inputs.SocketJson: too deep, lone surrogates)
    are acknowledged with their error and never reach the handler. A ServiceError the handler lets
    through (a rule refused the request) is acknowledged as {"ok": false, "error": {"code", "message"}}
    after what the handler began is rolled back.
    """

    def on(self, message: str, namespace: str | None = None) -> Callable[[Callable[..., Any]], Any]:
        register = super().on(message, namespace)
        if message in ("connect", "disconnect"):
            return register

        def decorator(handler: Callable[..., Any]) -> Any:
            @wraps(handler)
            def guarded(*args: Any) -> Any:
                for arg in args:
                    if isinstance(arg, inputs.RefusedPayload):
                        return arg.ack()
                try:
                    return handler(*args)
                except ServiceError as error:
                    db.session().rollback()
                    return error.ack()

            return register(guarded)

        return decorator


socketio = CheckedSocketIO()


def _on_socket_error(_error: Exception) -> Any:
    # As for HTTP: log it, never a trace to the client, and still answer the acknowledgement.
    event = _event_name()
    current_app.logger.exception("unhandled error in Socket.IO event %s", printable(event, 60))
    db.session().rollback()
    if event == "connect":
        return False  # a failed connect is refused, never accepted half-authenticated
    message = "サーバーで問題が発生しました。管理者にお知らせください。"
    return {"ok": False, "error": {"code": "internal", "message": message}}


def _event_name() -> str:
    event = getattr(request, "event", None)
    return str(event.get("message", "")) if isinstance(event, dict) else ""


def init_app(app: Flask) -> None:
    """Bind Socket.IO to app: async mode, message queue, the Origin allow-list and the core handlers."""
    origins = allowed_origins(app)
    # Flask-SocketIO keeps server_options between init_app calls: without this, an app created
    # with a Redis queue would leave that queue to every app created after it in the process.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        channel="workspace-socketio",
        # None = same origin only (engine.io compares Origin with Host); never "*".
        cors_allowed_origins=origins or None,
        ping_interval=25,
        max_http_buffer_size=1_000_000,
        json=inputs.SocketJson,  # the depth and surrogate rules of request bodies, for packets too
    )
    # socketio.init_app made a new python-socketio server for app: its handlers go on that server
    # (keyed by event name, so nothing piles up). The error handler lives on the shared SocketIO.
    socketio.on_error_default(_on_socket_error)
    socketio.on_event("connect", _on_connect)
    socketio.on_event("disconnect", _on_disconnect)
    # blinker keys a receiver by the function: connecting it again for the next app adds nothing.
    signals.user_deactivated.connect(_on_user_deactivated, weak=False)


def allowed_origins(app: Flask) -> list[str]:
    """Return explicitly allowed origins (BASE_URL plus ALLOWED_ORIGINS)."""
    origins = csv_list(app.config.get("ALLOWED_ORIGINS"))
    if app.config.get("BASE_URL"):
        parts = urlsplit(app.config["BASE_URL"])
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def _origin_ok() -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True  # non-browser clients send none; credentials are still required
    own = f"{request.scheme}://{request.host}"
    return origin == own or origin in allowed_origins(current_app)


def _on_connect(auth_data: Any = None) -> bool:
    if not _origin_ok():
        auth.audit_denied("socket.origin", actor=None, reason=printable(request.headers.get("Origin"), 200))
        return False
    user, token_id = _authenticate(auth_data)
    if user is None:
        auth.audit_denied("socket.unauthenticated", actor=None, reason="no valid session or token")
        return False
    if user.must_change_password:
        return False  # held at the password change form (workspace.password_change.gate)
    session["socket_user_id"] = user.id
    session["socket_token_id"] = token_id
    join_room(user_room(user.id))
    sockets.remember(request.sid, user.id, token_id)
    key = None if token_id is not None else getattr(user, "login_key", None)
    live_access.remember(request.sid, user.id, token_id, digest(key) if key else None)
    signals.socket_connected.send(current_app._get_current_object(), user_id=user.id, sid=request.sid)
    return True


def _authenticate(auth_data: Any) -> tuple[User | None, int | None]:
    if isinstance(auth_data, dict) and isinstance(auth_data.get("token"), str):
        found = auth.user_for_token(auth_data["token"])
        return (found[0], found[1].id) if found else (None, None)
    if current_user.is_authenticated:
        return current_user._get_current_object(), None
    return None, None


def _on_disconnect(*_args: Any) -> None:
    live_access.forget(request.sid)
    sockets.forget(request.sid)
    user_id = session.get("socket_user_id")
    if user_id is not None:
        signals.socket_disconnected.send(current_app._get_current_object(), user_id=user_id, sid=request.sid)


def socket_user() -> User | None:
    """Return the user behind the current socket event, re-checked now (revoked → None).

    Every event handler calls this: a session or token revoked after connect stops working at once.
    """
    user_id = session.get("socket_user_id")
    if user_id is None:
        return None
    token_id = session.get("socket_token_id")
    if token_id is None:
        user = current_user._get_current_object() if current_user.is_authenticated else None
        return user if user is not None and user.id == user_id else None
    from workspace.models import ApiToken

    token = db.session().get(ApiToken, token_id)
    if (
        token is None
        or token.revoked_at is not None
        or auth._expired(token.expires_at)
        or not token.user.active
    ):
        return None
    return token.user


def user_room(user_id: int) -> str:
    """The room every socket of one user is in."""
    return f"user:{user_id}"


def notify(user_ids: Iterable[int], event: str, payload: dict[str, Any]) -> None:
    """Emit event to every socket of each user (in any process when Redis is configured).

    Call it after the data it describes is committed (see notify_on_commit). This process's
    sockets are re-checked first when access changed anywhere (workspace.live_access).
    """
    live_access.recheck()
    for user_id in set(user_ids):
        socketio.emit(event, payload, to=user_room(user_id))


def notify_on_commit(user_ids: Iterable[int], event: str, payload: dict[str, Any]) -> None:
    """Queue notify() to run once the current transaction commits."""
    ids = list(user_ids)
    db.on_commit(lambda: notify(ids, event, payload))


def emit_to_room(room: str, event: str, payload: dict[str, Any], *, skip_sid: str | None = None) -> None:
    """Emit event to a server-chosen room (a chat channel, a department), optionally not to skip_sid.

    This process's sockets are re-checked first when access changed anywhere, so a person disabled
    or moved by another process (a CLI command) hears nothing more from the room.
    """
    live_access.recheck()
    socketio.emit(event, payload, to=room, skip_sid=skip_sid)


def disconnect_user(user_id: int) -> int:
    """End every socket of user_id in every process; return how many were known."""
    sids = sockets.of_user(user_id)
    socketio.emit("session:ended", {}, to=user_room(user_id))
    for sid in sids:
        try:
            socketio.server.disconnect(sid, namespace="/")
        except Exception:  # an already-gone socket is not an error
            current_app.logger.debug("socket %s already gone", sid)
    sockets.forget_user(user_id)
    return len(sids)


def _on_user_deactivated(_sender: Any, user_id: int, **_kw: Any) -> None:
    disconnect_user(user_id)
