"""パスワードの変更 (workspace.password_change): the rule, the sessions it ends, the audit entry, the API
(POST /api/v1/me/password → 204 / 403 wrong_password / 422 weak_password / 409 directory account), its
throttle, and the shipped list of the 10,000 most common passwords."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, api_token, csrf_from, login
from workspace import db, directory, password_change, passwords
from workspace.errors import ServiceError
from workspace.models import AuditEntry, User, UserSession
from workspace.security import verify_password

NEW = "haru-no-ogawa-7"


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session().execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def _fresh(username: str) -> User:
    db.session().expire_all()
    user = directory.get_user(username)
    assert user is not None
    return user


def _live_sessions(user_id: int) -> int:
    db.session().expire_all()
    rows = db.session().execute(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    )
    return len(list(rows.scalars()))


# --- the shipped list ----------------------------------------------------------------------------


def test_the_ten_thousand_most_common_passwords_are_shipped_and_checked() -> None:
    """Is the top-10,000 list in workspace/data, most common first, with its source, and used by the rule?"""
    lines = (passwords.DATA / "common-passwords-top10000.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10_000 and len(set(lines)) == 10_000
    assert lines[:4] == ["123456", "123456789", "qwerty", "password"]
    assert "common-passwords-top10000.txt" in (passwords.DATA / "SOURCES.md").read_text(encoding="utf-8")
    common = passwords.common_passwords()
    assert {passwords._fold(line) for line in lines} <= common
    assert "#1bitch" in common  # a password of the list that starts with '#' is not a comment
    assert not any(word.startswith("# ") for word in common)  # the Japanese list's comments are
    for word in ("1234567890", "qwertyuiop", "ＱＷＥＲＴＹＵＩＯＰ"):
        with pytest.raises(passwords.WeakPassword, match="よく使われていて"):
            passwords.check(word, "yamada")


# --- the rule ------------------------------------------------------------------------------------


def test_change_keeps_this_session_ends_the_others_and_is_audited(village: dict[str, Any], client) -> None:
    """Does a change store the new hash, end only the other sessions and record user.password_changed?"""
    login(client, "yamada")
    other = client.application.test_client()
    login(other, "yamada")
    yamada = _fresh("yamada")
    assert _live_sessions(yamada.id) == 2
    page = client.get("/settings").get_data(as_text=True)
    answer = client.post(
        "/settings/password",
        data={"current": PASSWORD, "new": NEW, "confirm": NEW, "csrf_token": csrf_from(page)},
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/settings")
    yamada = _fresh("yamada")
    assert verify_password(yamada.password_hash, NEW) and not verify_password(yamada.password_hash, PASSWORD)
    assert _live_sessions(yamada.id) == 1
    kept = client.get("/settings")  # this one stays signed in, and is told what happened
    assert kept.status_code == 200
    assert "パスワードを変更しました。ほかの端末やブラウザーのサインイン（1件）は終了しました。" in (
        kept.get_data(as_text=True)
    )
    assert other.get("/settings").status_code == 302  # the other one is sent to sign in
    (entry,) = _entries("user.password_changed")
    assert entry.actor == "yamada" and entry.target == "yamada"
    assert entry.detail["before"] == {"must_change_password": False}
    assert entry.detail["after"] == {"must_change_password": False}
    assert entry.detail["other_sessions_ended"] == 1
    assert NEW not in str(entry.detail) and PASSWORD not in str(entry.detail)


@pytest.mark.parametrize(
    "current,new,status,code,field,words",
    [
        ("wrong-password-1", NEW, 403, "wrong_password", "current", "現在のパスワードが正しくありません"),
        ("", NEW, 422, "required", "current", "現在のパスワードを入力"),
        (PASSWORD, "", 422, "required", "new", "新しいパスワードを入力"),
        (PASSWORD, "short-1", 422, "weak_password", "new", "10文字以上"),
        (PASSWORD, "yamada-2026-haru", 422, "weak_password", "new", "ユーザー名を含む"),
        (PASSWORD, "1q2w3e4r5t", 422, "weak_password", "new", "よく使われていて"),
        (PASSWORD, PASSWORD, 422, "weak_password", "new", "今のパスワードと同じ"),
    ],
)
def test_refused_changes_say_why_and_change_nothing(
    village: dict[str, Any], current: str, new: str, status: int, code: str, field: str, words: str
) -> None:
    """Is each refusal a ServiceError with its status, code, field and Japanese reason, and nothing stored?"""
    before = _fresh("yamada").password_hash
    with pytest.raises(ServiceError) as caught:
        password_change.change_own(_fresh("yamada"), current, new)
    error = caught.value
    assert (error.status, error.code, error.extra.get("field")) == (status, code, field)
    assert words in error.message
    assert _fresh("yamada").password_hash == before
    assert _entries("user.password_changed") == []


def test_a_directory_account_is_told_the_directory_decides(village: dict[str, Any]) -> None:
    """Is a directory person's change refused with 409 and a sentence about the directory?"""
    user = _fresh("tanaka")
    user.source = "ldap"
    db.session().commit()
    with pytest.raises(ServiceError) as caught:
        password_change.change_own(_fresh("tanaka"), PASSWORD, NEW)
    assert caught.value.status == 409 and caught.value.code == "directory_account"
    assert "ディレクトリ" in caught.value.message


