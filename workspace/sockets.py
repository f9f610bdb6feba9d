"""The registry of connected Socket.IO clients (table live_sockets), kept by the hub.

A deactivation must end a person's sockets in whichever process holds them; the registry is how
any process learns their ids. The hub's event handlers call these functions, each a write unit.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from workspace import db
from workspace.models import LiveSocket


@db.writes
def remember(sid: str, user_id: int, token_id: int | None) -> None:
    """Record a connected socket and commit."""
    db.session().merge(LiveSocket(sid=sid, user_id=user_id, token_id=token_id))


@db.writes
def forget(sid: str) -> None:
    """Remove a disconnected socket and commit."""
    db.session().execute(delete(LiveSocket).where(LiveSocket.sid == sid))


def of_user(user_id: int) -> list[str]:
    """Return the ids of every socket the user has open, in any process."""
    return list(db.session().execute(select(LiveSocket.sid).where(LiveSocket.user_id == user_id)).scalars())


@db.writes
def forget_user(user_id: int) -> None:
    """Remove every socket of a user (after disconnecting them) and commit."""
    db.session().execute(delete(LiveSocket).where(LiveSocket.user_id == user_id))
