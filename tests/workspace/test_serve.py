"""The real server: it syncs the directory when it starts, so routes and channels know everyone."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from tests.conftest import LiveServer, free_port, server_env
from tests.ldap_fixtures import VILLAGE
from workspace import db
from workspace.models import User


def _user_count() -> int:
    count = db.session().execute(select(func.count()).select_from(User)).scalar()
    db.session().commit()  # release SQLite's lock for the server's own writes
    return count


def test_server_syncs_the_directory_at_start(app, slapd, tmp_path):
    assert _user_count() == 0
    ldap_env = {f"WORKSPACE_{key}": value for key, value in slapd.config().items()}
    server = LiveServer(server_env(app, **ldap_env), free_port(), tmp_path / "server.log")
    try:
        deadline = time.monotonic() + 30
        while _user_count() < VILLAGE.user_count and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _user_count() == VILLAGE.user_count
    finally:
        server.stop()


def test_flask_cli_serve_runs_the_same_gevent_server(app, village, tmp_path):
    import requests

    server = LiveServer(
        server_env(app), free_port(), tmp_path / "flask.log", entry=("flask", "--app", "wsgi")
    )
    try:
        assert requests.get(server.url + "/healthz", timeout=10).json()["database"] == "ok"
        # A WebSocket upgrade only works on the gevent server, not on Werkzeug's development server.
        import socketio

        token = requests.post(
            server.url + "/api/v1/auth/token",
            json={"username": "yamada", "password": "correct-horse-9"},
            timeout=10,
        ).json()["token"]
        client = socketio.Client(reconnection=False)
        client.connect(server.url, transports=["websocket"], auth={"token": token}, wait_timeout=10)
        assert client.transport() == "websocket"
        client.disconnect()
    finally:
        server.stop()
