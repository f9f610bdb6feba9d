"""Channels: department channels follow the directory; private channels stay invisible to outsiders."""

from __future__ import annotations

from sqlalchemy import func, select

from chat.models import Channel, Member, Message
from workspace import db, directory


def _names(person) -> dict[str, str]:
    return {c["name"]: c["kind"] for c in person.get("/channels").get_json()["channels"]}


def test_each_department_gets_one_channel_with_its_people(people):
    assert _names(people["yamada"]) == {"総務課": "department"}
    assert _names(people["tanaka"]) == {"企画財政課": "department"}
    soumu = people["sato"].channel_id("総務課")
    members = people["sato"].get(f"/channels/{soumu}").get_json()["members"]
    assert [m["username"] for m in members] == ["admin", "sato", "suzuki", "yamada"]
    assert (
        db.session().execute(select(func.count(Channel.id)).where(Channel.kind == "department")).scalar() == 2
    )


def test_channel_list_has_the_exact_public_shape(people):
    body = people["yamada"].get("/channels").get_json()
    assert body == {
        "channels": [
            {
                "id": body["channels"][0]["id"],
                "name": "総務課",
                "kind": "department",
                "description": "",
                "unread": 0,
            }
        ]
    }


def test_transfer_moves_the_person_to_the_new_department_channel(people):
    directory.update_local_user("yamada", actor="test", department_code="02")
    assert _names(people["yamada"]) == {"企画財政課": "department"}
    kikaku = people["tanaka"].channel_id("企画財政課")
    members = [m["username"] for m in people["tanaka"].get(f"/channels/{kikaku}").get_json()["members"]]
    assert members == ["tanaka", "yamada"]


def test_deactivated_person_leaves_every_channel(people, village):
    created = people["yamada"].post("/channels", {"name": "防災", "kind": "private", "members": ["tanaka"]})
    assert created.status_code == 201
    directory.set_active("yamada", False, actor="test")
    left = db.session().execute(select(Member).where(Member.user_id == village["yamada"].id)).all()
    assert left == []


def test_reenabled_person_is_back_in_their_department_channel(people):
    directory.set_active("yamada", False, actor="test")
    directory.set_active("yamada", True, actor="test")
    assert _names(people["yamada"]) == {"総務課": "department"}


def test_private_channel_is_invisible_to_non_members(people):
    created = people["yamada"].post(
        "/channels", {"name": "人事<秘>", "kind": "private", "members": ["suzuki"]}
    )
    assert created.status_code == 201
    channel = created.get_json()
    assert channel["name"] == "人事<秘>" and channel["kind"] == "private"
    posted = people["yamada"].post(f"/channels/{channel['id']}/messages", {"body": "内密に"}).get_json()
    tanaka = people["tanaka"]
    assert "人事<秘>" not in _names(tanaka)
    assert all(
        c["id"] != channel["id"] for c in tanaka.get("/channels?scope=joinable").get_json()["channels"]
    )
    for response in (
        tanaka.get(f"/channels/{channel['id']}"),
        tanaka.get(f"/channels/{channel['id']}/messages"),
        tanaka.post(f"/channels/{channel['id']}/messages", {"body": "見えますか"}),
        tanaka.post(f"/channels/{channel['id']}/join"),
        tanaka.post(f"/channels/{channel['id']}/read", {"last_read_id": 1}),
        tanaka.get(f"/messages/{posted['id']}/readers"),
        tanaka.patch(f"/messages/{posted['id']}", {"body": "x"}),
        tanaka.delete(f"/messages/{posted['id']}"),
    ):
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"]["code"] == "not_found"
    # The same answer as for an id that never existed: nothing tells the channel apart.
    assert tanaka.get("/channels/99999").get_json() == tanaka.get(f"/channels/{channel['id']}").get_json()
    assert people["suzuki"].get(f"/channels/{channel['id']}/messages").status_code == 200


def test_writing_to_another_departments_channel_is_forbidden(people):
    soumu = people["yamada"].channel_id("総務課")
    response = people["tanaka"].post(f"/channels/{soumu}/messages", {"body": "おじゃまします"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_member"
    assert "投稿できません" in response.get_json()["error"]["message"]
    assert db.session().execute(select(func.count(Message.id))).scalar() == 0


def test_anyone_may_join_a_public_channel(people):
    created = people["yamada"].post("/channels", {"name": "雑談", "kind": "public", "members": []}).get_json()
    joinable = people["tanaka"].get("/channels?scope=joinable").get_json()["channels"]
    assert [c["name"] for c in joinable] == ["雑談"]
    assert people["tanaka"].post(f"/channels/{created['id']}/messages", {"body": "a"}).status_code == 403
    assert people["tanaka"].post(f"/channels/{created['id']}/join").status_code == 200
    assert people["tanaka"].post(f"/channels/{created['id']}/messages", {"body": "a"}).status_code == 201
    assert people["tanaka"].post(f"/channels/{created['id']}/leave").status_code == 204
    assert "雑談" not in _names(people["tanaka"])


def test_department_channel_cannot_be_joined_or_left_by_hand(people):
    soumu = people["yamada"].channel_id("総務課")
    assert people["tanaka"].post(f"/channels/{soumu}/join").status_code == 403
    assert people["yamada"].post(f"/channels/{soumu}/leave").status_code == 409


def test_private_channel_members_can_invite(people):
    channel = people["yamada"].post("/channels", {"name": "係会議", "kind": "private"}).get_json()
    assert people["yamada"].post(
        f"/channels/{channel['id']}/members", {"members": ["tanaka"]}
    ).get_json() == {"added": ["tanaka"]}
    assert "係会議" in _names(people["tanaka"])


def test_direct_message_between_the_same_people_is_reused(people):
    first = people["yamada"].post("/channels", {"kind": "direct", "members": ["tanaka"]})
    again = people["tanaka"].post("/channels", {"kind": "direct", "members": ["yamada"]})
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["name"] == "田中 誠"  # a DM is named after the other person
    assert again.get_json()["name"] == "山田 太郎"
    group = people["yamada"].post("/channels", {"kind": "direct", "members": ["tanaka", "suzuki"]})
    assert group.status_code == 201 and group.get_json()["id"] != first.get_json()["id"]


def test_bad_channel_requests_are_refused_without_writing(people):
    yamada = people["yamada"]
    before = db.session().execute(select(func.count(Channel.id))).scalar()
    cases = [
        ({"name": "x", "kind": "department"}, 422),
        ({"name": "x", "kind": None}, 422),
        ({"name": "", "kind": "public"}, 422),
        ({"name": "あ" * 81, "kind": "public"}, 422),
        ({"name": ["x"], "kind": "public"}, 422),
        ({"name": "x", "kind": "private", "members": "tanaka"}, 400),
        ({"name": "x", "kind": "private", "members": [1, 2]}, 400),
        ({"name": "x", "kind": "private", "members": ["nobody"]}, 422),
        ({"kind": "direct", "members": []}, 422),
    ]
    for body, status in cases:
        response = yamada.post("/channels", body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"]["message"]
    assert yamada.client.post("/api/v1/channels", data="not json", headers=yamada.headers).status_code == 400
    assert db.session().execute(select(func.count(Channel.id))).scalar() == before


def test_api_requires_sign_in(client, village):
    assert client.get("/api/v1/channels").status_code == 401
    assert client.post("/api/v1/channels/1/messages", json={"body": "x"}).status_code == 401
