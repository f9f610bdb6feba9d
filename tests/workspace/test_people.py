"""読み (display_name_kana) and GET /api/v1/users: finding colleagues by 氏名, 読み, ユーザー名 and 課."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import PASSWORD, api_token, csrf_from, login
from workspace import db, directory, people
from workspace.db import Base


@pytest.fixture
def staff(village: dict[str, Any]) -> dict[str, Any]:
    """The village plus 加藤 浩 (住民課, with a 読み), a カタカナ 読み, and a disabled 加藤."""
    directory.ensure_department("03", "住民課")
    db.session().commit()
    village["kato"] = directory.add_local_user(
        "kato", "加藤 浩", PASSWORD, department_code="03", title="課長", display_name_kana="かとう ひろし"
    )
    village["kato2"] = directory.add_local_user(
        "kato.m", "加藤 美穂", PASSWORD, department_code="01", title="主事", display_name_kana="カトウ ミホ"
    )
    directory.add_local_user(
        "kato.old", "加藤 昭", PASSWORD, department_code="03", display_name_kana="かとう あきら"
    )
    directory.set_active("kato.old", False, actor="test")
    directory.update_local_user("sato", actor="test", display_name_kana="さとう いちろう")
    return village


def _find(client: Any, token: str, query: str, **params: Any) -> Any:
    return client.get(
        "/api/v1/users", query_string={"q": query, **params}, headers={"Authorization": f"Bearer {token}"}
    )


def test_the_users_table_has_the_kana_column_the_model_declares(app: Any) -> None:
    """Do the migrations and the model agree about users (after 0002_users_kana)?"""
    with db.engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert not [d for d in diff if "display_name_kana" in repr(d)]
    columns = {c["name"] for c in inspect(db.engine()).get_columns("users")}
    assert "display_name_kana" in columns


@pytest.mark.parametrize(
    "query", ["かとう", "カトウ", "ｶﾄｳ", "加藤", "加藤浩", "加藤 浩", "kato", "KATO", "住民"]
)
def test_kato_is_found_by_kanji_kana_username_and_department(
    client: Any, staff: dict[str, Any], query: str
) -> None:
    """Does 加藤 浩 come back for kanji, either kana, half-width kana, the username and his 課?"""
    token = api_token(client, "yamada")
    response = _find(client, token, query)
    assert response.status_code == 200
    names = [u["display_name"] for u in response.get_json()["users"]]
    assert "加藤 浩" in names
    assert "加藤 昭" not in names  # disabled accounts are never offered


def test_the_user_shape_is_exactly_the_documented_one(client: Any, staff: dict[str, Any]) -> None:
    """Is each user {username, display_name, display_name_kana, department {code, name}, title}?"""
    token = api_token(client, "yamada")
    users = _find(client, token, "かとう ひろし").get_json()["users"]
    assert users == [
        {
            "username": "kato",
            "display_name": "加藤 浩",
            "display_name_kana": "かとう ひろし",
            "department": {"code": "03", "name": "住民課"},
            "title": "課長",
        }
    ]


def test_katakana_readings_are_found_by_hiragana_and_prefix_matches_come_first(
    client: Any, staff: dict[str, Any]
) -> None:
    """Does かとう find カトウ ミホ too, with people whose 読み starts with it before 課 matches?"""
    token = api_token(client, "yamada")
    names = [u["display_name"] for u in _find(client, token, "かとう").get_json()["users"]]
    assert names == ["加藤 浩", "加藤 美穂"]  # by 読み: かとうひろし < かとうみほ
    by_department = [u["username"] for u in _find(client, token, "総務").get_json()["users"]]
    assert set(by_department) == {"sato", "suzuki", "yamada", "admin", "kato.m"}


def test_limit_is_checked_and_applied(client: Any, staff: dict[str, Any]) -> None:
    """Is limit 1..50 (default 20), with a Japanese 400 for anything else?"""
    token = api_token(client, "yamada")
    assert len(_find(client, token, "", limit=2).get_json()["users"]) == 2
    assert len(_find(client, token, "").get_json()["users"]) == 7  # everyone active
    for bad in ("0", "51", "abc", "-1", "2.5"):
        response = _find(client, token, "", limit=bad)
        assert response.status_code == 400, bad
        error = response.get_json()["error"]
        assert error["code"] == "bad_request" and "limit" in error["message"] and "整数" in error["message"]
    assert _find(client, token, "あ" * 101).status_code == 400


def test_users_search_needs_a_signed_in_person(client: Any, staff: dict[str, Any]) -> None:
    """Is the directory hidden from someone not signed in?"""
    response = client.get("/api/v1/users?q=kato")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_me_carries_the_reading(client: Any, staff: dict[str, Any]) -> None:
    """Does /api/v1/me say my 読み?"""
    token = api_token(client, "kato")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["display_name_kana"] == "かとう ひろし"


def test_fold_treats_both_kana_and_widths_alike() -> None:
    """Is the folding NFKC + lower case + katakana→hiragana without spaces?"""
    assert people.fold("カトウ　ヒロシ") == people.fold("かとう ひろし") == "かとうひろし"
    assert people.fold("ｶﾄｳ") == "かとう"
    assert people.fold("ＫＡＴＯ") == "kato"
    assert people.fold("ヴァイオリン") == "ゔぁいおりん"


def test_cli_sets_and_clears_a_local_reading(app: Any, staff: dict[str, Any]) -> None:
    """Can `workspace users add/update --kana` set, change and clear a 読み, refusing kanji?"""
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "add", "ito", "--name", "伊藤 美咲", "--kana", "いとう みさき", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert directory.get_user("ito").display_name_kana == "いとう みさき"
    result = runner.invoke(args=["users", "update", "ito", "--kana", "イトウ　ミサキ"])
    assert result.exit_code == 0, result.output
    db.session().expire_all()
    assert directory.get_user("ito").display_name_kana == "イトウ ミサキ"
    result = runner.invoke(args=["users", "update", "ito", "--kana", "伊藤"])
    assert result.exit_code != 0 and "ひらがなかカタカナ" in result.output
    result = runner.invoke(args=["users", "update", "ito", "--kana", ""])
    assert result.exit_code == 0, result.output
    db.session().expire_all()
    assert directory.get_user("ito").display_name_kana is None


def test_settings_page_shows_the_name_and_lets_a_local_account_edit_its_reading(
    client: Any, staff: dict[str, Any]
) -> None:
    """Does 設定 show 氏名 and 読み, and save a new 読み (with a Japanese error for kanji)?"""
    login(client, "yamada")
    html = client.get("/settings").get_data(as_text=True)
    assert "山田 太郎" in html and 'id="display-name-kana"' in html
    token = csrf_from(html)
    response = client.post(
        "/settings/profile",
        data={"csrf_token": token, "display_name_kana": "やまだ たろう"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "読みを保存しました。" in response.get_data(as_text=True)
    db.session().expire_all()
    assert directory.get_user("yamada").display_name_kana == "やまだ たろう"
    response = client.post("/settings/profile", data={"csrf_token": token, "display_name_kana": "山田"})
    assert response.status_code == 422
    assert "ひらがなかカタカナ" in response.get_data(as_text=True)
    db.session().expire_all()
    assert directory.get_user("yamada").display_name_kana == "やまだ たろう"


def test_every_demo_person_has_a_reading(app: Any) -> None:
    """Does `workspace demo` give each person a 読み, so @かとう finds 加藤 浩 in the demo village?"""
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    missing = [u.username for u in directory.active_users() if not u.display_name_kana]
    assert missing == []
    assert [p.display_name for p in people.search("かとう")] == ["加藤 浩"]


def test_openapi_documents_the_people_search(client: Any) -> None:
    """Does the OpenAPI document describe /users (q, limit 1..50, 400) and /channels/{id}/members?"""
    spec = client.get("/api/v1/openapi.json").get_json()
    users = spec["paths"]["/api/v1/users"]["get"]
    limit = next(p for p in users["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}
    assert {"200", "400", "401"} <= {str(k) for k in users["responses"]}
    assert "display_name_kana" in users["responses"]["200"]["description"]
    members = spec["paths"]["/api/v1/channels/{channel_id}/members"]
    assert "get" in members and "post" in members
    assert "mention" in members["get"]["responses"]["200"]["description"]
