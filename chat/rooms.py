"""Server-chosen Socket.IO rooms for chat, and keeping a person's live sockets in step with membership.

A socket joins the room of every channel its user belongs to when it connects (socket_connected
signal). When membership changes while the person is online, their sockets are moved here; with a
Redis message queue, python-socketio carries enter/leave to whichever process holds the socket.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_socketio import join_room
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.models import Member
from workspace import db, realtime
from workspace.models import LiveSocket, User
from workspace.realtime import socketio

PRESENCE_ROOM = "chat:presence"


def channel_room(channel_id: int) -> str:
    """The room of one channel; only members' sockets are ever put in it."""
    return f"chat:channel:{channel_id}"


def allowed_rooms(sess: Session, user_ids: list[int]) -> dict[int, set[str]]:
    """The channel rooms each user may be in: those of their memberships (for live_access)."""
    allowed: dict[int, set[str]] = {}
    rows = sess.execute(select(Member.user_id, Member.channel_id).where(Member.user_id.in_(user_ids)))
    for user_id, channel_id in rows:
        allowed.setdefault(user_id, set()).add(channel_room(channel_id))
    return allowed


def on_socket_connected(_sender: Any, user_id: int, sid: str, **_kw: Any) -> None:
    """Join a fresh socket to its user's channel rooms and the presence room."""
    channel_ids = (
        db.session().execute(select(Member.channel_id).where(Member.user_id == user_id)).scalars().all()
    )
    for channel_id in channel_ids:
        join_room(channel_room(channel_id), sid=sid, namespace="/")
    join_room(PRESENCE_ROOM, sid=sid, namespace="/")
    # Nothing is announced here: the chat page says "online" itself (presence event) once it is
    # ready, so sockets of other pages stay silent.


def on_socket_disconnected(_sender: Any, user_id: int, sid: str, **_kw: Any) -> None:
    """Announce presence "offline" when the user's last live socket (in any process) has gone.

    The core deletes this socket's LiveSocket row before it sends the signal, so the rows left are
    the person's other tabs and devices; while one remains, they are still online.
    """
    try:
        session = db.session()
        remaining = session.execute(
            select(LiveSocket.sid).where(LiveSocket.user_id == user_id, LiveSocket.sid != sid).limit(1)
        ).first()
        username = session.execute(select(User.username).where(User.id == user_id)).scalar_one_or_none()
        if remaining is None and username is not None:
            realtime.emit_to_room(PRESENCE_ROOM, "presence", {"username": username, "status": "offline"})
    except Exception:
        # A disconnect must never fail because of chat; the next page load shows the truth anyway.
        db.session().rollback()
        current_app.logger.exception("chat: could not announce offline presence of user %s", user_id)


def online_usernames() -> list[str]:
    """Return who has at least one live socket (in any process), by username."""
    rows = db.session().execute(
        select(User.username)
        .join(LiveSocket, LiveSocket.user_id == User.id)
        .distinct()
        .order_by(User.username)
    )
    return list(rows.scalars().all())


def _live_sids(user_ids: Iterable[int]) -> list[str]:
    ids = list(set(user_ids))
    if not ids:
        return []
    return list(
        db.session().execute(select(LiveSocket.sid).where(LiveSocket.user_id.in_(ids))).scalars().all()
    )


def enter(user_ids: Iterable[int], channel_id: int) -> None:
    """Put every live socket of user_ids in the channel's room (call after the membership commits)."""
    for sid in _live_sids(user_ids):
        _move(sid, channel_id, enter=True)


def leave(user_ids: Iterable[int], channel_id: int) -> None:
    """Take every live socket of user_ids out of the channel's room, so they hear nothing more from it."""
    for sid in _live_sids(user_ids):
        _move(sid, channel_id, enter=False)


def _move(sid: str, channel_id: int, *, enter: bool) -> None:
    try:
        if enter:
            socketio.server.enter_room(sid, channel_room(channel_id), namespace="/")
        else:
            socketio.server.leave_room(sid, channel_room(channel_id), namespace="/")
    except Exception:  # a socket that went away between the query and now needs nothing
        current_app.logger.debug("socket %s gone while moving rooms", sid)
