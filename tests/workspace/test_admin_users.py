"""管理 › 職員 on the local backend: the services (every rule and its audit entry), the API and the pages.

The rules are the directory's (workspace.directory): 追加 with a one-time password, 編集 with before and
after in the audit log, 無効にする (sessions, tokens and sockets end), パスワードの再設定, the search and
its paging, and the refusals (duplicate ユーザー名, unknown 課/係, bad 読み or mail) that change nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, api_token, csrf_from, login
from workspace import auth, db, directory, passwords
from workspace.models import AuditEntry, User, UserSession
from workspace.security import hash_password, verify_password


def _entries(action: str) -> list[AuditEntry]:
    with db.read_session() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def _counts() -> tuple[int, int]:
    with db.read_session() as session:
        users = session.scalar(select(func.count()).select_from(User))
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    return users, entries


def _bearer(client: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


NEW = {
    "username": "kato",
    "display_name": "加藤 浩",
    "display_name_kana": "かとう ひろし",
    "department_code": "01",
    "section_code": "0101",
    "title": "主事",
    "roles": ["records"],
    "mail": "kato@vill.example.lg.jp",
}


# --- services ------------------------------------------------------------------------------------


def test_create_gives_a_one_time_password_stored_only_hashed(app: Any, village: Any) -> None:
    user, secret = directory.create_user(actor="admin", **NEW)
    passwords.check(secret, "kato")  # meets the rule for local passwords
    assert user.must_change_password is True and user.source == "local"
    assert user.password_hash != secret and verify_password(user.password_hash, secret)
    assert user.department.code == "01" and user.section.code == "0101" and user.roles == {"records"}
    entry = _entries("user.create")[-1]
    assert entry.actor == "admin" and entry.target == "kato"
    assert entry.detail["before"] is None
    assert entry.detail["after"]["section"] == "0101" and entry.detail["after"]["roles"] == ["records"]
    assert secret not in json.dumps(entry.detail) and "hash" not in json.dumps(entry.detail)
    # Two passwords are never the same.
    assert directory.temporary_password("kato") != directory.temporary_password("kato")


@pytest.mark.parametrize(
    "change,field,status,words",
    [
        ({"username": "YAMADA"}, "username", 409, "すでに使われています"),
        ({"username": "bad name"}, "username", 422, "ユーザー名は英数字"),
        ({"department_code": "99"}, "department_code", 422, "課コード 99 は登録されていません"),
        ({"department_code": "0101", "section_code": None}, "department_code", 422, "登録されていません"),
        ({"department_code": "02", "section_code": "0101"}, "section_code", 422, "その課の係ではありません"),
        ({"display_name_kana": "Kato"}, "display_name_kana", 422, "ひらがなかカタカナ"),
        ({"display_name_kana": ""}, "display_name_kana", 422, "読みは必須です"),
        ({"mail": "kato@"}, "mail", 422, "メールアドレスの形式"),
        ({"roles": ["root"]}, "roles", 422, "役割 root はありません"),
        ({"title": " "}, "title", 422, "役職は必須です"),
        ({"display_name": "加藤\u202e浩"}, "display_name", 422, "氏名"),
    ],
)
def test_bad_input_is_refused_by_field_and_changes_nothing(
    app: Any, village: Any, change: dict[str, Any], field: str, status: int, words: str
) -> None:
    before = _counts()
    with pytest.raises(directory.DirectoryInputError) as refused:
        directory.create_user(actor="admin", **{**NEW, **change})
    assert refused.value.extra["field"] == field and refused.value.status == status
    assert words in refused.value.message
    db.session().rollback()
    assert _counts() == before


def test_edit_records_before_and_after_of_what_changed(app: Any, village: Any) -> None:
    directory.edit_user(
        "tanaka",
        actor="admin",
        department_code="01",
        section_code="0101",
        title="主任",
        mail="tanaka@vill.example.lg.jp",
        display_name="田中 誠",
        display_name_kana="たなか まこと",
    )
    tanaka = directory.get_user("tanaka")
    assert (tanaka.department.code, tanaka.section.code, tanaka.title) == ("01", "0101", "主任")
    entry = _entries("user.update")[-1]
    assert entry.actor == "admin" and entry.target == "tanaka" and entry.detail["moved"] is True
    assert entry.detail["before"] == {
        "display_name_kana": None,
        "department": "02",
        "section": None,
        "title": "主事",
        "mail": None,
    }
    assert (
        entry.detail["after"]["department"] == "01"
        and entry.detail["after"]["mail"] == "tanaka@vill.example.lg.jp"
    )
    assert "display_name" not in entry.detail["after"]  # unchanged fields are not listed
    # A 係 alone is chosen within the person's 課; "" leaves the 係.
    directory.edit_user("tanaka", actor="admin", section_code="")
    assert (
        directory.get_user("tanaka").section is None and directory.get_user("tanaka").department.code == "01"
    )


def test_edit_refuses_and_changes_nothing(app: Any, village: Any) -> None:
    before = _counts()
    for change, field in (
        ({"section_code": "9999"}, "section_code"),
        ({"display_name_kana": "山田"}, "display_name_kana"),
        ({"mail": "not a mail"}, "mail"),
        ({"title": ""}, "title"),
    ):
        with pytest.raises(directory.DirectoryInputError) as refused:
            directory.edit_user("yamada", actor="admin", **change)
        assert refused.value.extra["field"] == field
        db.session().rollback()
    assert _counts() == before
    with pytest.raises(directory.DirectoryInputError) as self_demotion:
        directory.edit_user("admin", actor="admin", roles=[])
    assert self_demotion.value.code == "self"
    with pytest.raises(directory.DirectoryInputError) as nobody:
        directory.edit_user("nobody", actor="admin", title="主事")
    assert nobody.value.status == 404


def test_disable_ends_sessions_and_tokens_at_once_and_enable_restores(
    app: Any, client: Any, village: Any
) -> None:
    token = api_token(client, "yamada")
    assert login(client, "yamada").status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # the browser session works
    directory.set_user_active("yamada", False, actor="admin")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with db.read_session() as session:
        live = select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))
        assert session.scalar(live.where(UserSession.user_id == village["yamada"].id)) == 0
    [entry] = _entries("user.deactivate")
    assert entry.actor == "admin" and entry.detail["before"] == {"active": True}
    assert entry.detail["after"] == {"active": False} and entry.detail["sessions_ended"] == 1
    directory.set_user_active("yamada", False, actor="admin")  # already disabled: nothing to record
    assert len(_entries("user.deactivate")) == 1
    directory.set_user_active("yamada", True, actor="admin")
    assert directory.get_user("yamada").active is True
    assert _entries("user.enable")[-1].detail == {"before": {"active": False}, "after": {"active": True}}
    with pytest.raises(directory.DirectoryInputError) as myself:
        directory.set_user_active("admin", False, actor="admin")
    assert myself.value.status == 409 and myself.value.code == "self"


def test_reset_password_replaces_it_once_and_ends_sessions(app: Any, client: Any, village: Any) -> None:
    assert login(client, "suzuki").status_code == 302
    user, secret = directory.reset_password("suzuki", actor="admin")
    assert user.must_change_password is True
    assert client.get("/api/v1/me").status_code == 401  # the open session ended
    fresh = app.test_client()
    assert login(fresh, "suzuki").status_code == 401  # the old password no longer works
    assert login(fresh, "suzuki", secret).status_code == 302
    [entry] = _entries("user.password_reset")
    assert entry.detail["before"] == {"must_change_password": False}
    assert entry.detail["after"] == {"must_change_password": True} and entry.detail["sessions_ended"] == 1
    assert secret not in json.dumps(entry.detail)


def test_search_folds_kana_and_width_and_pages_300_people(app: Any, village: Any) -> None:
    directory.edit_user("yamada", actor="admin", display_name_kana="やまだ たろう")
    assert [u.username for u in directory.find_users("ヤマダ").users] == ["yamada"]
    assert [u.username for u in directory.find_users("山田太郎").users] == ["yamada"]
    assert [u.username for u in directory.find_users("ＹＡＭＡＤＡ").users] == ["yamada"]
    assert {u.username for u in directory.find_users("企画財政").users} == {"tanaka"}
    assert {u.username for u in directory.find_users("総務係").users} == {"suzuki", "yamada"}
    assert {u.username for u in directory.find_users("係長").users} == {"suzuki"}
    directory.set_user_active("tanaka", False, actor="admin")
    assert "tanaka" not in {u.username for u in directory.find_users("").users}
    assert [u.username for u in directory.find_users("", active=False).users] == ["tanaka"]
    assert directory.find_users("", active=None).total == 5
    shared = hash_password("many-people-2026")
    with db.write():
        for n in range(300):
            directory.add_local_user(
                f"staff{n:03d}",
                f"職員 {n:03d}",
                "many-people-2026",
                password_hash=shared,
                display_name_kana="しょくいん",
                department_code="02",
                title="主事",
            )
    first = directory.find_users("しょくいん", page=1)
    assert first.total == 300 and first.pages == 6 and len(first.users) == 50
    last = directory.find_users("しょくいん", page=99)  # past the end: the last page
    assert last.page == 6 and [u.username for u in last.users][-1] == "staff299"


# --- API -----------------------------------------------------------------------------------------


def test_api_add_answers_201_with_the_password_and_refuses_by_field(
    app: Any, client: Any, village: Any
) -> None:
    headers = _bearer(client, "admin")
    added = client.post("/api/v1/admin/users", json=NEW, headers=headers)
    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert body["user"]["username"] == "kato" and body["user"]["must_change_password"] is True
    assert body["user"]["section"] == {"code": "0101", "name": "総務係"}
    assert login(app.test_client(), "kato", body["temporary_password"]).status_code == 302
    again = client.post("/api/v1/admin/users", json={**NEW, "username": "KATO"}, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "duplicate_username"
    assert again.get_json()["error"]["field"] == "username"
    kana = client.post(
        "/api/v1/admin/users", json={**NEW, "username": "k2", "display_name_kana": "kato"}, headers=headers
    )
    assert kana.status_code == 422 and kana.get_json()["error"]["field"] == "display_name_kana"
    assert "ひらがなかカタカナ" in kana.get_json()["error"]["message"]
    typed = client.post(
        "/api/v1/admin/users", json={**NEW, "username": "k3", "roles": "admin"}, headers=headers
    )
    assert typed.status_code == 400
    assert client.post("/api/v1/admin/users", json=[1], headers=headers).status_code == 400
    assert directory.get_user("k2") is None and directory.get_user("k3") is None


def test_api_list_patch_disable_enable_reset(app: Any, client: Any, village: Any) -> None:
    headers = _bearer(client, "admin")
    listed = client.get("/api/v1/admin/users?q=総務", headers=headers).get_json()
    assert {u["username"] for u in listed["users"]} == {"sato", "suzuki", "yamada", "admin"}
    assert listed["total"] == 4 and listed["managed_here"] is True and listed["last_sync"] is None
    assert client.get("/api/v1/admin/users?active=maybe", headers=headers).status_code == 400
    patched = client.patch(
        "/api/v1/admin/users/tanaka", json={"title": "主任", "mail": "t@vill.example.jp"}, headers=headers
    )
    assert patched.status_code == 200 and patched.get_json()["user"]["title"] == "主任"
    bad = client.patch("/api/v1/admin/users/tanaka", json={"department_code": "77"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "department_code"
    assert (
        client.patch("/api/v1/admin/users/nobody", json={"title": "主事"}, headers=headers).status_code == 404
    )
    off = client.post("/api/v1/admin/users/tanaka/disable", headers=headers)
    assert off.status_code == 200 and off.get_json()["user"]["active"] is False
    assert client.get("/api/v1/admin/users?active=false", headers=headers).get_json()["total"] == 1
    on = client.post("/api/v1/admin/users/tanaka/enable", headers=headers)
    assert on.get_json()["user"]["active"] is True
    reset = client.post("/api/v1/admin/users/tanaka/reset-password", headers=headers)
    assert reset.status_code == 200 and len(reset.get_json()["temporary_password"]) >= passwords.MIN_LENGTH
    me = client.post("/api/v1/admin/users/admin/disable", headers=headers)
    assert me.status_code == 409 and me.get_json()["error"]["code"] == "self"
    nothing = client.post("/api/v1/admin/directory/sync", headers=headers)
    assert nothing.status_code == 409 and nothing.get_json()["error"]["code"] == "not_ldap"


def test_api_refuses_a_clerk_and_an_anonymous_caller(app: Any, client: Any, village: Any) -> None:
    clerk = _bearer(client, "yamada")
    before = _counts()
    assert client.get("/api/v1/admin/users", headers=clerk).status_code == 403
    assert client.post("/api/v1/admin/users", json=NEW, headers=clerk).status_code == 403
    assert client.patch("/api/v1/admin/users/tanaka", json={"title": "x"}, headers=clerk).status_code == 403
    for action in ("disable", "enable", "reset-password"):
        assert client.post(f"/api/v1/admin/users/tanaka/{action}", headers=clerk).status_code == 403
    assert client.post("/api/v1/admin/directory/sync", headers=clerk).status_code == 403
    assert client.get("/api/v1/admin/users").status_code == 401
    assert _counts()[0] == before[0]


def test_api_session_writes_need_the_csrf_header(app: Any, client: Any, village: Any) -> None:
    login(client, "admin")
    assert client.post("/api/v1/admin/users/tanaka/disable").status_code == 400
    assert directory.get_user("tanaka").active is True


# --- pages ---------------------------------------------------------------------------------------


def test_the_landing_page_links_to_the_list_only_for_administrators(
    app: Any, client: Any, village: Any
) -> None:
    login(client, "admin")
    landing = client.get("/admin").get_data(as_text=True)
    assert ">職員</a>" in landing
    page = client.get("/admin/users?q=やまだ&active=all")
    assert page.status_code == 200
    clerk = app.test_client()
    login(clerk, "yamada")
    tanaka = village["tanaka"].id
    for url in ("/admin/users", "/admin/users/new", f"/admin/users/{tanaka}"):
        assert clerk.get(url).status_code == 403
    assert clerk.post(f"/admin/users/{tanaka}/disable").status_code in (400, 403)
    assert client.get("/admin/users/99999999999").status_code == 404
    assert directory.get_user("tanaka").active is True


def test_the_add_form_shows_a_refusal_next_to_its_field_and_the_password_once(
    app: Any, client: Any, village: Any
) -> None:
    login(client, "admin")
    form = client.get("/admin/users/new").get_data(as_text=True)
    token = csrf_from(form)
    data = {
        "csrf_token": token,
        "username": "yamada",
        "display_name": "山田 次郎",
        "display_name_kana": "やまだ じろう",
        "unit": "01/0101",
        "title": "主事",
        "mail": "",
        "roles": [],
    }
    taken = client.post("/admin/users/new", data=data)
    html = taken.get_data(as_text=True)
    assert taken.status_code == 422
    assert 'id="username-error"' in html and "すでに使われています" in html
    assert 'aria-describedby="username-help username-error" aria-invalid="true"' in html
    before = _counts()
    bad_mail = client.post("/admin/users/new", data={**data, "username": "jiro", "mail": "jiro@@x"})
    assert bad_mail.status_code == 422 and 'id="mail-error"' in bad_mail.get_data(as_text=True)
    assert _counts() == before
    made = client.post("/admin/users/new", data={**data, "username": "jiro", "roles": ["admin"]})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and 'id="temporary-password"' in html
    secret = html.split('id="temporary-password">')[1].split("<")[0]
    assert login(app.test_client(), "jiro", secret).status_code == 302
    assert directory.get_user("jiro").roles == {"admin"} and directory.get_user("jiro").section.code == "0101"
    # The person's page never shows it again.
    assert secret not in client.get(f"/admin/users/{directory.get_user('jiro').id}").get_data(as_text=True)
    expired = client.post("/admin/users/new", data={**data, "csrf_token": "stale", "username": "saburo"})
    assert expired.status_code == 400 and directory.get_user("saburo") is None


def test_the_person_page_saves_disables_and_resets(app: Any, client: Any, village: Any) -> None:
    login(client, "admin")
    tanaka = village["tanaka"].id
    token = csrf_from(client.get(f"/admin/users/{tanaka}").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "display_name": "田中 誠",
        "display_name_kana": "たなか まこと",
        "unit": "02",
        "title": "主任",
        "mail": "",
        "roles": [],
    }
    saved = client.post(f"/admin/users/{tanaka}", data=data)
    assert saved.status_code == 302
    assert directory.get_user("tanaka").title == "主任"
    refused = client.post(f"/admin/users/{tanaka}", data={**data, "display_name_kana": "tanaka"})
    assert refused.status_code == 422 and 'id="display_name_kana-error"' in refused.get_data(as_text=True)
    assert directory.get_user("tanaka").display_name_kana == "たなか まこと"
    off = client.post(f"/admin/users/{tanaka}/disable", data={"csrf_token": token})
    assert off.status_code == 302 and directory.get_user("tanaka").active is False
    page = client.get(f"/admin/users/{tanaka}").get_data(as_text=True)
    assert "有効にする" in page and "無効（サインインできません）" in page
    reset = client.post(f"/admin/users/{tanaka}/reset-password", data={"csrf_token": token})
    assert reset.status_code == 200 and 'id="temporary-password"' in reset.get_data(as_text=True)
    assert directory.get_user("tanaka").must_change_password is True
    assert (
        client.post(f"/admin/users/{village['admin'].id}/disable", data={"csrf_token": token}).status_code
        == 409
    )
    assert directory.get_user("admin").active is True


def test_a_directory_person_cannot_be_changed_here(app: Any, village: Any) -> None:
    with db.write():
        yamada = directory.get_user("yamada")
        yamada.source, yamada.password_hash = "ldap", None
    with pytest.raises(directory.DirectoryInputError) as refused:
        directory.reset_password("yamada", actor="admin")
    assert refused.value.status == 409 and refused.value.code == "directory_managed"
    assert auth is not None and PASSWORD
