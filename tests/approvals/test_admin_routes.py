"""管理 › 決裁ルート: the rules of the editor and the import (route_editor), the pages and the API.

Every refusal is a 422 with the Japanese message next to its field and no new version; every save is
a new version audited with before and after; a request already submitted keeps its version.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from approvals import route_editor, route_store, service
from approvals.models import RouteTemplateVersion
from approvals.route_editor import RouteProblems
from tests.approvals import test_service_support as support
from tests.conftest import api_token, csrf_from, login
from workspace import db
from workspace.models import AuditEntry

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


def _versions(key: str = "general") -> int:
    return db.session().scalar(
        select(func.count()).select_from(RouteTemplateVersion).where(RouteTemplateVersion.key == key)
    )


def _words(html: str) -> str:
    """The page's text without its tags (a legend holds its 種類 in a span the script updates)."""
    return re.sub(r"<[^>]+>", "", html)


def _editor_form(client: Any, key: str = "general") -> dict[str, str]:
    """The editor's form as the page draws it (every input with its value), ready to post back."""
    html = client.get(f"/admin/routes/{key}/edit").get_data(as_text=True)
    form: dict[str, str] = {"csrf_token": csrf_from(html)}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) in ("csrf_token",) or 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        form[name.group(1)] = value.group(1) if value else ""
    for select_tag in re.findall(r"<select[^>]*name=\"([^\"]+)\"[^>]*>(.*?)</select>", html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select_tag[1])
        first = re.search(r'<option value="([^"]*)"', select_tag[1])
        form[select_tag[0]] = chosen.group(1) if chosen else (first.group(1) if first else "")
    form.pop("op", None)
    return form


# -- the rules (service) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("name", "name"),
        ("$", "definition"),
        ("steps", "steps"),
        ("steps[1]", "steps-1"),
        ("steps[0].kind", "steps-0-kind"),
        ("steps[0].approver.title", "steps-0-rules-0-title"),
        ("steps[2].approvers[1].department", "steps-2-rules-1-department"),
        ("steps[2].approvers", "steps-2-rules"),
        ("steps[3].authority[1].max_amount", "steps-3-rules-1-max_amount"),
        ("steps[3].authority[2]", "steps-3-rules-2-max_amount"),
        ("steps[3].authority[0].approver.relation", "steps-3-rules-0-relation"),
        ("steps[3].authority[0].approver", "steps-3-rules-0-type"),
    ],
)
def test_a_json_path_names_the_editor_field(path: str, field: str) -> None:
    assert route_editor.field_for_path(path) == field


def test_the_form_state_of_a_template_gives_back_the_same_definition(org: dict[str, Any]) -> None:
    """Editor round trip: template → form state → definition is the stored definition."""
    for key in ("general", "consult"):
        row = route_store.latest(key)
        state = route_editor.state_of_template(route_store.parsed(row))
        assert route_editor.definition_from_form(state) == row.definition


def test_a_sentei_amount_that_is_not_a_number_is_refused_next_to_its_field(org: dict[str, Any]) -> None:
    state = route_editor.state_of_template(route_store.parsed(route_store.latest("general")))
    state["steps"][1]["rules"][0]["max_amount"] = "五十万"
    with pytest.raises(RouteProblems) as caught:
        route_editor.definition_from_form(state)
    assert caught.value.problems == [
        {
            "field": "steps-1-rules-0-max_amount",
            "message": "専決の上限額は0以上の整数（円、半角数字）で入力してください。",
        }
    ]
    state["steps"][1]["rules"][0]["max_amount"] = "500,000円"  # commas and 円 are what people type
    assert route_editor.definition_from_form(state)["steps"][1]["authority"][0]["max_amount"] == 500000


