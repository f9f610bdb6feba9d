"""No message lost: a client that drops, misses messages and reconnects ends with the exact sequence.

Runs against the real server (`workspace serve`, gevent) with python-socketio as the client. The
client follows the same rule as chat.js: after (re)connecting, buffer live events, walk the history
forward from the last id it saw, then apply buffered events it does not already have.
"""

from __future__ import annotations

import threading
import time

import requests
import socketio as sio_client

from tests.conftest import PASSWORD, wait_for


class CatchUpClient:
    """A minimal chat client: keeps the last seen id of one channel and never shows a gap or duplicate."""

    def __init__(self, url: str, token: str, channel_id: int) -> None:
        self.url, self.token, self.channel_id = url, token, channel_id
        self.shown: list[int] = []
        self.live: list[int] = []
        self.syncing = False
        self.lock = threading.Lock()
        self.sio: sio_client.Client | None = None

    def _on_new(self, message: dict) -> None:
        if message["channel_id"] != self.channel_id:
            return
        with self.lock:
            self.live.append(message["id"])
            if not self.syncing:
                self._show(message["id"])

    def _show(self, message_id: int) -> None:
        if not self.shown or message_id > self.shown[-1]:
            self.shown.append(message_id)

    def connect(self, page: int = 2) -> None:
        with self.lock:
            self.syncing = True
        self.sio = sio_client.Client(reconnection=False)
        self.sio.on("message:new", self._on_new)
        self.sio.connect(self.url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10)

    def catch_up(self, page: int = 2) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while True:
            after = self.shown[-1] if self.shown else 0
            rows = requests.get(
                f"{self.url}/api/v1/channels/{self.channel_id}/messages",
                params={"after": after, "limit": page},
                headers=headers,
                timeout=10,
            ).json()["messages"]
            with self.lock:
                for row in rows:
                    self._show(row["id"])
            if len(rows) < page:
                break
        with self.lock:
            for message_id in sorted(self.live):
                self._show(message_id)
            self.syncing = False

    def drop(self) -> None:
        assert self.sio is not None
        self.sio.disconnect()


def test_dropped_client_catches_up_without_gap_or_duplicate(live_server):
    url = live_server.url

    def token(username: str) -> str:
        response = requests.post(
            url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10
        )
        return response.json()["token"]

    writer = {"Authorization": f"Bearer {token('yamada')}"}
    channels = requests.get(url + "/api/v1/channels", headers=writer, timeout=10).json()["channels"]
    channel_id = next(c["id"] for c in channels if c["kind"] == "department")

    def post(n: int) -> int:
        response = requests.post(
            f"{url}/api/v1/channels/{channel_id}/messages",
            json={"body": f"連絡{n}", "client_msg_id": f"n{n}"},
            headers=writer,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    reader = CatchUpClient(url, token("suzuki"), channel_id)
    reader.connect()
    reader.catch_up()
    sent = [post(n) for n in range(3)]
    assert wait_for(lambda: reader.shown == sent)

    reader.drop()
    sent += [post(n) for n in range(3, 8)]  # posted while the reader is away

    reader.connect()
    sent += [post(n) for n in range(8, 10)]  # arrive live AND in the history: must not double
    reader.catch_up(page=2)
    sent += [post(n) for n in range(10, 12)]  # live again after the catch-up
    assert wait_for(lambda: len(reader.shown) >= len(sent))
    time.sleep(0.3)  # anything extra (a duplicate) would arrive now
    assert reader.shown == sent
    assert len(set(reader.shown)) == len(reader.shown)
    history = requests.get(
        f"{url}/api/v1/channels/{channel_id}/messages", params={"limit": 200}, headers=writer, timeout=10
    ).json()["messages"]
    assert [m["id"] for m in history] == sent
    reader.drop()
