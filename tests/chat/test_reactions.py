"""Reactions and pins: API, events to members only, validation.

(Named under test_attachments* only because of this change's file ownership; rename to test_reactions.py.)
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from tests.chat.conftest import connect, frames
from workspace import db
from workspace.models import AuditEntry


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


@pytest.fixture
def message_id(people, soumu) -> int:
    return people["yamada"].post(f"/channels/{soumu}/messages", {"body": "確認お願いします"}).get_json()["id"]


def test_reactions_are_idempotent_summarised_and_shown_in_history(people, soumu, message_id):
    first = people["suzuki"].post(f"/messages/{message_id}/reactions", {"emoji": "👍"})
    assert first.status_code == 201
    again = people["suzuki"].post(f"/messages/{message_id}/reactions", {"emoji": "👍"})
    assert again.status_code == 200
    people["sato"].post(f"/messages/{message_id}/reactions", {"emoji": "👍"})
    people["sato"].post(f"/messages/{message_id}/reactions", {"emoji": ":ok:"})
    history = people["yamada"].get(f"/channels/{soumu}/messages").get_json()["messages"]
    assert history[-1]["reactions"] == [
        {"emoji": "👍", "count": 2, "users": ["suzuki", "sato"]},
        {"emoji": ":ok:", "count": 1, "users": ["sato"]},
    ]
    removed = people["sato"].delete(f"/messages/{message_id}/reactions/{quote('👍')}")
    assert removed.status_code == 200
    assert removed.get_json()["reactions"][0] == {"emoji": "👍", "count": 1, "users": ["suzuki"]}


def test_reaction_event_reaches_channel_members_only(people, soumu, message_id):
    member, outsider = connect(people, "yamada", "tanaka")
    people["suzuki"].post(f"/messages/{message_id}/reactions", {"emoji": "🙇"})
    got = frames(member, "reaction:updated")
    assert got and got[0][1]["message_id"] == message_id and got[0][1]["reactions"][0]["emoji"] == "🙇"
    assert frames(outsider) == []


@pytest.mark.parametrize("emoji", ["", "like", "<script>", "👍" * 9, None, 5, ":bad shortcode:"])
def test_bad_emoji_gets_422(people, message_id, emoji):
    response = people["suzuki"].post(f"/messages/{message_id}/reactions", {"emoji": emoji})
    assert response.status_code == 422


def test_outsiders_cannot_react_or_pin(people, message_id):
    assert people["tanaka"].post(f"/messages/{message_id}/reactions", {"emoji": "👍"}).status_code == 403
    assert (
        people["tanaka"]
        .client.put(f"/api/v1/messages/{message_id}/pin", headers=people["tanaka"].headers)
        .status_code
        == 403
    )


def test_pins_are_listed_announced_and_audited(people, soumu, message_id):
    (member,) = connect(people, "suzuki")
    pin = people["sato"].client.put(f"/api/v1/messages/{message_id}/pin", headers=people["sato"].headers)
    assert pin.status_code == 200 and pin.get_json()["pinned_at"]
    pins = people["yamada"].get(f"/channels/{soumu}/pins").get_json()["messages"]
    assert [m["id"] for m in pins] == [message_id]
    event = frames(member, "pin:updated")
    assert event and event[0][1]["pinned"] is True and event[0][1]["by"] == "sato"
    assert (
        db.session().execute(select(AuditEntry).where(AuditEntry.action == "chat.message.pin")).scalar_one()
    )
    unpin = people["yamada"].delete(f"/messages/{message_id}/pin")
    assert unpin.status_code == 200 and unpin.get_json()["pinned_at"] is None
    assert people["yamada"].get(f"/channels/{soumu}/pins").get_json()["messages"] == []


def test_deleted_messages_take_no_reactions_or_pins(people, message_id):
    people["yamada"].delete(f"/messages/{message_id}")
    assert people["suzuki"].post(f"/messages/{message_id}/reactions", {"emoji": "👍"}).status_code == 409
    assert (
        people["suzuki"]
        .client.put(f"/api/v1/messages/{message_id}/pin", headers=people["suzuki"].headers)
        .status_code
        == 409
    )
