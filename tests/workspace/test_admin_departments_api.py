"""課・係 through /api/v1/admin/departments and the /admin/departments pages (test client): statuses,
fields, refusals next to the field, CSRF, and a 主事's 403."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import api_token, csrf_from, login
from workspace import db, directory
from workspace.models import AuditEntry


def _bearer(client: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def test_list_add_and_patch(client: Any, village: dict[str, Any]) -> None:
    headers = _bearer(client, "admin")
    listed = client.get("/api/v1/admin/departments", headers=headers)
    assert listed.status_code == 200
    codes = [(d["code"], d["kind"], d["parent_code"]) for d in listed.get_json()["departments"]]
    assert codes == [("01", "department", None), ("0101", "section", "01"), ("02", "department", None)]
    made = client.post(
        "/api/v1/admin/departments",
        json={"code": "0201", "name": "財政係", "parent_code": "02", "prefix": "財"},
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["department"] == {
        "code": "0201",
        "name": "財政係",
        "prefix": "財",
        "parent_code": "02",
        "active": True,
        "kind": "section",
    }
    moved = client.patch("/api/v1/admin/departments/0101", json={"parent_code": "02"}, headers=headers)
    assert moved.status_code == 200 and moved.get_json()["department"]["parent_code"] == "02"
    renamed = client.patch(
        "/api/v1/admin/departments/02", json={"name": "企画課", "prefix": "企画"}, headers=headers
    )
    assert renamed.get_json()["department"]["name"] == "企画課"
    assert renamed.get_json()["department"]["prefix"] == "企画"


def test_refusals_are_422_with_field_or_409_with_reasons(client: Any, village: dict[str, Any]) -> None:
    headers = _bearer(client, "admin")
    dup = client.post("/api/v1/admin/departments", json={"code": "01", "name": "x"}, headers=headers)
    assert dup.status_code == 422
    assert dup.get_json()["error"]["field"] == "code" and dup.get_json()["error"]["code"] == "code_taken"
    cycle = client.patch("/api/v1/admin/departments/01", json={"parent_code": "0101"}, headers=headers)
    assert cycle.status_code == 422 and cycle.get_json()["error"]["code"] == "cycle"
    assert cycle.get_json()["error"]["field"] == "parent_code"
    busy = client.patch("/api/v1/admin/departments/0101", json={"active": False}, headers=headers)
    assert busy.status_code == 409
    error = busy.get_json()["error"]
    assert error["code"] == "in_use" and error["reasons"] == ["在籍している職員が2人います"]
    assert "在籍している職員が2人います" in error["message"]
    assert (
        client.patch("/api/v1/admin/departments/zz", json={"name": "x"}, headers=headers).status_code == 404
    )
    bad = client.patch("/api/v1/admin/departments/01", json={"active": "no"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "active"
    assert client.post("/api/v1/admin/departments", data="[]", headers=headers).status_code in (400, 415)


def test_a_clerk_is_refused_everywhere(client: Any, village: dict[str, Any]) -> None:
    headers = _bearer(client, "yamada")
    assert client.get("/api/v1/admin/departments", headers=headers).status_code == 403
    post = client.post("/api/v1/admin/departments", json={"code": "09", "name": "x"}, headers=headers)
    assert post.status_code == 403
    assert (
        client.patch("/api/v1/admin/departments/01", json={"name": "x"}, headers=headers).status_code == 403
    )
    login(client, "yamada")
    for url in (
        "/admin/departments",
        "/admin/departments/01",
        "/admin/departments/transfer?person=sato&unit=02",
    ):
        assert client.get(url).status_code == 403, url
    assert "課・係" not in client.get("/").get_data(as_text=True)
    assert directory.get_department("09") is None


def test_page_add_shows_the_error_next_to_the_field(client: Any, village: dict[str, Any]) -> None:
    login(client, "admin")
    page = client.get("/admin/departments")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "総務係" in html and "略称「総」" in html
    token = csrf_from(html)
    refused = client.post(
        "/admin/departments", data={"csrf_token": token, "code": "03", "name": "総合課", "parent_code": ""}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="add-prefix-error"' in html and "略称「総」は総務課が使っています" in html
    assert 'aria-describedby="add-prefix-help add-prefix-error" aria-invalid="true"' in html
    assert 'value="総合課"' in html  # what was typed is kept
    added = client.post(
        "/admin/departments",
        data={"csrf_token": token, "code": "03", "name": "住民課", "parent_code": "", "prefix": ""},
    )
    assert added.status_code == 302
    assert "住民課を追加しました。" in client.get("/admin/departments").get_data(as_text=True)
    no_csrf = client.post("/admin/departments", data={"code": "04", "name": "税務課"})
    assert no_csrf.status_code in (400, 422) and directory.get_department("04") is None


def test_page_deactivation_shows_the_reason(client: Any, village: dict[str, Any]) -> None:
    login(client, "admin")
    html = client.get("/admin/departments/0101").get_data(as_text=True)
    assert "今は廃止できません：在籍している職員が2人います。" in html
    refused = client.post("/admin/departments/0101", data={"csrf_token": csrf_from(html), "active": "0"})
    assert refused.status_code == 409
    assert "総務係は廃止できません。在籍している職員が2人います。" in refused.get_data(as_text=True)
    assert directory.get_department("0101").active


def test_page_transfer_preview_then_apply(client: Any, village: dict[str, Any]) -> None:
    login(client, "admin")
    preview = client.get("/admin/departments/transfer", query_string={"person": "yamada", "unit": "02"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert (
        "山田 太郎" in html
        and "総務課 › 総務係" in html
        and "参加するチャンネル" in html
        and "#企画財政課" in html
    )
    with db.read_session() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "department.transfer")) is None
    applied = client.post(
        "/admin/departments/transfer", data={"csrf_token": csrf_from(html), "person": "yamada", "unit": "02"}
    )
    assert applied.status_code == 302
    assert "山田 太郎さんを企画財政課へ異動しました。" in client.get("/admin/departments").get_data(
        as_text=True
    )
    db.session().expire_all()
    assert directory.get_user("yamada").department.code == "02"
    refused = client.get("/admin/departments/transfer", query_string={"person": "", "unit": "02"})
    assert refused.status_code == 422 and "異動する職員を候補から選んでください。" in refused.get_data(
        as_text=True
    )


def test_transfer_api_previews_then_applies(client: Any, village: dict[str, Any]) -> None:
    headers = _bearer(client, "admin")
    body = {"username": "yamada", "unit": "02"}
    preview = client.post("/api/v1/admin/transfers", json=body, headers=headers)
    assert preview.status_code == 200 and preview.get_json()["applied"] is False
    found = preview.get_json()["preview"]
    assert found["from"] == "総務課 › 総務係" and found["to"] == "企画財政課" and found["applicable"]
    assert directory.get_user("yamada").department.code == "01"
    applied = client.post("/api/v1/admin/transfers", json={**body, "apply": True}, headers=headers)
    assert applied.status_code == 200 and applied.get_json()["applied"] is True
    db.session().expire_all()
    assert directory.get_user("yamada").department.code == "02"
    again = client.post("/api/v1/admin/transfers", json={**body, "apply": True}, headers=headers)
    assert again.status_code == 422 and again.get_json()["error"]["field"] == "unit"
    nobody = client.post("/api/v1/admin/transfers", json={"username": "x", "unit": "02"}, headers=headers)
    assert nobody.status_code == 422 and nobody.get_json()["error"]["field"] == "person"
    clerk = client.post("/api/v1/admin/transfers", json=body, headers=_bearer(client, "tanaka"))
    assert clerk.status_code == 403


def test_ldap_backend_pages_offer_only_the_prefix_and_the_preview(
    app: Any, client: Any, village: Any
) -> None:
    login(client, "admin")
    app.config["DIRECTORY"] = "ldap"  # after the local sign-in: the pages read it per request
    html = client.get("/admin/departments").get_data(as_text=True)
    assert "ここで変えられるのは略称だけです。" in html and "課・係を追加" not in html
    edit = client.get("/admin/departments/0101").get_data(as_text=True)
    assert 'name="prefix"' in edit and 'name="name"' not in edit and "廃止" not in edit
    saved = client.post("/admin/departments/0101", data={"csrf_token": csrf_from(edit), "prefix": "総係"})
    assert saved.status_code == 302 and directory.get_department("0101").prefix == "総係"
    preview = client.get("/admin/departments/transfer", query_string={"person": "yamada", "unit": "02"})
    text = preview.get_data(as_text=True)
    assert "ディレクトリで異動を登録すると、次の同期で上のとおりに反映されます。" in text
    assert "適用" not in text
    refused = client.post(
        "/admin/departments/transfer", data={"csrf_token": csrf_from(text), "person": "yamada", "unit": "02"}
    )
    assert refused.status_code == 409 and directory.get_user("yamada").department.code == "01"
