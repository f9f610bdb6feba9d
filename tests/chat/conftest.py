"""Chat test helpers: API tokens per person, Socket.IO test clients, and running calls as real requests do."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import pytest
from flask import has_app_context

from tests.conftest import api_token
from workspace import db
from workspace.realtime import socketio


def isolated(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run fn in a fresh context, as the server runs each Socket.IO event (own app context and session).

    Commits the test body's transaction first: on SQLite it holds the write lock.
    """
    if has_app_context():
        db.session().commit()
    result = contextvars.Context().run(fn, *args, **kwargs)
    if has_app_context():
        db.session().expire_all()
    return result


class Person:
    """One signed-in member of staff: an API token, HTTP helpers and their sockets."""

    def __init__(self, app: Any, client: Any, username: str) -> None:
        self.app, self.client, self.username = app, client, username
        self.token = api_token(client, username)
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post("/api/v1" + path, json=json, headers=self.headers, **kw)

    def patch(self, path: str, json: Any = None) -> Any:
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete("/api/v1" + path, headers=self.headers)

    def upload(self, channel_id: int, data: bytes, filename: str) -> Any:
        """POST a file to the channel's attachments as a browser's multipart form would."""
        import io

        return self.client.post(
            f"/api/v1/channels/{channel_id}/attachments",
            data={"file": (io.BytesIO(data), filename)},
            headers=self.headers,
            content_type="multipart/form-data",
        )

    def socket(self) -> Any:
        """Connect a Socket.IO test client with this person's token."""
        ws = isolated(socketio.test_client, self.app, auth={"token": self.token})
        assert ws.is_connected()
        return ws

    def channel_id(self, name: str) -> int:
        channels = self.get("/channels").get_json()["channels"]
        return next(c["id"] for c in channels if c["name"] == name)


def emit(ws: Any, event: str, data: Any) -> Any:
    """Emit as a browser would and return the acknowledgement."""
    return isolated(ws.emit, event, data, callback=True)


def frames(ws: Any, name: str | None = None) -> list[tuple[str, Any]]:
    """Return (event, first argument) of every frame the socket received since the last call."""
    got = [(m["name"], m["args"][0] if m["args"] else None) for m in ws.get_received()]
    return [f for f in got if name is None or f[0] == name]


def connect(people: dict[str, Person], *names: str) -> list[Any]:
    """Connect one socket per named person, then drop what connecting produced (presence frames)."""
    sockets = [people[name].socket() for name in names]
    for ws in sockets:
        ws.get_received()
    return sockets


@pytest.fixture
def people(app: Any, client: Any, village: dict[str, Any]) -> dict[str, Person]:
    """Every villager signed in through the API."""
    return {name: Person(app, client, name) for name in village}
