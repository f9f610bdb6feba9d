"""通知の設定 (users.preferences): メンション and 決裁の到着 off stop those 通知 (decided in
notifications.notify for every domain), the rest always come; GET/PUT /api/v1/me/preferences; the 設定
form; each change audited with before and after."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from approvals import service
from tests.approvals import test_service_support as support
from tests.conftest import api_token, csrf_from, login
from workspace import db, directory, notifications
from workspace.errors import ServiceError
from workspace.models import AuditEntry

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
sent = support.sent


def _entries() -> list[AuditEntry]:
    rows = db.session().execute(select(AuditEntry).where(AuditEntry.action == "user.preferences_changed"))
    return list(rows.scalars())


def _kinds(user: Any) -> list[str]:
    return [n.kind for n in notifications.list_for(user)]


def test_defaults_mentions_and_arrivals_on_desktop_off(village: dict[str, Any]) -> None:
    assert notifications.preferences_of(village["yamada"]) == {
        "mentions": True,
        "approvals": True,
        "desktop": False,
    }


def test_setting_keeps_other_keys_and_is_audited_with_before_and_after(village: dict[str, Any]) -> None:
    yamada = village["yamada"]
    yamada.preferences = {"something_else": 1}
    db.session().commit()
    after = notifications.set_preferences(yamada, {"mentions": False})
    assert after == {"mentions": False, "approvals": True, "desktop": False}
    db.session().expire_all()
    stored = directory.get_user("yamada").preferences
    assert stored == {"something_else": 1, "mentions": False}
    (entry,) = _entries()
    assert entry.actor == "yamada" and entry.target == "yamada"
    assert entry.detail == {
        "before": {"mentions": True, "approvals": True, "desktop": False},
        "after": {"mentions": False, "approvals": True, "desktop": False},
    }
    notifications.set_preferences(directory.get_user("yamada"), {"mentions": False})  # no change
    assert len(_entries()) == 1


@pytest.mark.parametrize("changes", [{}, [], {"sound": True}, {"mentions": "no"}, {"desktop": 1}])
def test_bad_preferences_are_refused_and_change_nothing(village: dict[str, Any], changes: Any) -> None:
    with pytest.raises(ServiceError) as caught:
        notifications.set_preferences(village["yamada"], changes)
    assert caught.value.status == 422 and caught.value.code == "invalid"
    db.session().rollback()
    assert directory.get_user("yamada").preferences in ({}, None)
    assert _entries() == []


def test_mentions_off_stops_mention_notices_only(village: dict[str, Any]) -> None:
    """With メンション off, is a mention not written while a reply and a reaction still are?"""
    yamada, suzuki = village["yamada"], village["suzuki"]
    notifications.set_preferences(yamada, {"mentions": False})
    with db.write():
        notifications.notify(
            [yamada.id], "mention", "chat.message:1", "呼ばれました", "/chat/", actor_id=suzuki.id
        )
        notifications.notify([yamada.id], "reply", "chat.message:2", "返信", "/chat/", actor_id=suzuki.id)
        notifications.notify([yamada.id], "reaction", "chat.reaction:3", "👍", "/chat/", actor_id=suzuki.id)
        # Someone who kept mentions on still hears them.
        notifications.notify([village["sato"].id], "mention", "chat.message:1", "呼ばれました", "/chat/")
    assert sorted(_kinds(yamada)) == ["reaction", "reply"]
    assert _kinds(village["sato"]) == ["mention"]


def test_approval_arrivals_off_stops_turns_but_not_the_results_of_my_own_request(org: dict[str, Any]) -> None:
    """With 決裁の到着 off, is 鈴木 not told of her turn, while 山田 still hears of the 差戻し of his 起案?"""
    yamada, suzuki, sato = org["yamada"], org["suzuki"], org["sato"]
    notifications.set_preferences(suzuki, {"approvals": False})
    notifications.set_preferences(yamada, {"approvals": False})
    row = service.create(yamada, {"route": "general", "title": "備品購入", "submit": True})
    assert _kinds(suzuki) == []  # her turn: an arrival, turned off
    service.act(suzuki, row.id, "approve")
    assert [n.text for n in notifications.list_for(sato)] == [
        "山田 太郎さんの起案「備品購入」があなたの決裁待ちになりました"
    ]  # 佐藤 kept the default
    service.act(sato, row.id, "send_back", comment="見積書を添付してください")
    assert [n.text for n in notifications.list_for(yamada)] == [
        "佐藤 一郎さんが起案「備品購入」を差し戻しました：見積書を添付してください"
    ]  # a result of his own 起案: always told
    # The work itself is not hidden: the turn is still in 鈴木's inbox after the 再提出.
    service.act(yamada, row.id, "resubmit")
    assert _kinds(suzuki) == []


def test_which_notices_each_choice_decides() -> None:
    assert notifications.preference_for("mention", "chat.message:1") == "mentions"
    for what in ("assigned", "circulated", "post_review"):
        assert notifications.preference_for("approval", f"approval:5:v2:{what}") == "approvals"
    for what in ("sent_back", "decided", "rejected"):
        assert notifications.preference_for("approval", f"approval:5:v2:{what}") is None
    assert notifications.preference_for("reply", "chat.message:1") is None
    assert notifications.preference_for("reaction", "chat.reaction:1:2:👍") is None


# --- API and page -------------------------------------------------------------------------------


def test_api_get_and_put(village: dict[str, Any], client) -> None:
    headers = {"Authorization": f"Bearer {api_token(client, 'yamada')}"}
    got = client.get("/api/v1/me/preferences", headers=headers)
    assert got.status_code == 200
    assert got.get_json() == {"mentions": True, "approvals": True, "desktop": False}
    put = client.put("/api/v1/me/preferences", json={"desktop": True, "approvals": False}, headers=headers)
    assert put.status_code == 200
    assert put.get_json() == {"mentions": True, "approvals": False, "desktop": True}
    assert client.get("/api/v1/me/preferences", headers=headers).get_json() == put.get_json()


@pytest.mark.parametrize(
    "body,status",
    [({"sound": True}, 422), ({"mentions": None}, 422), ({}, 422), (["mentions"], 400), ("x", 400)],
)
def test_api_refuses_bad_bodies(village: dict[str, Any], client, body: Any, status: int) -> None:
    headers = {"Authorization": f"Bearer {api_token(client, 'yamada')}"}
    answer = client.put("/api/v1/me/preferences", json=body, headers=headers)
    assert answer.status_code == status
    assert answer.get_json()["error"]["message"]
    assert client.get("/api/v1/me/preferences", headers=headers).get_json()["mentions"] is True


def test_api_needs_a_sign_in(client, village) -> None:
    assert client.get("/api/v1/me/preferences").status_code == 401
    assert client.put("/api/v1/me/preferences", json={"mentions": False}).status_code == 401


def test_the_settings_form_saves_the_three_choices(village: dict[str, Any], client) -> None:
    login(client, "yamada")
    html = client.get("/settings").get_data(as_text=True)
    assert 'id="pref-mentions"' in html and 'id="pref-desktop"' in html
    saved = client.post(
        "/settings/notifications", data={"approvals": "y", "desktop": "y", "csrf_token": csrf_from(html)}
    )
    assert saved.status_code == 302
    db.session().expire_all()
    assert notifications.preferences_of(directory.get_user("yamada")) == {
        "mentions": False,
        "approvals": True,
        "desktop": True,
    }
    page = client.get("/settings").get_data(as_text=True)
    assert "通知の設定を保存しました。" in page
    assert 'id="pref-mentions" name="mentions" value="y" aria-describedby="pref-mentions-help">' in page
    no_csrf = client.post("/settings/notifications", data={"mentions": "y"})
    assert no_csrf.status_code == 400  # CSRF refused before the view
    db.session().expire_all()
    assert notifications.preferences_of(directory.get_user("yamada"))["mentions"] is False
