"""今日の仕事: the home page and GET /api/v1/home, filled from every domain, trimmed to the person."""

from __future__ import annotations

import io
import re
from typing import Any

from approvals import absence, service
from chat import channels, messages
from docsearch import registry
from tests.approvals import test_service_support as support
from tests.conftest import login
from workspace import calendar, db, home
from workspace.models import Department

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


def _document(actor: Any, title: str, visibility: str = "department", retention: str = "5") -> Any:
    data = {
        "title": title,
        "department_code": "01",
        "fiscal_year": str(calendar.fiscal_year(calendar.today()) - 1),
        "visibility": visibility,
        "retention_years": retention,
    }
    return registry.register(actor, data, io.BytesIO("本文です。".encode()), "memo.txt")


def test_home_api_gathers_the_days_work_for_each_person(org: dict[str, Any], client: Any) -> None:
    """Does each person get their own waiting 決裁, 差戻し and reason, unread chat, 不在 colleagues?"""
    waiting = service.create(org["yamada"], {"route": "general", "title": "備品購入", "submit": True})
    back = service.create(org["yamada"], {"route": "general", "title": "研修参加", "submit": True})
    service.act(org["suzuki"], back.id, "send_back", comment="日程を確認してください")
    today = calendar.today().isoformat()
    absence.register(org["sato"], {"deputy": "suzuki", "from": today, "until": today})
    soumu = db.session().query(Department).filter_by(code="01").one()
    channel = channels.department_channel(soumu)
    messages.post(org["suzuki"], channel.id, "@yamada 午後の会議室を予約しました")
    messages.post(org["suzuki"], channel.id, "お疲れさまです")
    _document(org["suzuki"], "公民館利用規程")
    db.session().commit()

    login(client, "yamada")
    mine = client.get("/api/v1/home").get_json()
    assert set(home.FIELDS) <= set(mine)
    assert mine["sent_back"] == [{"id": back.id, "title": "研修参加", "reason": "日程を確認してください"}]
    assert [r["id"] for r in mine["in_progress"]] == [waiting.id]
    assert mine["approvals_pending"] == []
    assert mine["mentions_unread"] == 1
    assert [(c["id"], c["unread"]) for c in mine["channels_unread"]] == [(channel.id, 2)]
    assert [d["title"] for d in mine["recent_documents"]] == ["公民館利用規程"]
    assert mine["expiring_documents"] == 0  # not records staff
    assert mine["absent_today"] == [{"username": "sato", "display_name": "佐藤 一郎"}]

    other = client.application.test_client()
    login(other, "suzuki")
    his = other.get("/api/v1/home").get_json()
    (item,) = his["approvals_pending"]
    assert item == {
        "id": waiting.id,
        "title": "備品購入",
        "kind": "一般文書",
        "drafter": "山田 太郎",
        "waiting_days": 0,
    }
    assert his["sent_back"] == [] and his["mentions_unread"] == 0


def test_records_staff_see_what_expires_this_year_and_others_see_no_secret(
    org: dict[str, Any], client: Any
) -> None:
    """Do records staff get the count of documents ending this 年度, and is a 秘 document never listed?"""
    from tests.conftest import PASSWORD
    from workspace import directory

    directory.add_local_user("kiroku", "記録 文子", PASSWORD, department_code="02", roles=("records",))
    _document(org["suzuki"], "古い台帳", retention="1")
    _document(org["suzuki"], "人事評価（秘）", visibility="secret")
    db.session().commit()
    login(client, "yamada")
    mine = client.get("/api/v1/home").get_json()
    assert [d["title"] for d in mine["recent_documents"]] == ["古い台帳"]
    records = client.application.test_client()
    login(records, "kiroku")
    theirs = records.get("/api/v1/home").get_json()
    assert theirs["expiring_documents"] == 1  # 古い台帳 (1年) ends this 年度; the 5年 one does not


def test_home_page_lists_the_work_with_links_and_an_empty_state(org: dict[str, Any], client: Any) -> None:
    """Does the page show 決裁待ち with 種別・起案者・経過, and a friendly empty state for a new person?"""
    row = service.create(org["yamada"], {"route": "general", "title": "備品購入", "submit": True})
    db.session().commit()
    login(client, "suzuki")
    html = client.get("/").get_data(as_text=True)
    assert "今日の仕事" in html and "決裁待ち" in html
    assert f'href="/approvals/{row.id}"' in html
    assert re.search(r"一般文書・山田 太郎・本日", html)
    newcomer = client.application.test_client()
    login(newcomer, "tanaka")
    html = newcomer.get("/").get_data(as_text=True)
    assert 'id="today-empty"' in html and "今日の仕事はありません" in html


def test_home_api_needs_a_signed_in_person(client: Any) -> None:
    assert client.get("/api/v1/home").status_code == 401
