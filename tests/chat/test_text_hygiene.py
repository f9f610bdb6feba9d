"""The text rule (workspace/text.py) on chat: channel names and descriptions, message bodies over HTTP
and Socket.IO. Each attack answers 422 (or a refused acknowledgement) and stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chat.models import Channel, Message
from tests.chat.conftest import connect, emit
from workspace import db

RLO = "\u202e"
REFUSED = "使えない文字（制御文字・文字の向きを変える文字）"


def _channels() -> int:
    return db.session().execute(select(func.count(Channel.id)).where(Channel.kind != "department")).scalar()


@pytest.mark.parametrize(
    "name",
    ["防災" + RLO + "gnp.exe", "防災\x00", "防災\x07連絡", "防災\u2066連絡", "防災\u200e"],
    ids=["bidi-override", "nul", "bell", "isolate", "lrm-mark"],
)
def test_a_hostile_channel_name_is_refused_and_nothing_stored(people, name):
    response = people["yamada"].post("/channels", {"name": name, "kind": "public", "members": []})
    assert response.status_code == 422, response.get_json()
    assert "チャンネル名に" + REFUSED in response.get_json()["error"]["message"]
    assert _channels() == 0


@pytest.mark.parametrize("description", ["説明" + RLO, "説明\x00", "説明\x1b"])
def test_a_hostile_channel_description_is_refused(people, description):
    response = people["yamada"].post(
        "/channels", {"name": "防災", "kind": "public", "members": [], "description": description}
    )
    assert response.status_code == 422 and "説明に" + REFUSED in response.get_json()["error"]["message"]
    assert _channels() == 0


def test_a_channel_name_is_stored_in_nfc(people):
    created = people["yamada"].post("/channels", {"name": "か\u3099っこう", "kind": "public", "members": []})
    assert created.status_code == 201 and created.get_json()["name"] == "がっこう"
    stored = db.session().execute(select(Channel.name).where(Channel.kind == "public")).scalar_one()
    assert stored == "がっこう"


def test_a_message_with_a_bidi_override_is_refused_over_http_and_socket(people):
    channel_id = people["yamada"].channel_id("総務課")
    response = people["yamada"].post(f"/channels/{channel_id}/messages", {"body": "請求書" + RLO + "fdp.exe"})
    assert response.status_code == 422 and REFUSED in response.get_json()["error"]["message"]
    (ws,) = connect(people, "yamada")
    ack = emit(ws, "message:send", {"channel_id": channel_id, "body": "a\u2067b", "client_msg_id": "x1"})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert db.session().execute(select(func.count(Message.id))).scalar() == 0


def test_a_message_keeps_its_lines_and_drops_a_stray_nul(people):
    channel_id = people["yamada"].channel_id("総務課")
    response = people["yamada"].post(f"/channels/{channel_id}/messages", {"body": "一行目\r\n二行目\x00"})
    assert response.status_code == 201
    assert db.session().execute(select(Message.body)).scalar_one() == "一行目\n二行目"