def test_a_forced_change_clears_the_flag(village: dict[str, Any]) -> None:
    """After an administrator's reset (the flag), does one's own change clear it and say so in the audit?"""
    user = _fresh("yamada")
    user.must_change_password = True
    db.session().commit()
    password_change.change_own(_fresh("yamada"), PASSWORD, NEW)
    assert _fresh("yamada").must_change_password is False
    (entry,) = _entries("user.password_changed")
    assert entry.detail["before"] == {"must_change_password": True}
    assert entry.detail["after"] == {"must_change_password": False}


# --- the API -------------------------------------------------------------------------------------


def _bearer(client, username: str = "yamada") -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def test_api_changes_the_password_with_204_and_ends_every_browser_session(village, client) -> None:
    """With a bearer token, does 204 come back, the browser sessions end and the token keep working?"""
    browser = client.application.test_client()
    login(browser, "yamada")
    headers = _bearer(client)
    answer = client.post("/api/v1/me/password", json={"current": PASSWORD, "new": NEW}, headers=headers)
    assert answer.status_code == 204 and answer.get_data() == b""
    assert _live_sessions(_fresh("yamada").id) == 0
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # tokens stay
    assert login(client.application.test_client(), "yamada", NEW).status_code == 302


def test_api_with_the_browser_session_keeps_it(village, client) -> None:
    """From the page's own session (X-CSRFToken), is that session kept?"""
    login(client, "yamada")
    token = csrf_from(client.get("/").get_data(as_text=True))
    answer = client.post(
        "/api/v1/me/password", json={"current": PASSWORD, "new": NEW}, headers={"X-CSRFToken": token}
    )
    assert answer.status_code == 204
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"current": "nope-nope-nope", "new": NEW}, 403, "wrong_password"),
        ({"current": PASSWORD, "new": "password1234"}, 422, "weak_password"),
        ({"current": PASSWORD}, 400, "bad_request"),
        ({"current": 1, "new": NEW}, 400, "bad_request"),
        (["current", "new"], 400, "bad_request"),
    ],
)
def test_api_refusals(village, client, body: Any, status: int, code: str) -> None:
    """Are a wrong current password (403), a weak new one (422 with the reason) and bad bodies (400) told?"""
    answer = client.post("/api/v1/me/password", json=body, headers=_bearer(client))
    assert answer.status_code == status
    error = answer.get_json()["error"]
    assert error["code"] == code
    if code == "weak_password":
        assert error["field"] == "new" and "よく使われていて" in error["message"]
    if code == "wrong_password":
        assert error["field"] == "current"
        (denied,) = _entries("denied.password_change")
        assert denied.actor == "yamada" and denied.detail["reason"] == "wrong_password"
    assert verify_password(_fresh("yamada").password_hash, PASSWORD)


