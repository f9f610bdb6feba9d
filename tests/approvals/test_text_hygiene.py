"""The text rule (workspace/text.py) on 決裁: titles, bodies, 文書分類, comments, 不在 notes and route
template names through the real API and forms; names stored before the rule on the page and the
起案用紙."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from approvals import record, service
from approvals.models import Absence, ApprovalRequest, RouteTemplateVersion
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import GENERAL, bearer
from tests.conftest import api_token, csrf_from, login
from workspace import calendar, db
from workspace.models import User

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

RLO = "\u202e"
REFUSED = "使えない文字（制御文字・文字の向きを変える文字）"


@pytest.fixture
def yamada(client: Any, org: dict[str, Any]) -> dict[str, str]:
    return bearer(api_token(client, "yamada"))


def _requests() -> int:
    return db.session().execute(select(func.count(ApprovalRequest.id))).scalar()


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("title", "公用車" + RLO + "の購入", "件名"),
        ("title", "公用車\x00の購入", "件名"),
        ("title", "公用車\x1bの購入", "件名"),
        ("title", "公用車\nの購入", "件名"),
        ("body", "本文\x00です", "本文"),
        ("body", "本文" + RLO + "です", "本文"),
        ("body", "本文\u2069です", "本文"),
        ("classification", "総務" + RLO, "文書分類"),
    ],
    ids=["title-rlo", "title-nul", "title-esc", "title-newline", "body-nul", "body-rlo", "body-pdi", "class"],
)
def test_a_hostile_draft_is_refused_with_422_and_nothing_stored(
    client: Any, yamada: dict[str, str], field: str, value: str, label: str
) -> None:
    body = {"route": "general", "title": "公用車の購入", "body": "本文", "submit": True, field: value}
    response = client.post("/api/v1/approvals", json=body, headers=yamada)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["message"] == f"{label}に{REFUSED}が含まれています。"
    assert _requests() == 0


def test_the_draft_form_refuses_a_nul_title_with_a_japanese_form_error(client: Any, org: Any) -> None:
    login(client, "yamada")
    token = csrf_from(client.get("/approvals/new").get_data(as_text=True))
    form = {"csrf_token": token, "route": "general", "title": "件名\x00", "body": "本文", "submit": "1"}
    response = client.post("/approvals/new", data=form)
    assert response.status_code == 422 and "件名に" + REFUSED in response.get_data(as_text=True)
    assert _requests() == 0


def test_a_textarea_body_is_stored_in_nfc_with_lf(client: Any, yamada: dict[str, str]) -> None:
    body = {"route": "general", "title": "か\u3099っこう", "body": "一行目\r\n二行目", "submit": False}
    response = client.post("/api/v1/approvals", json=body, headers=yamada)
    assert response.status_code == 201, response.get_json()
    row = db.session().execute(select(ApprovalRequest)).scalar_one()
    assert (row.title, row.body) == ("がっこう", "一行目\n二行目")


def test_editing_cannot_bring_a_nul_in(client: Any, org: Any, yamada: dict[str, str]) -> None:
    row = service.create(org["yamada"], {"route": "general", "title": "下書き"})
    response = client.patch(f"/api/v1/approvals/{row.id}", json={"body": "a\x00"}, headers=yamada)
    assert response.status_code == 422
    db.session().expire_all()
    assert db.session().get(ApprovalRequest, row.id).body == ""


def test_a_send_back_reason_with_a_bidi_override_is_refused(client: Any, org: Any) -> None:
    row = service.create(org["yamada"], {"route": "general", "title": "件名", "submit": True})
    suzuki = bearer(api_token(client, "suzuki"))
    response = client.post(
        f"/api/v1/approvals/{row.id}/actions",
        json={"action": "send_back", "comment": "理由" + RLO},
        headers=suzuki,
    )
    assert response.status_code == 422 and REFUSED in response.get_json()["error"]["message"]
    db.session().expire_all()
    assert db.session().get(ApprovalRequest, row.id).status == "in_progress"


@pytest.mark.parametrize("note", ["研修\x00", "研修" + RLO, "研修\u2066"])
def test_an_absence_note_is_refused_over_the_api_and_the_form(client: Any, org: Any, note: str) -> None:
    today = calendar.today().isoformat()
    sato = bearer(api_token(client, "sato"))
    data = {"deputy": "tanaka", "from": today, "until": today, "note": note}
    response = client.post("/api/v1/approvals/absences", json=data, headers=sato)
    assert response.status_code == 422 and "備考に" + REFUSED in response.get_json()["error"]["message"]
    login(client, "sato")
    token = csrf_from(client.get("/approvals/absence").get_data(as_text=True))
    page = client.post("/approvals/absence", data={**data, "csrf_token": token})
    assert page.status_code == 422 and "備考に" + REFUSED in page.get_data(as_text=True)
    assert db.session().execute(select(func.count(Absence.id))).scalar() == 0


@pytest.mark.parametrize(
    "template",
    [
        {**GENERAL, "name": "一般" + RLO + "文書"},
        {**GENERAL, "name": "一般\x00文書"},
        {**GENERAL, "steps": [{"kind": "decide", "authority": [{"approver": {"title": "村長\x00"}}]}]},
    ],
    ids=["name-rlo", "name-nul", "selector-title-nul"],
)
def test_a_route_template_with_a_hostile_name_is_refused(client: Any, org: Any, template: dict) -> None:
    before = db.session().execute(select(func.count(RouteTemplateVersion.id))).scalar()
    admin = bearer(api_token(client, "admin"))
    response = client.post("/api/v1/approval-routes", json=template, headers=admin)
    assert response.status_code == 422, response.get_json()
    assert REFUSED in response.get_json()["error"]["message"]
    assert db.session().execute(select(func.count(RouteTemplateVersion.id))).scalar() == before


def test_a_name_stored_before_the_rule_is_neutral_on_the_page_and_the_record(client: Any, org: Any) -> None:
    """氏名 written with U+202E before the rule: the request page and the 起案用紙 show U+FFFD instead."""
    db.session().execute(
        update(User).where(User.username == "yamada").values(display_name="山田" + RLO + "郎太")
    )
    db.session().commit()
    row = service.create(org["yamada"], {"route": "general", "title": "件名", "submit": True})
    login(client, "suzuki")
    html = client.get(f"/approvals/{row.id}").get_data(as_text=True)
    assert RLO not in html and "山田\ufffd郎太" in html
    sheet = record._sheet(db.session().get(ApprovalRequest, row.id), draft=True)
    assert sheet.drafter_name == "山田\ufffd郎太"
    assert RLO not in repr(sheet)
