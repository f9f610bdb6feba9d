"""The Socket.IO hub: who may connect, server-chosen rooms, notify(), deactivation, Redis fan-out."""

from __future__ import annotations

import pytest
import requests
import socketio as sio_client
from sqlalchemy import select

from tests.conftest import (
    PASSWORD,
    LiveServer,
    api_token,
    free_port,
    login,
    make_app,
    server_env,
    wait_for,
)
from workspace import db, directory, realtime
from workspace.models import AuditEntry, LiveSocket
from workspace.realtime import socketio


def test_socket_with_session_cookie_joins_its_user_room(app, client, village):
    login(client, "yamada")
    ws = socketio.test_client(app, flask_test_client=client)
    assert ws.is_connected()
    realtime.notify([village["yamada"].id], "notification:new", {"title": "お知らせ"})
    received = ws.get_received()
    assert [(m["name"], m["args"][0]) for m in received] == [("notification:new", {"title": "お知らせ"})]


def test_socket_with_token_auth_connects(app, client, village):
    token = api_token(client, "suzuki")
    ws = socketio.test_client(app, auth={"token": token})
    assert ws.is_connected()


def test_socket_without_credentials_is_refused_and_logged(app, village):
    ws = socketio.test_client(app)
    assert not ws.is_connected()
    actions = db.session().execute(select(AuditEntry.action)).scalars().all()
    assert "denied.socket.unauthenticated" in actions


def test_socket_with_revoked_token_is_refused(app, client, village):
    token = api_token(client, "suzuki")
    client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})
    assert not socketio.test_client(app, auth={"token": token}).is_connected()


def test_socket_from_foreign_origin_is_refused(app, client, village):
    token = api_token(client, "suzuki")
    ws = socketio.test_client(app, auth={"token": token}, headers={"Origin": "http://evil.example"})
    assert not ws.is_connected()


def test_notify_reaches_only_the_named_users(app, client, village):
    ws_yamada = socketio.test_client(app, auth={"token": api_token(client, "yamada")})
    ws_tanaka = socketio.test_client(app, auth={"token": api_token(client, "tanaka")})
    realtime.notify([village["yamada"].id], "notification:new", {"title": "山田さんへ"})
    assert len(ws_yamada.get_received()) == 1
    assert ws_tanaka.get_received() == []


def test_notify_on_commit_waits_for_commit_and_is_dropped_on_rollback(app, client, village):
    ws = socketio.test_client(app, auth={"token": api_token(client, "yamada")})
    realtime.notify_on_commit([village["yamada"].id], "notification:new", {"n": 1})
    assert ws.get_received() == []
    db.session().rollback()
    db.session().commit()
    assert ws.get_received() == []
    realtime.notify_on_commit([village["yamada"].id], "notification:new", {"n": 2})
    db.session().commit()
    assert [m["args"][0] for m in ws.get_received()] == [{"n": 2}]


def test_deactivated_user_loses_every_socket_at_once(app, client, village):
    one = socketio.test_client(app, auth={"token": api_token(client, "yamada")})
    two = socketio.test_client(app, auth={"token": api_token(client, "yamada")})
    assert one.is_connected() and two.is_connected()
    directory.set_active("yamada", False, actor="test")
    assert not one.is_connected() and not two.is_connected()
    query = select(LiveSocket).where(LiveSocket.user_id == village["yamada"].id)
    assert db.session().execute(query).first() is None


def _connect(url: str, **kwargs) -> tuple[sio_client.Client, list]:
    received: list = []
    client = sio_client.Client(reconnection=False)
    client.on("notification:new", lambda data: received.append(data))
    client.connect(url, transports=["websocket"], wait_timeout=10, **kwargs)
    return client, received



def test_real_server_refuses_foreign_origin_and_missing_credentials(live_server):
    handshake = live_server.url + "/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": "http://evil.example"}, timeout=10).status_code == 400
    assert requests.get(handshake, headers={"Origin": live_server.url}, timeout=10).status_code == 200
    # The server refuses the handshake; the client library reports that as one of these two.
    with pytest.raises((sio_client.exceptions.ConnectionError, ValueError)):
        _connect(live_server.url)
    token = requests.post(
        live_server.url + "/api/v1/auth/token", json={"username": "yamada", "password": PASSWORD}, timeout=10
    ).json()["token"]
    # The websocket client sends its own same-site Origin header.
    client, _ = _connect(live_server.url, auth={"token": token})
    assert client.connected
    client.disconnect()


def test_redis_carries_notifications_between_processes(app, village, tmp_path, redis_url):
    """Two real servers share Redis; a third process (this test) notifies; both users get it."""
    env = server_env(app, WORKSPACE_REDIS_URL=redis_url)
    servers = [LiveServer(env, free_port(), tmp_path / f"server{i}.log") for i in range(2)]
    try:
        tokens = [
            requests.post(
                s.url + "/api/v1/auth/token", json={"username": u, "password": PASSWORD}, timeout=10
            ).json()["token"]
            for s, u in zip(servers, ["yamada", "tanaka"], strict=True)
        ]
        (c1, got1), (c2, got2) = (
            _connect(s.url, auth={"token": t}) for s, t in zip(servers, tokens, strict=True)
        )
        emitter = make_app(app.config["DATABASE_URL"], tmp_path / "emitter", REDIS_URL=redis_url)
        with emitter.app_context():
            everyone = [village["yamada"].id, village["tanaka"].id]
            realtime.notify(everyone, "notification:new", {"title": "全体"})
        assert wait_for(lambda: got1 and got2), (got1, got2)
        assert got1 == got2 == [{"title": "全体"}]
        c1.disconnect()
        c2.disconnect()
    finally:
        for server in servers:
            server.stop()


def test_disconnect_is_announced_to_domains(app, client, village):
    from workspace import signals

    seen: list[dict] = []

    def receiver(_sender, **kw):
        seen.append(kw)

    signals.socket_disconnected.connect(receiver)
    try:
        ws = socketio.test_client(app, auth={"token": api_token(client, "yamada")})
        ws.disconnect()
    finally:
        signals.socket_disconnected.disconnect(receiver)
    assert [kw["user_id"] for kw in seen] == [village["yamada"].id]