def test_api_answers_409_for_a_directory_account(village, client) -> None:
    headers = _bearer(client, "tanaka")
    user = _fresh("tanaka")
    user.source = "ldap"
    db.session().commit()
    answer = client.post("/api/v1/me/password", json={"current": PASSWORD, "new": NEW}, headers=headers)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "directory_account"


def test_api_needs_a_sign_in(client, village) -> None:
    answer = client.post("/api/v1/me/password", json={"current": PASSWORD, "new": NEW})
    assert answer.status_code == 401


def test_wrong_current_passwords_are_throttled_like_sign_in(village, client) -> None:
    """After 5 wrong current passwords (page and API together), is the sixth try 429, even the right one?"""
    headers = _bearer(client)
    browser = client.application.test_client()
    login(browser, "yamada")
    statuses = []
    for i in range(5):
        if i % 2:
            page = browser.get("/settings").get_data(as_text=True)
            data = {"current": f"guess-{i}-xxxxx", "new": NEW, "confirm": NEW, "csrf_token": csrf_from(page)}
            statuses.append(browser.post("/settings/password", data=data).status_code)
        else:
            body = {"current": f"guess-{i}-xxxxx", "new": NEW}
            statuses.append(client.post("/api/v1/me/password", json=body, headers=headers).status_code)
    assert statuses == [403, 422, 403, 422, 403]
    answer = client.post("/api/v1/me/password", json={"current": PASSWORD, "new": NEW}, headers=headers)
    assert answer.status_code == 429 and answer.get_json()["error"]["code"] == "throttled"
    page = browser.get("/settings").get_data(as_text=True)
    data = {"current": PASSWORD, "new": NEW, "confirm": NEW, "csrf_token": csrf_from(page)}
    refused = browser.post("/settings/password", data=data)
    assert refused.status_code == 429 and "分ほど受け付けません" in refused.get_data(as_text=True)
    assert verify_password(_fresh("yamada").password_hash, PASSWORD)
    assert _entries("denied.password_change.throttled")
    # Someone else is not affected; a right password never counts.
    other = client.post(
        "/api/v1/me/password", json={"current": PASSWORD, "new": NEW}, headers=_bearer(client, "suzuki")
    )
    assert other.status_code == 204


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_a_refusal_next_to_the_field(village, client) -> None:
    """Is a weak new password shown beside 新しいパスワード (aria-describedby, aria-invalid) with 422?"""
    login(client, "yamada")
    page = client.get("/settings").get_data(as_text=True)
    answer = client.post(
        "/settings/password",
        data={"current": PASSWORD, "new": "abc", "confirm": "abc", "csrf_token": csrf_from(page)},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="password-new-error"' in html and "10文字以上" in html
    assert 'aria-describedby="password-new-help password-new-error" aria-invalid="true"' in html
    mismatch = client.post(
        "/settings/password",
        data={"current": PASSWORD, "new": NEW, "confirm": NEW + "x", "csrf_token": csrf_from(page)},
    )
    assert mismatch.status_code == 422 and "一致しません" in mismatch.get_data(as_text=True)
    assert verify_password(_fresh("yamada").password_hash, PASSWORD)


def test_the_page_without_csrf_changes_nothing(village, client) -> None:
    login(client, "yamada")
    answer = client.post("/settings/password", data={"current": PASSWORD, "new": NEW, "confirm": NEW})
    assert answer.status_code == 400
    assert verify_password(_fresh("yamada").password_hash, PASSWORD)


def test_a_directory_account_sees_a_sentence_instead_of_the_form(village, client) -> None:
    login(client, "tanaka")  # signed in as a local account, then made a directory one
    user = _fresh("tanaka")
    user.source = "ldap"
    db.session().commit()
    html = client.get("/settings").get_data(as_text=True)
    assert "庁内のディレクトリ" in html and 'id="password-current"' not in html
