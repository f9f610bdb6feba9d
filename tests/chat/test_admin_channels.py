"""管理 › チャンネル's services and API: the overview (metadata only, DMs counted), archiving (read-only
for members, out of their list), the members of private channels, each change audited with before
and after, and every call refused to a 主事."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from chat import archive
from chat.errors import ChatError
from workspace import db
from workspace.models import AuditEntry


def _audits(action: str) -> list[AuditEntry]:
    with db.read_session() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


@pytest.fixture
def rooms(people: dict[str, Any]) -> dict[str, int]:
    """A 課 channel, a public and a private channel, a DM and a group DM (with a message in each)."""
    yamada = people["yamada"]
    made = {"soumu": yamada.channel_id("総務課"), "kikaku": people["tanaka"].channel_id("企画財政課")}
    for key, kind, name, members in (
        ("public", "public", "防災訓練", ["suzuki"]),
        ("private", "private", "人事の相談", ["sato"]),
        ("dm", "direct", None, ["tanaka"]),
        ("group", "direct", None, ["tanaka", "sato"]),
    ):
        body = {"kind": kind, "members": members, **({"name": name} if name else {})}
        response = yamada.post("/channels", body)
        assert response.status_code == 201, response.get_json()
        made[key] = response.get_json()["id"]
        assert (
            yamada.post(f"/channels/{made[key]}/messages", {"body": f"秘密の本文 {key}"}).status_code == 201
        )
    return made


def test_overview_lists_channels_with_counts_and_only_counts_direct_messages(
    people: dict[str, Any], rooms: dict[str, int]
) -> None:
    response = people["admin"].get("/admin/channels")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    by_id = {c["id"]: c for c in body["channels"]}
    assert [c["id"] for c in body["channels"]] == [rooms[k] for k in ("kikaku", "soumu", "public", "private")]
    assert by_id[rooms["soumu"]]["kind_label"] == "課" and by_id[rooms["soumu"]]["member_count"] == 4
    assert by_id[rooms["public"]] | {} == {
        "id": rooms["public"],
        "name": "防災訓練",
        "kind": "public",
        "kind_label": "公開",
        "description": "",
        "member_count": 2,
        "retention_days": None,
        "archived": False,
        "archived_at": None,
    }
    assert by_id[rooms["private"]]["kind_label"] == "非公開"
    assert body["direct"] == {"count": 1, "group_count": 1}
    text = response.get_data(as_text=True)
    assert "秘密の本文" not in text and "田中" not in text  # no content, no DM's people


def test_a_shuji_is_refused_every_admin_call(people: dict[str, Any], rooms: dict[str, int]) -> None:
    yamada = people["yamada"]
    private = rooms["private"]
    for response in (
        yamada.get("/admin/channels"),
        yamada.get(f"/admin/channels/{private}"),
        yamada.post(f"/admin/channels/{private}/archive"),
        yamada.post(f"/admin/channels/{private}/unarchive"),
        yamada.post(f"/admin/channels/{private}/members", {"usernames": ["tanaka"]}),
        yamada.delete(f"/admin/channels/{private}/members/sato"),
        yamada.post("/admin/chat/exports", {"channel_id": private}),
        yamada.get("/admin/chat/exports/1/file"),
    ):
        assert response.status_code == 403, response.get_json()
    assert _audits("chat.channel.archive") == [] and _audits("chat.channel.members") == []


def test_direct_messages_are_not_administered_one_by_one(
    people: dict[str, Any], rooms: dict[str, int]
) -> None:
    admin = people["admin"]
    assert admin.get(f"/admin/channels/{rooms['dm']}").status_code == 404
    assert admin.post(f"/admin/channels/{rooms['dm']}/archive").status_code == 404
    assert admin.get("/admin/channels/999999").status_code == 404


def test_archive_makes_a_channel_read_only_and_hides_it_from_members_lists(
    people: dict[str, Any], rooms: dict[str, int]
) -> None:
    yamada, suzuki, admin = people["yamada"], people["suzuki"], people["admin"]
    public = rooms["public"]
    message_id = yamada.get(f"/channels/{public}/messages").get_json()["messages"][-1]["id"]
    response = admin.post(f"/admin/channels/{public}/archive")
    assert response.status_code == 200 and response.get_json()["archived"] is True
    # Out of the members' list and of the joinable list; still readable by its address.
    assert public not in [c["id"] for c in yamada.get("/channels").get_json()["channels"]]
    assert public not in [
        c["id"] for c in people["tanaka"].get("/channels?scope=joinable").get_json()["channels"]
    ]
    assert yamada.get(f"/channels/{public}").status_code == 200
    assert [m["id"] for m in yamada.get(f"/channels/{public}/messages").get_json()["messages"]] == [
        message_id
    ]
    # Every write answers 409 archived.
    refused = [
        yamada.post(f"/channels/{public}/messages", {"body": "まだ書ける？"}),
        yamada.patch(f"/messages/{message_id}", {"body": "直す"}),
        yamada.delete(f"/messages/{message_id}"),
        suzuki.post(f"/messages/{message_id}/reactions", {"emoji": "👍"}),
        suzuki.client.put(f"/api/v1/messages/{message_id}/pin", headers=suzuki.headers),
        yamada.post(f"/channels/{public}/members", {"members": ["tanaka"]}),
        people["tanaka"].post(f"/channels/{public}/join"),
        yamada.upload(public, b"hello", "memo.txt"),
    ]
    for response in refused:
        assert response.status_code == 409, (response.request.path, response.get_json())
        assert response.get_json()["error"]["code"] == "archived"
    [entry] = _audits("chat.channel.archive")
    assert entry.actor == "admin" and entry.target == f"channel:{public}"
    assert entry.detail["before"] == {"archived_at": None} and entry.detail["after"]["archived_at"]
    # Archiving again changes nothing and writes nothing.
    assert admin.post(f"/admin/channels/{public}/archive").status_code == 200
    assert len(_audits("chat.channel.archive")) == 1
    # Unarchived, it is back in the list and takes messages again.
    response = admin.post(f"/admin/channels/{public}/unarchive")
    assert response.status_code == 200 and response.get_json()["archived"] is False
    assert public in [c["id"] for c in yamada.get("/channels").get_json()["channels"]]
    assert yamada.post(f"/channels/{public}/messages", {"body": "再開します"}).status_code == 201
    [entry] = _audits("chat.channel.unarchive")
    assert entry.detail["after"] == {"archived_at": None} and entry.detail["before"]["archived_at"]


def test_private_members_are_added_and_removed_with_before_and_after(
    people: dict[str, Any], rooms: dict[str, int]
) -> None:
    admin, tanaka = people["admin"], people["tanaka"]
    private = rooms["private"]
    assert tanaka.get(f"/channels/{private}").status_code == 404
    response = admin.post(f"/admin/channels/{private}/members", {"usernames": ["tanaka", "sato"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["added"] == [{"username": "tanaka", "display_name": "田中 誠"}]
    assert [m["username"] for m in body["members"]] == ["sato", "tanaka", "yamada"]
    assert tanaka.get(f"/channels/{private}").status_code == 200
    [entry] = _audits("chat.channel.members")
    assert entry.actor == "admin" and entry.target == f"channel:{private}"
    assert entry.detail == {
        "added": ["tanaka"],
        "before": ["sato", "yamada"],
        "after": ["sato", "tanaka", "yamada"],
    }
    response = admin.delete(f"/admin/channels/{private}/members/sato")
    assert response.status_code == 200
    assert [m["username"] for m in response.get_json()["members"]] == ["tanaka", "yamada"]
    assert people["sato"].get(f"/channels/{private}").status_code == 404
    entry = _audits("chat.channel.members")[-1]
    assert entry.detail == {
        "removed": ["sato"],
        "before": ["sato", "tanaka", "yamada"],
        "after": ["tanaka", "yamada"],
    }


def test_member_changes_refused_change_nothing(people: dict[str, Any], rooms: dict[str, int]) -> None:
    admin = people["admin"]
    private = rooms["private"]
    unknown = admin.post(f"/admin/channels/{private}/members", {"usernames": ["nobody"]})
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "unknown_user"
    assert unknown.get_json()["error"]["field"] == "usernames"
    empty = admin.post(f"/admin/channels/{private}/members", {"usernames": []})
    assert empty.status_code == 422
    public = admin.post(f"/admin/channels/{rooms['public']}/members", {"usernames": ["tanaka"]})
    assert public.status_code == 409 and public.get_json()["error"]["code"] == "not_private"
    department = admin.delete(f"/admin/channels/{rooms['soumu']}/members/sato")
    assert department.status_code == 409
    outsider = admin.delete(f"/admin/channels/{private}/members/tanaka")
    assert outsider.status_code == 404 and outsider.get_json()["error"]["code"] == "not_member"
    assert _audits("chat.channel.members") == []
    members = admin.get(f"/admin/channels/{private}").get_json()["members"]
    assert [m["username"] for m in members] == ["sato", "yamada"]


def test_services_refuse_a_non_administrator_before_any_lookup(app: Any, village: dict[str, Any]) -> None:
    yamada = village["yamada"]
    for call in (
        lambda: archive.overview(yamada),
        lambda: archive.set_archived(yamada, 999999, True),
        lambda: archive.add_members(yamada, 999999, ["sato"]),
        lambda: archive.remove_member(yamada, 999999, "sato"),
    ):
        with pytest.raises(ChatError) as caught:
            call()
        assert caught.value.status == 403