def test_an_empty_step_is_refused(org: dict[str, Any]) -> None:
    state = route_editor.state_of_template(route_store.parsed(route_store.latest("general")))
    state["steps"].insert(1, route_editor.blank_step("consult"))  # one row, 役職 left empty
    with pytest.raises(RouteProblems) as caught:
        route_editor.definition_from_form(state)
    assert caught.value.problems[0] == {
        "field": "steps-1-rules-0-title",
        "message": "役職を入力してください。",
    }
    state["steps"][1]["rules"] = []
    with pytest.raises(RouteProblems) as caught:
        route_editor.definition_from_form(state)
    assert caught.value.problems == [
        {"field": "steps-1-rules", "message": "このステップの承認者を1人以上指定してください。"}
    ]


def test_an_unknown_title_department_or_person_is_refused_and_nothing_is_saved(org: dict[str, Any]) -> None:
    data = copy.deepcopy(support.GENERAL)
    data["steps"].insert(1, {"kind": "consult", "approvers": [{"title": "会計管理者"}, {"user": "nobody"}]})
    data["steps"].insert(2, {"kind": "circulate", "approvers": [{"department": "99", "title": "課長"}]})
    with pytest.raises(RouteProblems) as caught:
        route_editor.save(data, org["admin"])
    assert caught.value.problems == [
        {"field": "steps-1-rules-0-title", "message": "役職「会計管理者」の職員が登録されていません。"},
        {
            "field": "steps-1-rules-1-user",
            "message": "職員「nobody」は登録されていないか、無効になっています。",
        },
        {"field": "steps-2-rules-0-department", "message": "課コード「99」の課は登録されていません。"},
    ]
    assert caught.value.status == 422
    assert _versions() == 1


def test_a_save_is_a_new_version_audited_with_before_and_after(org: dict[str, Any]) -> None:
    before = route_store.latest("general").definition
    data = copy.deepcopy(before)
    data["name"] = "一般文書（改）"
    row = route_editor.save(data, org["admin"], key="general")
    assert row.version == 2 and _versions() == 2
    entry = (
        db.session()
        .scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "approval.route.save")
            .order_by(AuditEntry.id.desc())
        )
        .first()
    )
    assert entry.actor == "admin" and entry.target == "route:general"
    assert entry.detail["version"] == 2
    assert entry.detail["before"] == before and entry.detail["after"]["name"] == "一般文書（改）"
    with pytest.raises(RouteProblems) as caught:  # the page of a route cannot turn it into another key
        route_editor.save({**data, "key": "other"}, org["admin"], key="general")
    assert caught.value.problems[0]["field"] == "key"


def test_a_request_already_submitted_keeps_its_version(org: dict[str, Any]) -> None:
    """v2 moves every 決裁 to 副村長: the submitted request keeps 課長専決 of v1, a new one gets v2."""
    sent = service.create(org["yamada"], {"route": "general", "title": "提出済み", "submit": True})
    data = copy.deepcopy(route_store.latest("general").definition)
    data["steps"][1]["authority"] = [{"approver": {"title": "副村長"}}]
    route_editor.save(data, org["admin"], key="general")
    db.session().commit()
    db.session().expire_all()
    kept = service.state_of(db.session().get(type(sent), sent.id))
    assert db.session().get(type(sent), sent.id).template.version == 1
    assert [s.person.username for s in kept.steps[-1].slots] == ["sato"]
    after = service.create(org["yamada"], {"route": "general", "title": "新しい版", "submit": True})
    assert after.template.version == 2
    assert [s.person.username for s in service.state_of(after).steps[-1].slots] == ["fuku"]


def test_history_says_who_when_and_what_changed(org: dict[str, Any]) -> None:
    data = copy.deepcopy(route_store.latest("general").definition)
    data["steps"].insert(1, {"kind": "circulate", "approvers": [{"user": "tanaka"}]})
    data["steps"][-1]["authority"][0]["max_amount"] = 300000
    route_editor.save(data, org["sato"], key="general")
    newest, first = route_editor.history("general")
    assert newest["version"] == 2 and newest["created_by"] == "佐藤 一郎"
    assert newest["changes"] == [
        "2番目に追加：供覧：田中 誠",
        "3番目を変更：決裁：起案者の課長（30万円以下・課長専決）／副村長（500万円以下・副村長決裁）"
        "／村長（上限なし・村長決裁）",
    ]
    assert first["changes"] == ["新規作成"] and first["created_by"] == "管理 太郎"


