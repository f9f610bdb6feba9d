"""The approval pages through the test client: form errors, buttons shown only when allowed, absence form."""

from __future__ import annotations

from typing import Any

from approvals import service
from tests.approvals import test_service_support as support
from tests.conftest import csrf_from, login
from workspace import calendar

# Fixtures shared with the other approval test modules.
app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


def test_draft_form_shows_a_japanese_error_and_writes_nothing(client: Any, org: dict[str, Any]) -> None:
    """Does a negative amount re-render the form with a 422 and a Japanese message?"""
    login(client, "yamada")
    token = csrf_from(client.get("/approvals/new").get_data(as_text=True))
    form = {"csrf_token": token, "route": "general", "title": "件名", "amount": "-3", "submit": "1"}
    response = client.post("/approvals/new", data=form)
    assert response.status_code == 422
    assert "金額に負の値は指定できません。" in response.get_data(as_text=True)
    assert client.get("/approvals/").get_data(as_text=True).count("件名") == 0


def test_buttons_follow_allowed_actions(app: Any, org: dict[str, Any]) -> None:
    """Does the 係長 see 承認・差戻し・却下, the 課長 (not yet due) only 引上げ, a stranger nothing?"""
    import re

    row = service.create(org["yamada"], {"route": "general", "title": "ボタン", "submit": True})

    def buttons(username: str) -> tuple[int, list[str]]:
        client = app.test_client()
        login(client, username)
        response = client.get(f"/approvals/{row.id}")
        return response.status_code, re.findall(
            r'<button type="submit" name="action" value="(\w+)"', response.get_data(as_text=True)
        )

    assert buttons("suzuki") == (200, ["approve", "send_back", "reject"])
    assert buttons("sato") == (200, ["pull_up"])  # 引上げ: a later approver may act for the 係長
    assert buttons("yamada") == (200, ["pull_back", "withdraw"])
    assert buttons("tanaka")[0] == 404


def test_act_and_bulk_through_forms(client: Any, org: dict[str, Any]) -> None:
    """Do the detail page's 承認 button and the inbox's 一括承認 work, with a flash per outcome?"""
    first = service.create(org["yamada"], {"route": "general", "title": "一件目", "submit": True})
    second = service.create(org["yamada"], {"route": "general", "title": "二件目", "submit": True})
    login(client, "suzuki")
    token = csrf_from(client.get(f"/approvals/{first.id}").get_data(as_text=True))
    done = client.post(f"/approvals/{first.id}/act", data={"csrf_token": token, "action": "approve"})
    assert done.status_code == 302
    page = client.get("/approvals/").get_data(as_text=True)
    assert "承認しました。" in page and "二件目" in page
    bulk = client.post("/approvals/bulk", data={"csrf_token": token, "ids": [str(first.id), str(second.id)]})
    page = client.get(bulk.headers["Location"]).get_data(as_text=True)
    assert "1件を承認しました。" in page and "既に処理済みです。" in page


def test_absence_form(client: Any, org: dict[str, Any]) -> None:
    """Can an absence be registered and cancelled through the page?"""
    login(client, "sato")
    token = csrf_from(client.get("/approvals/absence").get_data(as_text=True))
    today = calendar.today().isoformat()
    form = {"csrf_token": token, "deputy": "tanaka", "from": today, "until": today}
    assert client.post("/approvals/absence", data=form).status_code == 302
    assert "田中 誠" in client.get("/approvals/absence").get_data(as_text=True)
    bad = client.post("/approvals/absence", data={**form, "deputy": "sato"})
    assert bad.status_code == 422 and "代決者には本人以外" in bad.get_data(as_text=True)


def test_absence_list_in_wareki_and_a_refused_entry_keeps_its_dates(client: Any, org: dict[str, Any]) -> None:
    """Does 登録済み read 令和…年…月…日 (never 2026-12-03), and does a refused form keep what was typed?"""
    import re

    login(client, "sato")
    token = csrf_from(client.get("/approvals/absence").get_data(as_text=True))
    today = calendar.today()
    form = {"csrf_token": token, "deputy": "tanaka", "from": today.isoformat(), "until": today.isoformat()}
    assert client.post("/approvals/absence", data=form).status_code == 302
    html = client.get("/approvals/absence").get_data(as_text=True)
    listed = re.sub(r"<[^>]+>", " ", html[html.index("登録済み") :])
    assert f"{calendar.wareki(today)} 〜 {calendar.wareki(today)}" in listed
    assert today.isoformat() not in listed
    bad = client.post("/approvals/absence", data={**form, "deputy": "sato", "note": "研修のため"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert f'value="{today.isoformat()}"' in page and 'value="研修のため"' in page


def test_history_and_inbox_show_names_and_wareki_times_not_login_ids(app: Any, org: dict[str, Any]) -> None:
    """Does the 処理履歴 say 山田 太郎 and 令和8年12月3日 09:30, never yamada or 2026-12-03 09:30?"""
    import datetime as dt
    import re

    at = dt.datetime(2026, 12, 3, 9, 30, tzinfo=calendar.JST)
    row = service.create(org["yamada"], {"route": "general", "title": "履歴", "submit": True}, at=at)
    client = app.test_client()
    login(client, "suzuki")
    html = client.get(f"/approvals/{row.id}").get_data(as_text=True)
    history = html[html.index("処理履歴") :]
    cells = re.sub(r"<[^>]+>", " ", history)
    assert "令和8年12月3日 09:30" in cells and "山田 太郎" in cells
    assert not re.search(r"\byamada\b", cells) and "2026-12-03 09:30" not in cells
    inbox = re.sub(r"<[^>]+>", " ", client.get("/approvals/").get_data(as_text=True))
    assert "令和8年12月3日 09:30" in inbox and "2026-12-03 09:30" not in inbox


def test_the_deciders_button_says_senketsu_or_kessai_never_shounin(app: Any, org: dict[str, Any]) -> None:
    """Does the 係長 (回議) see 承認, the 課長 by a 専決 rule 専決, and the 村長 deciding 決裁?"""
    import re

    def labels(username: str, request_id: int) -> list[str]:
        client = app.test_client()
        login(client, username)
        html = client.get(f"/approvals/{request_id}").get_data(as_text=True)
        return re.findall(r'name="action" value="approve"[^>]*>([^<]+)<', html)

    small = service.create(
        org["yamada"], {"route": "general", "title": "少額", "amount": 1000, "submit": True}
    )
    assert labels("suzuki", small.id) == ["承認"]
    service.act(org["suzuki"], small.id, "approve")
    assert labels("sato", small.id) == ["専決"]  # 課長専決 up to ¥500,000
    large = service.create(
        org["yamada"], {"route": "general", "title": "高額", "amount": 9000000, "submit": True}
    )
    service.act(org["suzuki"], large.id, "approve")
    assert labels("soncho", large.id) == ["決裁"]  # 村長決裁
