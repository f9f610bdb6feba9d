"""Kill the process (SIGKILL, a real subprocess) at every point between a chat message's insert and
its search index write: after a restart of the server the message is searchable without a reindex,
or — killed before its commit — it does not exist at all and nothing of it is left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from chat.models import Message
from docsearch.models import IndexOutbox
from tests.conftest import PASSWORD, ROOT, LiveServer, free_port, server_env, wait_for
from workspace import db

BODY = "除雪車の出動計画について"
WORD = "除雪車"


def _crash(app: Any, env: dict[str, str], point: str) -> None:
    # The index exists before the crash (else the restart's first search would rebuild it from the
    # database, which is a reindex and would hide a lost row).
    built = app.test_cli_runner().invoke(args=["reindex"])
    assert built.exit_code == 0, built.output
    child = subprocess.run(
        [sys.executable, "-m", "tests.docsearch.crash_child", point, "yamada", BODY],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    # -9: it died by SIGKILL at the point; 0 would mean the point was never reached.
    assert child.returncode == -9, (child.returncode, child.stderr.decode(errors="replace")[-3000:])


def _hits(server: LiveServer) -> list[dict[str, Any]]:
    token = requests.post(
        server.url + "/api/v1/auth/token", json={"username": "yamada", "password": PASSWORD}, timeout=30
    ).json()["token"]
    response = requests.get(
        server.url + "/api/v1/search",
        params={"q": WORD},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return [r for r in response.json()["results"] if r["type"] == "message"]


def _count(model: Any) -> int:
    # A read session of its own: a fresh snapshot, and no lock left for the server to wait on.
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("point", ["committed", "draining", "indexed"])
def test_a_message_killed_after_its_commit_is_searchable_after_the_restart(
    app: Any, village: dict[str, Any], tmp_path: Path, point: str
) -> None:
    """Is a message whose process died after the commit found after the restart, without a reindex?"""
    env = server_env(app)
    _crash(app, env, point)
    assert _count(Message) == 1
    server = LiveServer(env, free_port(), tmp_path / "server.log")  # the restart
    try:
        assert wait_for(lambda: len(_hits(server)) == 1, 30)
        assert _count(IndexOutbox) == 0  # the restart's drain applied and deleted the owed rows
    finally:
        server.stop()


def test_a_message_killed_before_its_commit_leaves_nothing(
    app: Any, village: dict[str, Any], tmp_path: Path
) -> None:
    """Killed between the insert and the commit: no message, no owed row, nothing found."""
    env = server_env(app)
    _crash(app, env, "inserted")
    assert _count(Message) == 0 and _count(IndexOutbox) == 0
    server = LiveServer(env, free_port(), tmp_path / "server.log")
    try:
        assert _hits(server) == []
    finally:
        server.stop()
