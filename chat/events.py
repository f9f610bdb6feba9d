"""Chat Socket.IO handlers: message:send (acknowledged), typing, presence.

Each handler re-checks the socket's user (socket_user) and the channel membership on every event:
a revoked session, a deactivated account or a transfer takes effect at once, not at reconnect.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import request

from chat import channels, messages, rooms
from chat.errors import ChatError, config_int
from workspace import realtime
from workspace.realtime import socket_user, socketio

PRESENCE_STATES = ("online", "away")
DEFAULT_TYPING_INTERVAL = 3

# (user id, channel id) → when this process last relayed their typing. Per process is enough:
# the throttle only protects the room from floods; it is not a rule anyone relies on.
_typing_seen: dict[tuple[int, int], float] = {}
_typing_lock = threading.Lock()


def _unauthorized() -> dict[str, Any]:
    return ChatError(401, "サインインが必要です。", "unauthorized").ack()


def on_message_send(data: Any = None) -> dict[str, Any]:
    """message:send {"channel_id", "body", "client_msg_id", "thread_id"?, "also_in_channel"?,
    "attachment_ids"?}.

    Acknowledged with {"ok": true, "message"} or {"ok": false, "error"}.
    """
    user = socket_user()
    if user is None:
        return _unauthorized()
    if not isinstance(data, dict):
        raise ChatError(400, "オブジェクトを送ってください。", "bad_request")
    # A refusal (ChatError) is acknowledged by the guard of realtime.CheckedSocketIO.
    message, _created = messages.post(
        user,
        data.get("channel_id"),
        data.get("body"),
        thread_id=data.get("thread_id"),
        also_in_channel=data.get("also_in_channel"),
        client_msg_id=data.get("client_msg_id"),
        attachment_ids=data.get("attachment_ids"),
    )
    return {"ok": True, "message": messages.message_json(message, reply_count=0 if _created else None)}


def on_typing(data: Any = None) -> dict[str, Any]:
    """typing {"channel_id"}: tell the channel's other sockets, at most once per interval per person."""
    user = socket_user()
    if user is None:
        return _unauthorized()
    channel_id = data.get("channel_id") if isinstance(data, dict) else None
    channel, _member = channels.require_member(user, channel_id)
    interval = config_int("CHAT_TYPING_INTERVAL_SECONDS", DEFAULT_TYPING_INTERVAL)
    now = time.monotonic()
    with _typing_lock:
        if now - _typing_seen.get((user.id, channel.id), -1e9) < interval:
            return {"ok": True, "throttled": True}
        _typing_seen[(user.id, channel.id)] = now
    realtime.emit_to_room(
        rooms.channel_room(channel.id),
        "typing",
        {"channel_id": channel.id, "username": user.username, "display_name": user.display_name},
        skip_sid=request.sid,
    )
    return {"ok": True}


def on_presence(data: Any = None) -> dict[str, Any]:
    """presence {"status": "online"|"away"}: the tab became visible or hidden; tell everyone in chat."""
    user = socket_user()
    if user is None:
        return _unauthorized()
    status = data.get("status") if isinstance(data, dict) else None
    if status not in PRESENCE_STATES:
        raise ChatError(400, "status は online か away です。", "bad_request")
    realtime.emit_to_room(rooms.PRESENCE_ROOM, "presence", {"username": user.username, "status": status})
    return {"ok": True}


def register() -> None:
    """Attach the handlers to the shared Socket.IO server (called once per app from chat.init_app)."""
    socketio.on_event("message:send", on_message_send)
    socketio.on_event("typing", on_typing)
    socketio.on_event("presence", on_presence)