def test_import_reports_the_line_of_bad_json_and_saves_nothing(org: dict[str, Any]) -> None:
    text = '{\n  "key": "general",\n  "name": "一般文書"\n  "steps": []\n}'
    with pytest.raises(RouteProblems) as caught:
        route_editor.import_json(text, org["admin"])
    problem = caught.value.problems[0]
    assert problem["field"] == "definition" and problem["line"] == "4"
    assert problem["message"] == "JSONの4行目3文字目が正しくありません（「,」がありません）。"
    assert _versions() == 1


def test_export_then_import_is_a_new_version_with_nothing_changed(org: dict[str, Any]) -> None:
    text = route_editor.export_text(route_store.latest("consult"))
    row = route_editor.import_json(text, org["admin"])
    assert row.version == 2 and row.definition == json.loads(text)
    assert route_editor.history("consult")[0]["changes"] == ["変更なし（同じ内容で保存）"]


def test_trial_resolves_for_the_chosen_drafter_and_amount(org: dict[str, Any]) -> None:
    small = route_editor.trial("general", "yamada", 100000)
    assert [[a.person.display_name for a in s.approvers] for s in small.steps] == [
        ["鈴木 花子"],
        ["佐藤 一郎"],
    ]
    assert small.steps[-1].label == "課長専決"
    large = route_editor.trial("general", "yamada", 1000000)
    assert large.steps[-1].approvers[0].person.username == "fuku"
    with pytest.raises(route_editor.Invalid) as caught:
        route_editor.trial("general", "ghost", 0)
    assert caught.value.extra["field"] == "drafter"


# -- pages ---------------------------------------------------------------------------------------------


