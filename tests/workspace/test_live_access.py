"""workspace.live_access: the counter moves with every change of who may hear what (and only then),
and a server re-checks its own sockets before it delivers when another process made the change."""

from __future__ import annotations

import contextvars

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from chat.models import Member
from tests.conftest import api_token
from workspace import db, directory, live_access, realtime
from workspace.models import ApiToken, User
from workspace.realtime import socketio


def _epoch() -> int:
    value = live_access.current_epoch(db.session())
    db.session().commit()
    return value


def test_the_counter_moves_on_access_changes_and_only_on_them(app, client, village):
    start = _epoch()
    directory.update_local_user("yamada", actor="t", display_name="山田 太郎")  # a name: nothing
    assert _epoch() == start
    directory.update_local_user("yamada", actor="t", department_code="02")  # a transfer
    moved = _epoch()
    assert moved > start
    token = api_token(client, "suzuki")  # a new token (and sign-in): nobody's open socket changes
    after_token = _epoch()
    assert after_token == moved
    client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})  # revoked
    assert _epoch() > after_token
    before = _epoch()
    directory.set_active("tanaka", False, actor="t")
    assert _epoch() > before


def test_a_read_mark_does_not_move_the_counter_but_a_membership_does(app, village):
    member = db.session().execute(select(Member).limit(1)).scalar_one()
    start = _epoch()
    member.last_read_id = (member.last_read_id or 0) + 1
    db.session().commit()
    assert _epoch() == start
    db.session().delete(member)
    db.session().commit()
    assert _epoch() > start


def _elsewhere(app):
    """A session of "another process": its own engine, and none of this app's signals or sockets.

    (A second Flask app in this process would rebind the global Socket.IO server, so the change is
    made through plain SQLAlchemy, exactly as far as another process's writes reach this one.)
    """
    return Session(create_engine(app.config["DATABASE_URL"]))


def test_a_change_made_by_another_process_is_applied_before_the_next_delivery(app, client, village):
    """The server holds the sockets; "another process" disables yamada and revokes suzuki's token.
    The server's next room event re-checks first."""
    yamada = socketio.test_client(app, auth={"token": api_token(client, "yamada")})
    suzuki_token = api_token(client, "suzuki")
    suzuki = socketio.test_client(app, auth={"token": suzuki_token})
    tanaka = socketio.test_client(app, auth={"token": api_token(client, "tanaka")})
    realtime.emit_to_room("chat:presence", "probe", {"n": 1})
    assert all(ws.get_received() for ws in (yamada, suzuki, tanaka))

    with _elsewhere(app) as other:
        other.execute(select(User).where(User.username == "yamada")).scalar_one().active = False
        token = other.execute(select(ApiToken).where(ApiToken.hint == suzuki_token[:10])).scalar_one()
        token.revoked_at = token.created_at
        other.commit()

    realtime.emit_to_room("chat:presence", "probe", {"n": 2})
    assert not yamada.is_connected() and not suzuki.is_connected()
    assert [m["args"][0] for m in tanaka.get_received() if m["name"] == "probe"] == [{"n": 2}]


def test_a_membership_changed_elsewhere_moves_the_socket_between_rooms(app, client, village):
    ws = socketio.test_client(app, auth={"token": api_token(client, "yamada")})
    member = db.session().execute(select(Member).where(Member.user_id == village["yamada"].id)).scalar_one()
    old_room = f"chat:channel:{member.channel_id}"
    other_channel = db.session().execute(
        select(Member.channel_id).where(Member.user_id == village["tanaka"].id)
    ).scalar_one()
    db.session().commit()
    with _elsewhere(app) as other:
        other.delete(other.get(Member, member.id))
        other.add(Member(channel_id=other_channel, user_id=village["yamada"].id))
        other.commit()
    ws.get_received()
    realtime.emit_to_room(old_room, "message:new", {"body": "もう聞こえないはず"})
    realtime.emit_to_room(f"chat:channel:{other_channel}", "message:new", {"body": "ようこそ"})
    bodies = [m["args"][0]["body"] for m in ws.get_received() if m["name"] == "message:new"]
    assert bodies == ["ようこそ"] and ws.is_connected()


def test_signing_out_ends_the_sockets_of_that_browser_session(app, village):
    """Sign-out revokes the session with a bulk UPDATE; its sockets end at the next delivery, while
    a socket of the same person's other session (another PC) stays."""
    from tests.conftest import csrf_from, login

    desk, other_pc = app.test_client(), app.test_client()
    login(desk, "yamada")
    login(other_pc, "yamada")
    # Each connect in a context of its own, as each real handshake is (the test body's app context
    # would hand the second handshake the first one's signed-in user).
    ws_desk = contextvars.Context().run(socketio.test_client, app, flask_test_client=desk)
    ws_other = contextvars.Context().run(socketio.test_client, app, flask_test_client=other_pc)
    realtime.emit_to_room("chat:presence", "probe", {"n": 1})
    assert ws_desk.is_connected() and ws_other.is_connected()
    start = _epoch()
    desk.post("/logout", data={"csrf_token": csrf_from(desk.get("/").get_data(as_text=True))})
    assert _epoch() > start
    realtime.emit_to_room("chat:presence", "probe", {"n": 2})
    assert not ws_desk.is_connected()
    assert ws_other.is_connected()
    assert [m["args"][0] for m in ws_other.get_received() if m["name"] == "probe"] == [{"n": 1}, {"n": 2}]
