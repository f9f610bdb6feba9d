"""The server's own guarantee that a live socket hears only what its person may hear now.

A change to who may hear what (an account disabled, a 課 changed, a token revoked, a channel
membership added or removed) can be committed by any process: a web worker, a CLI command, the
directory sync. The process that made it moves the sockets it can reach (directly, or through
Redis when there is one); this module makes the guarantee hold when it cannot — the default
single-process deployment without Redis, where a CLI command reaches nobody.

- Writing: each package's init_app registers the attributes that matter (``watch``). A flush that
  touches one raises the one-row counter ``access_epoch`` in the same transaction (``INSERT … ON
  CONFLICT``), so the counter moves exactly when such a change commits, whoever commits it; a bulk
  UPDATE (ending sessions) calls ``changed()`` itself.
- Serving: each process remembers its own sockets (sid → user, token). ``recheck()`` reads the
  counter; when it moved, it re-reads those users, tokens and memberships in one snapshot and
  disconnects sockets whose person is gone or disabled (or whose token is dead) and moves the rest
  to exactly the rooms the domains' policies allow. It runs before every room event this process
  emits (realtime.emit_to_room / notify) and every ``SOCKET_RECHECK_SECONDS`` in the background.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session

from workspace import db
from workspace.models import AccessEpoch, ApiToken, User, UserSession, utcnow

# prefix of the rooms a policy owns → fn(read session, user ids) → {user_id: rooms allowed}
RoomPolicy = Callable[[Session, list[int]], dict[int, set[str]]]

_watched: dict[type, tuple[str, ...] | None] = {}
_grants: set[type] = set()  # models whose new rows give access (a membership), not only take it
_policies: dict[str, RoomPolicy] = {}

_BUMP = text(
    "INSERT INTO access_epoch (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = access_epoch.value + 1"
)


def watch(model: type, *attributes: str, new_rows: bool = False) -> None:
    """Raise the counter when a ``model`` row is deleted or (if given) one of ``attributes`` changes
    (with no attributes, any change of the row), and when one is added if ``new_rows`` — a new
    membership lets a socket into a room; a new session, token or account changes no open socket."""
    _watched[model] = attributes or None
    if new_rows:
        _grants.add(model)


def room_policy(prefix: str, policy: RoomPolicy) -> None:
    """Declare that rooms starting with ``prefix`` are exactly those ``policy`` allows each user."""
    _policies[prefix] = policy


def _touches_access(sess: Session) -> bool:
    if any(type(obj) in _grants for obj in sess.new):
        return True
    if any(type(obj) in _watched for obj in sess.deleted):
        return True
    for obj in sess.dirty:
        if type(obj) not in _watched:
            continue
        attributes = _watched[type(obj)]
        state = inspect(obj)
        names = attributes if attributes is not None else [a.key for a in state.mapper.column_attrs]
        if any(state.attrs[name].history.has_changes() for name in names):
            return True
    return False


def _bump_on_access_change(sess: Session, _context: Any, _instances: Any) -> None:
    if _watched and _touches_access(sess):
        # Core on the session's connection: no autoflush, and the same transaction as the change.
        sess.connection().execute(_BUMP)


def init_app(app: Flask) -> None:
    """Install the flush hook that raises the counter, and watch the core's own models.

    Both are the same for every app. The hook is on the Session class, so it also sees a session
    made outside any app (as another process's writes would be); SQLAlchemy would run a second
    copy of it for a second listen, so it is installed once per process.
    """
    del app  # nothing here differs between apps
    if not event.contains(Session, "before_flush", _bump_on_access_change):
        event.listen(Session, "before_flush", _bump_on_access_change)
    watch(User, "active", "department_id", "section_id")
    watch(ApiToken, "revoked_at", "expires_at")
    watch(UserSession, "revoked_at", "expires_at")


def changed(sess: Session) -> None:
    """Raise the counter in sess's transaction, for a bulk UPDATE the flush hook cannot see."""
    sess.connection().execute(_BUMP)


# --- the serving side -----------------------------------------------------------------------------


class _Sockets:
    """The sockets this process holds, and the counter value they were last checked against."""

    def __init__(self) -> None:
        self.by_sid: dict[str, tuple[int, int | None, str | None]] = {}
        self.epoch: int | None = None
        self.lock = threading.Lock()  # gevent-patched under `workspace serve`: cooperative
        self.poller = False


def _state(app: Flask) -> _Sockets:
    return app.extensions.setdefault("live_access", _Sockets())


def remember(sid: str, user_id: int, token_id: int | None, session_hash: str | None = None) -> None:
    """Note a socket this process accepted — by token, or by the browser session whose key hashes to
    session_hash — and start the background re-check once per process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    state.by_sid[sid] = (user_id, token_id, session_hash)
    interval = float(app.config["SOCKET_RECHECK_SECONDS"])
    if interval > 0 and not state.poller:
        state.poller = True
        app.extensions["socketio"].start_background_task(_poll, app, interval)


def forget(sid: str) -> None:
    """Drop a socket that disconnected."""
    _state(current_app._get_current_object()).by_sid.pop(sid, None)  # type: ignore[attr-defined]


def _poll(app: Flask, interval: float) -> None:
    socketio = app.extensions["socketio"]
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                recheck()
        except Exception:  # the next round tries again; delivery still re-checks first
            app.logger.exception("live sockets: re-check failed")


def current_epoch(sess: Session) -> int:
    """The counter's value (0 before any change)."""
    return sess.execute(select(AccessEpoch.value).where(AccessEpoch.id == 1)).scalar() or 0


def recheck(*, force: bool = False) -> int:
    """Bring this process's sockets in line with the database if the counter moved; return how many
    sockets were disconnected. Safe to call from an after-commit callback (it reads through its own
    read-only session)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    if not state.by_sid:
        return 0
    with state.lock:
        with db.read_session() as sess:
            epoch = current_epoch(sess)
            if epoch == state.epoch and not force:
                return 0
            sockets = dict(state.by_sid)
            user_ids = sorted({user_id for user_id, _, _ in sockets.values()})
            active = dict(sess.execute(select(User.id, User.active).where(User.id.in_(user_ids))).all())
            token_ids = sorted({t for _, t, _ in sockets.values() if t is not None})
            session_hashes = sorted({h for _, _, h in sockets.values() if h is not None})
            live_tokens = _alive(sess, ApiToken.id, token_ids)
            live_sessions = _alive(sess, UserSession.key_hash, session_hashes)
            allowed = {prefix: policy(sess, user_ids) for prefix, policy in _policies.items()}
        ended = []
        for sid, (user_id, token_id, session_hash) in sockets.items():
            if (
                not active.get(user_id)
                or (token_id is not None and token_id not in live_tokens)
                or (session_hash is not None and session_hash not in live_sessions)
            ):
                _silence(sid)
                ended.append(sid)
            else:
                _fit_rooms(sid, {prefix: rooms.get(user_id, set()) for prefix, rooms in allowed.items()})
        state.epoch = epoch
    # Outside the lock: a disconnect runs the domains' receivers, which emit (presence "offline")
    # and so come back here. The ended sockets are already out of every room by then.
    for sid in ended:
        _end(sid)
    return len(ended)


def _alive(sess: Session, key: Any, keys: list[Any]) -> set[Any]:
    """The keys (a token's id, a session's key hash) whose row is neither revoked nor expired."""
    if not keys:
        return set()
    model = key.class_
    rows = sess.execute(select(key, model.expires_at).where(key.in_(keys), model.revoked_at.is_(None)))
    now = utcnow()
    return {value for value, expires in rows if expires is None or expires > now}


def _server() -> Any:
    # The python-socketio server of this app (Flask-SocketIO registers itself in app.extensions).
    return current_app.extensions["socketio"].server


def _silence(sid: str) -> None:
    """Take a socket out of every room but its own, so nothing more is delivered to it."""
    server = _server()
    try:
        for room in server.rooms(sid, namespace="/"):
            if room != sid:
                server.leave_room(sid, room, namespace="/")
    except Exception:  # already gone
        current_app.logger.debug("socket %s already gone", sid)


def _end(sid: str) -> None:
    server = _server()
    try:
        server.emit("session:ended", {}, to=sid, namespace="/")
        server.disconnect(sid, namespace="/")
    except Exception:  # already gone
        current_app.logger.debug("socket %s already gone", sid)
    forget(sid)


def _fit_rooms(sid: str, allowed: dict[str, set[str]]) -> None:
    server = _server()
    try:
        current = set(server.rooms(sid, namespace="/"))
    except Exception:  # gone meanwhile
        forget(sid)
        return
    for prefix, wanted in allowed.items():
        for room in current:
            if room.startswith(prefix) and room not in wanted:
                server.leave_room(sid, room, namespace="/")
        for room in wanted - current:
            server.enter_room(sid, room, namespace="/")

