"""A person disabled or moved by the CLI hears nothing more on sockets already open — in the default
deployment (one server, no Redis) as with Redis. The real CLI runs against the real server.

Before, `disconnect_user` and the room moves ran inside the CLI process and reached nobody without a
message queue: HTTP answered 401/403 at once, but message:new with full bodies still arrived.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import socketio as sio_client
from sqlalchemy import select

from chat.models import Channel
from tests.conftest import PASSWORD, ROOT, LiveServer, free_port, server_env, wait_for
from workspace import db

SOCKET_WAIT = 20.0  # seconds a real server gets to deliver or end a socket


class Listener:
    """A socket of one person that records every message:new body and whether it was ended."""

    def __init__(self, url: str, token: str) -> None:
        self.bodies: list[str] = []
        self.ended = False
        self.client = sio_client.Client(reconnection=False)
        self.client.on("message:new", lambda data: self.bodies.append(data["body"]))
        self.client.on("disconnect", lambda *_: setattr(self, "ended", True))
        self.client.connect(url, transports=["websocket"], auth={"token": token}, wait_timeout=10)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def _department_channel(code: str) -> int:
    from workspace.models import Department

    query = select(Channel.id).join(Department, Department.id == Channel.department_id).where(
        Channel.kind == "department", Department.code == code
    )
    channel_id = db.session().execute(query).scalar_one()
    db.session().commit()
    return channel_id


@pytest.fixture(params=["no-redis", "redis"])
def deployment(request, app, village, tmp_path):
    """The real server (and the environment its CLI runs with), with or without Redis."""
    extra = {}
    if request.param == "redis":
        extra["WORKSPACE_REDIS_URL"] = request.getfixturevalue("redis_url")
    env = server_env(app, **extra)
    server = LiveServer(env, free_port(), tmp_path / "server.log")
    yield server, env
    server.stop()


def _token(server: LiveServer, username: str) -> str:
    response = requests.post(
        server.url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


def _post(server: LiveServer, token: str, channel_id: int, body: str) -> None:
    response = requests.post(
        f"{server.url}/api/v1/channels/{channel_id}/messages",
        json={"body": body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workspace", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_person_disabled_by_the_cli_hears_nothing_more(deployment):
    server, env = deployment
    soumu = _department_channel("01")
    yamada = Listener(server.url, _token(server, "yamada"))
    suzuki = _token(server, "suzuki")
    try:
        _post(server, suzuki, soumu, "朝礼は9時からです")
        # The socket works.
        assert wait_for(lambda: "朝礼は9時からです" in yamada.bodies, SOCKET_WAIT), yamada.bodies

        _cli(env, "users", "disable", "yamada")
        # At once, before any background re-check could have run: the server re-checks before it
        # delivers, so this message must not reach the disabled person's socket.
        _post(server, suzuki, soumu, "人事異動の内示（秘）")
        assert wait_for(lambda: yamada.ended, SOCKET_WAIT), "the disabled person's socket stayed open"
        assert "人事異動の内示（秘）" not in yamada.bodies
    finally:
        yamada.close()


def test_a_person_moved_by_the_cli_leaves_the_old_channel_and_joins_the_new(deployment):
    server, env = deployment
    soumu, kikaku = _department_channel("01"), _department_channel("02")
    yamada = Listener(server.url, _token(server, "yamada"))
    suzuki, tanaka = _token(server, "suzuki"), _token(server, "tanaka")
    try:
        _post(server, suzuki, soumu, "総務課の連絡")
        assert wait_for(lambda: "総務課の連絡" in yamada.bodies, SOCKET_WAIT), yamada.bodies

        _cli(env, "users", "update", "yamada", "--department", "02")
        _post(server, suzuki, soumu, "総務課だけの話")
        _post(server, tanaka, kikaku, "企画財政課へようこそ")
        # The new 課's message arrives on the socket already open (it was moved into the room) …
        assert wait_for(lambda: "企画財政課へようこそ" in yamada.bodies, SOCKET_WAIT), yamada.bodies
        # … and the old 課's message, sent before it, never did.
        assert "総務課だけの話" not in yamada.bodies
        assert not yamada.ended
    finally:
        yamada.close()
