"""管理 › 文書分類 over HTTP: the API (import with dry_run, export, the list), the pages (forms with
CSRF, errors next to the field with 422, preview then 適用), and the refusals (主事: 403, no link)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from docsearch import classifications
from docsearch.models import Classification
from tests.conftest import PASSWORD, api_token, csrf_from, login
from tests.docsearch.test_admin_classifications import TABLE
from workspace import db, directory
from workspace.models import AuditEntry


@pytest.fixture
def clerk(village: dict[str, Any]) -> Any:
    user = directory.add_local_user(
        "kiroku", "記録 文子", PASSWORD, department_code="01", section_code="0101", roles=("records",)
    )
    db.session().commit()
    classifications.apply(user, TABLE.encode())
    return user


def _bearer(client: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _table() -> dict[str, int | None]:
    db.session().commit()
    return {c.code: c.default_retention_years for c in db.session().execute(select(Classification)).scalars()}


def _upload(client: Any, headers: dict[str, str], text: str | bytes, **fields: str) -> Any:
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/api/v1/admin/classifications/import",
        headers=headers,
        data={"file": (io.BytesIO(data), "bunrui.csv"), **fields},
        content_type="multipart/form-data",
    )


def test_import_dry_run_then_apply(client: Any, clerk: Any) -> None:
    headers = _bearer(client, "kiroku")
    new = TABLE.replace("文書管理,10", "文書管理,5") + "010103,総務,文書・法規,公印,10\n"
    dry = _upload(client, headers, new, dry_run="1")
    assert dry.status_code == 200, dry.get_json()
    body = dry.get_json()
    assert (body["added"], body["changed"], body["removed"]) == (1, 1, 0)
    assert body["rows"]["added"][0]["code"] == "010103" and body["applied"] is False
    assert body["rows"]["changed"][0]["before"]["retention_years"] == 10
    assert _table()["010102"] == 10 and "010103" not in _table()
    done = _upload(client, headers, new.encode("cp932"), digest=body["digest"])
    assert done.status_code == 200 and done.get_json()["applied"] is True
    assert _table()["010102"] == 5 and _table()["010103"] == 10


def test_a_bad_line_is_422_with_the_line_and_nothing_changes(client: Any, clerk: Any) -> None:
    headers = _bearer(client, "kiroku")
    before = _table()
    for dry_run in ("1", "0"):
        bad = _upload(client, headers, TABLE + "010401,総務,財産,公用車,永年\n", dry_run=dry_run)
        assert bad.status_code == 422
        error = bad.get_json()["error"]
        assert error["code"] == "invalid_csv" and error["line"] == 8 and error["message"].startswith("8行目:")
    assert _upload(client, headers, TABLE, dry_run="maybe").status_code == 400
    assert client.post("/api/v1/admin/classifications/import", headers=headers).status_code == 400
    assert _table() == before


def test_export_utf8_and_shift_jis(client: Any, clerk: Any) -> None:
    headers = _bearer(client, "kiroku")
    utf8 = client.get("/api/v1/admin/classifications/export", headers=headers)
    assert utf8.status_code == 200 and utf8.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert utf8.data.startswith(b"\xef\xbb\xbf") and "bunrui-utf8.csv" in utf8.headers["Content-Disposition"]
    sjis = client.get("/api/v1/admin/classifications/export?encoding=shift_jis", headers=headers)
    assert sjis.status_code == 200 and sjis.data.decode("cp932") == utf8.data.decode("utf-8-sig")
    assert (
        client.get("/api/v1/admin/classifications/export?encoding=latin1", headers=headers).status_code == 422
    )


def test_the_list_shows_state_and_use(client: Any, clerk: Any) -> None:
    headers = _bearer(client, "admin")
    classifications.retire(clerk, "010201")  # unused: deleted
    body = client.get("/api/v1/admin/classifications", headers=headers).get_json()
    by_code = {e["code"]: e for e in body}
    assert "010201" not in by_code
    assert by_code["0101"]["retention_years"] is None and by_code["010101"]["retention_years"] == "permanent"
    assert by_code["010102"] == {
        "code": "010102",
        "name": "文書管理",
        "label": "総務 › 文書・法規 › 文書管理",
        "level": 3,
        "parent": "0101",
        "retention_years": 10,
        "retired": False,
        "documents": 0,
    }


def test_a_clerk_without_the_role_gets_403_everywhere(client: Any, clerk: Any) -> None:
    headers = _bearer(client, "yamada")
    assert _upload(client, headers, TABLE, dry_run="1").status_code == 403
    assert client.get("/api/v1/admin/classifications/export", headers=headers).status_code == 403
    assert client.get("/api/v1/admin/classifications", headers=headers).status_code == 403
    assert client.get("/api/v1/admin/classifications").status_code == 401
    login(client, "yamada")
    for url in (
        "/admin/classifications",
        "/admin/classifications/new",
        "/admin/classifications/010102",
        "/admin/classifications/export",
    ):
        assert client.get(url).status_code == 403, url
    assert "/admin/classifications" not in client.get("/").get_data(as_text=True)


def test_the_picker_leaves_out_retired_entries(client: Any, clerk: Any) -> None:
    from tests.docsearch.test_admin_classifications import _register

    _register(clerk, "010101")
    classifications.retire(clerk, "010101")
    codes = [
        c["code"] for c in client.get("/api/v1/classifications", headers=_bearer(client, "yamada")).get_json()
    ]
    assert "010101" not in codes and "010102" in codes


# --- the pages -------------------------------------------------------------------------------


def test_landing_page_links_to_the_section_for_records_staff(client: Any, clerk: Any) -> None:
    login(client, "kiroku")
    html = client.get("/admin").get_data(as_text=True)
    assert re.search(r'<a href="/admin/classifications">文書分類</a>', html)
    page = client.get("/admin/classifications").get_data(as_text=True)
    assert (
        "例規・条例" in page
        and "保存年限 <strong>永年</strong>" in page
        and "保存年限 <strong>10年</strong>" in page
    )


def test_add_through_the_form_and_a_refusal_next_to_the_field(client: Any, clerk: Any) -> None:
    login(client, "kiroku")
    form = client.get("/admin/classifications/new?parent=0101").get_data(as_text=True)
    assert '<option value="0101" selected>' in form
    token = csrf_from(form)
    refused = client.post(
        "/admin/classifications/new",
        data={
            "csrf_token": token,
            "parent": "0101",
            "code": "010102",
            "name": "公印",
            "retention_years": "5",
        },
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="code-error"' in html and "コード「010102」はすでに使われています" in html
    assert 'aria-describedby="code-help code-error" aria-invalid="true"' in html
    assert 'value="公印"' in html  # what was typed is kept
    added = client.post(
        "/admin/classifications/new",
        data={
            "csrf_token": token,
            "parent": "0101",
            "code": "010103",
            "name": "公印",
            "retention_years": "5",
        },
    )
    assert added.status_code == 302 and _table()["010103"] == 5
    no_csrf = client.post("/admin/classifications/new", data={"parent": "", "code": "09", "name": "会計"})
    assert no_csrf.status_code == 400 and "09" not in _table()


def test_edit_and_retire_through_the_pages(client: Any, clerk: Any) -> None:
    login(client, "admin")
    page = client.get("/admin/classifications/010102").get_data(as_text=True)
    token = csrf_from(page)
    assert "この分類を削除する" in page
    saved = client.post(
        "/admin/classifications/010102",
        data={"csrf_token": token, "name": "文書の管理", "retention_years": "30"},
    )
    assert saved.status_code == 302 and _table()["010102"] == 30
    bad = client.post(
        "/admin/classifications/010102", data={"csrf_token": token, "name": "", "retention_years": "30"}
    )
    assert bad.status_code == 422 and 'id="name-error"' in bad.get_data(as_text=True)
    heading = client.post("/admin/classifications/0101/retire", data={"csrf_token": token})
    assert heading.status_code == 409 and 'id="retire-error"' in heading.get_data(as_text=True)
    gone = client.post("/admin/classifications/010102/retire", data={"csrf_token": token})
    assert gone.status_code == 302 and "010102" not in _table()
    assert client.get("/admin/classifications/010102").status_code == 404
    db.session().commit()
    actions = [
        a for (a,) in db.session().execute(select(AuditEntry.action).where(AuditEntry.actor == "admin"))
    ]
    assert "classification.update" in actions and "classification.delete" in actions


def test_import_preview_then_apply_through_the_page(client: Any, clerk: Any) -> None:
    login(client, "kiroku")
    token = csrf_from(client.get("/admin/classifications").get_data(as_text=True))
    new = TABLE.replace("職員研修,3", "職員研修,5").encode("cp932")
    preview = client.post(
        "/admin/classifications/import",
        data={"csrf_token": token, "file": (io.BytesIO(new), "bunrui.csv")},
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "変更される分類（1件）" in html and "保存年限：3年 → 5年" in html
    assert _table()["010201"] == 3
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    applied = client.post("/admin/classifications/import", data=fields)
    assert applied.status_code == 302 and _table()["010201"] == 5
    bad = client.post(
        "/admin/classifications/import",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(TABLE.replace("職員研修,3", "職員研修,4").encode()), "b.csv"),
        },
        content_type="multipart/form-data",
    )
    html = bad.get_data(as_text=True)
    assert (
        bad.status_code == 422
        and "7行目: 保存年限「4」は使えません" in html
        and 'id="cls-file-error"' in html
    )