def test_a_shuji_gets_no_link_and_403_everywhere(client: Any, org: dict[str, Any]) -> None:
    login(client, "yamada")
    assert "決裁ルート" not in client.get("/approvals/").get_data(as_text=True).split("<main")[0]
    for url in (
        "/admin/routes",
        "/admin/routes/new",
        "/admin/routes/general",
        "/admin/routes/general/edit",
        "/admin/routes/general/export",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_from(client.get("/approvals/").get_data(as_text=True))
    assert client.post("/admin/routes/check", data={"csrf_token": token}).status_code == 403
    assert (
        client.post("/admin/routes/import", data={"csrf_token": token, "definition": "{}"}).status_code == 403
    )


def test_the_landing_page_links_to_the_section(client: Any, org: dict[str, Any]) -> None:
    login(client, "admin")
    html = client.get("/admin").get_data(as_text=True)
    assert '<a href="/admin/routes">決裁ルート</a>' in html


def test_the_list_shows_versions_in_wareki_with_names(client: Any, org: dict[str, Any]) -> None:
    login(client, "admin")
    html = client.get("/admin/routes").get_data(as_text=True)
    assert "一般文書" in html and "第1版" in html and "管理 太郎" in html and "令和" in html
    assert "新規作成" in html


def test_the_editor_saves_a_new_version_and_refuses_an_unknown_title_next_to_the_field(
    client: Any, org: dict[str, Any]
) -> None:
    login(client, "admin")
    form = _editor_form(client)
    assert form["steps-1-rules-1-title"] == "副村長"
    bad = client.post(
        "/admin/routes/general/edit", data={**form, "op": "save", "steps-1-rules-1-title": "副社長"}
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and _versions() == 1
    assert re.search(r'id="steps-1-rules-1-title"[^>]*aria-invalid="true"', html)
    assert (
        '<p id="steps-1-rules-1-title-error" class="field-error" data-error-for="steps-1-rules-1-title">'
        "役職「副社長」の職員が登録されていません。</p>" in html
    )
    amount = client.post(
        "/admin/routes/general/edit", data={**form, "op": "save", "steps-1-rules-0-max_amount": "abc"}
    )
    assert amount.status_code == 422 and "専決の上限額は0以上の整数" in amount.get_data(as_text=True)
    good = client.post("/admin/routes/general/edit", data={**form, "op": "save", "name": "一般文書２"})
    assert good.status_code == 302 and _versions() == 2
    assert "第2版として保存しました" in client.get(good.headers["Location"]).get_data(as_text=True)


def test_the_editor_buttons_change_the_form_and_save_nothing(client: Any, org: dict[str, Any]) -> None:
    login(client, "admin")
    form = _editor_form(client)

    def pressed(op: str) -> str:
        response = client.post("/admin/routes/general/edit", data={**form, "op": op})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    added = _words(pressed("addstep"))
    assert "3番目のステップ：決裁" in added and "2番目のステップ：回議" in added
    assert "1番目のステップ：決裁" in _words(pressed("down-0"))
    removed = _words(pressed("removestep-0"))
    assert "1番目のステップ：決裁" in removed and "2番目のステップ" not in removed
    assert 'id="steps-1-rules-3-type"' in pressed("addrule-1")
    assert _versions() == 1


def test_the_live_check_answers_problems_or_the_diagram(client: Any, org: dict[str, Any]) -> None:
    login(client, "admin")
    form = _editor_form(client)
    ok = client.post("/admin/routes/check", data=form).get_json()
    assert ok["ok"] is True and "route-diagram" in ok["diagram"] and "起案者の係長" in ok["diagram"]
    bad = client.post(
        "/admin/routes/check", data={**form, "steps-1-rules-2-max_amount": "9000000"}
    ).get_json()
    assert bad["ok"] is False
    assert bad["problems"] == [
        {
            "field": "steps-1-rules-2-max_amount",
            "message": "最後の決裁区分は上限なし（max_amount を省略）にしてください。",
        }
    ]


def test_the_new_route_page_creates_version_one(client: Any, org: dict[str, Any]) -> None:
    login(client, "admin")
    html = client.get("/admin/routes/new").get_data(as_text=True)
    token = csrf_from(html)
    form = {
        "csrf_token": token,
        "key": "travel",
        "name": "旅費",
        "number_format": "{dept_prefix}第{n}号",
        "number_at": "decision",
        "steps-0-kind": "decide",
        "steps-0-rules-0-type": "relation",
        "steps-0-rules-0-relation": "department_head",
        "op": "save",
    }
    response = client.post("/admin/routes/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert route_store.latest("travel").definition["steps"] == [
        {"kind": "decide", "authority": [{"approver": {"relation": "department_head"}}]}
    ]


def test_import_page_shows_the_json_line_next_to_the_box(client: Any, org: dict[str, Any]) -> None:
    login(client, "admin")
    token = csrf_from(client.get("/admin/routes").get_data(as_text=True))
    bad = client.post("/admin/routes/import", data={"csrf_token": token, "definition": '{"key": "x",\n}'})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "JSONの2行目" in html
    assert re.search(r'id="definition"[^>]*aria-invalid="true"', html)
    unknown = copy.deepcopy(support.GENERAL)
    unknown["steps"][0]["approver"] = {"title": "番頭"}
    refused = client.post(
        "/admin/routes/import", data={"csrf_token": token, "definition": json.dumps(unknown)}
    )
    assert refused.status_code == 422 and _versions() == 1
    assert "役職「番頭」の職員が登録されていません。（1番目のステップ・1行目・役職）" in refused.get_data(
        as_text=True
    )
    route = copy.deepcopy(support.GENERAL) | {"key": "imported", "name": "取込文書"}
    good = client.post("/admin/routes/import", data={"csrf_token": token, "definition": json.dumps(route)})
    assert good.status_code == 302 and route_store.latest("imported").version == 1


def test_the_trial_panel_shows_names_and_titles(client: Any, org: dict[str, Any]) -> None:
    login(client, "admin")
    token = csrf_from(client.get("/admin/routes/general").get_data(as_text=True))
    html = client.post(
        "/admin/routes/general", data={"csrf_token": token, "drafter": "yamada", "amount": "1,000,000"}
    ).get_data(as_text=True)
    assert "山田 太郎さん" in html and "1,000,000円で起案した場合" in html
    assert "鈴木 花子" in html and "副島 次郎" in html and "副村長" in html
    bad = client.post("/admin/routes/general", data={"csrf_token": token, "drafter": "yamada", "amount": "x"})
    assert bad.status_code == 422 and "金額は0以上の整数" in bad.get_data(as_text=True)


def test_an_old_version_and_its_export(client: Any, org: dict[str, Any]) -> None:
    data = copy.deepcopy(route_store.latest("general").definition) | {"name": "改名"}
    route_editor.save(data, org["admin"], key="general")
    db.session().commit()
    login(client, "admin")
    html = client.get("/admin/routes/general?version=1").get_data(as_text=True)
    assert "過去の版（第1版）" in html
    exported = client.get("/admin/routes/general/export?version=1")
    assert "route-general-v1.json" in exported.headers["Content-Disposition"]
    assert json.loads(exported.get_data(as_text=True))["name"] == "一般文書"
    assert client.get("/admin/routes/general?version=9").status_code == 404


# -- API -----------------------------------------------------------------------------------------------


def test_api_trial(client: Any, org: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {api_token(client, 'admin')}"}
    response = client.post(
        "/api/v1/approval-routes/general/trial", json={"drafter": "yamada", "amount": 600000}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["route"] == {"key": "general", "version": 1, "name": "一般文書"}
    assert body["drafter"]["display_name"] == "山田 太郎" and body["amount"] == 600000
    assert [
        (s["kind"], [(a["display_name"], a["title"]) for a in s["approvers"]]) for s in body["steps"]
    ] == [
        ("review", [("鈴木 花子", "係長")]),
        ("decide", [("副島 次郎", "副村長")]),
    ]
    assert (
        client.post(
            "/api/v1/approval-routes/nope/trial", json={"drafter": "yamada"}, headers=headers
        ).status_code
        == 404
    )
    unknown = client.post("/api/v1/approval-routes/general/trial", json={"drafter": "ghost"}, headers=headers)
    assert unknown.status_code == 422 and unknown.get_json()["error"]["field"] == "drafter"
    amount = client.post(
        "/api/v1/approval-routes/general/trial", json={"drafter": "yamada", "amount": "多い"}, headers=headers
    )
    assert amount.status_code == 422 and amount.get_json()["error"]["field"] == "amount"
    shuji = {"Authorization": f"Bearer {api_token(client, 'yamada')}"}
    assert (
        client.post(
            "/api/v1/approval-routes/general/trial", json={"drafter": "yamada"}, headers=shuji
        ).status_code
        == 403
    )


def test_api_trial_reports_an_unresolvable_route(client: Any, org: dict[str, Any]) -> None:
    """tanaka's 企画財政課 has a 課長 but no 係長: the route error is reported, not raised."""
    headers = {"Authorization": f"Bearer {api_token(client, 'admin')}"}
    body = client.post("/api/v1/approval-routes/general/trial", json={"drafter": "tanaka"}, headers=headers)
    assert body.status_code == 200
    assert body.get_json()["route_error"]["step_index"] == 0


def test_api_versions_and_check(client: Any, org: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {api_token(client, 'admin')}"}
    versions = client.get("/api/v1/approval-routes/general/versions", headers=headers).get_json()["versions"]
    assert versions[0]["version"] == 1 and versions[0]["created_by"] == "管理 太郎"
    bad = copy.deepcopy(support.GENERAL)
    bad["steps"][0]["approver"] = {"title": "番頭"}
    refused = client.post("/api/v1/admin/approval-routes/check", json=bad, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["problems"] == [
        {"field": "steps-0-rules-0-title", "message": "役職「番頭」の職員が登録されていません。"}
    ]
    ok = client.post("/api/v1/admin/approval-routes/check", json=support.GENERAL, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["steps"][0] == "回議：起案者の係長"
    assert _versions() == 1
