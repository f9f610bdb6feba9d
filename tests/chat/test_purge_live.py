"""The retention purge in a real browser: an open chat page drops purged messages as the operator runs it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from chat import messages, retention
from chat.models import Channel, Message
from tests.conftest import ROOT, LiveServer, free_port, server_env, sign_in_page
from workspace import db
from workspace.models import utcnow

pytestmark = pytest.mark.browser

OLD_OWN = "先月の回覧：防災訓練の集合場所は役場前です"
OLD_OTHER = "先月の連絡：公用車の点検は済みました"
RECENT = "本日の会議は15時から第2会議室です"


@pytest.fixture
def hub_server(app: Any, village: dict[str, Any], tmp_path: Path, redis_url: str) -> Iterator[LiveServer]:
    """The real server with the Redis message queue, so other processes (the CLI) reach its sockets."""
    server = LiveServer(server_env(app, WORKSPACE_REDIS_URL=redis_url), free_port(), tmp_path / "server.log")
    yield server
    server.stop()


def _post(author: Any, channel_id: int, body: str, age_days: float) -> int:
    message, created = messages.post(author, channel_id, body)
    assert created
    db.session().execute(
        update(Message)
        .where(Message.id == message.id)
        .values(created_at=utcnow() - dt.timedelta(days=age_days))
    )
    db.session().commit()
    return message.id


def test_open_chat_page_drops_purged_messages_live(
    app: Any, village: dict[str, Any], hub_server: LiveServer, redis_url: str, page: Any
) -> None:
    """Does an open chat page remove purged messages without a reload, and keep the recent ones"""
    soumu = db.session().execute(select(Channel.id).where(Channel.name == "総務課")).scalar_one()
    old_own = _post(village["yamada"], soumu, OLD_OWN, 40)
    old_other = _post(village["suzuki"], soumu, OLD_OTHER, 31)
    recent = _post(village["yamada"], soumu, RECENT, 1)
    retention.set_retention(village["admin"], soumu, 30)  # commits: the server and the CLI see it all

    sign_in_page(page, hub_server.url, "yamada")
    page.goto(hub_server.url + "/chat/")
    expect(page.locator("#channel-list button[aria-current=true]")).to_have_text("総務課")
    items = page.locator("#message-list li")
    # Before the purge the page shows all three, so the removal below is really observed.
    expect(items.filter(has_text=OLD_OWN)).to_have_count(1)
    expect(items.filter(has_text=OLD_OTHER)).to_have_count(1)
    expect(items.filter(has_text=RECENT)).to_have_count(1)
    expect(items).to_have_count(3)
    page.wait_for_function("() => Boolean(window.workspace && window.workspace.socket.connected)")
    # A reload (or a navigation) would lose this mark, so its survival proves the page stayed open.
    page.evaluate("() => { window.__openBeforePurge = true; }")
    url_before = page.url

    # As an operator would: the real console script in its own process, sharing database, data dir and
    # Redis with the server. Its emit travels through Redis to the server holding yamada's socket.
    done = subprocess.run(
        [sys.executable, "-m", "workspace", "chat", "purge"],
        env=server_env(app, WORKSPACE_REDIS_URL=redis_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"channel {soumu} (retention 30 days): 2 messages" in done.stdout, done.stdout

    expect(items.filter(has_text=OLD_OWN)).to_have_count(0)
    expect(items.filter(has_text=OLD_OTHER)).to_have_count(0)
    expect(page.locator(f"#message-{old_own}, #message-{old_other}")).to_have_count(0)
    expect(items.filter(has_text=RECENT)).to_have_count(1)
    expect(page.locator(f"#message-{recent}")).to_be_visible()
    expect(items).to_have_count(1)
    assert page.evaluate("() => window.__openBeforePurge") is True
    assert page.url == url_before
    db.session().expire_all()
    assert retention.stored_message_count(soumu) == 1
