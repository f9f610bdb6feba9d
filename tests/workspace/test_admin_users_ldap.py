"""管理 › 職員 on the LDAP backend (the private slapd): the list is read-only, every change answers 409,
and 「今すぐ同期」 runs 名簿の同期 as a background job (a real child process) with progress and a summary."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.ldap_fixtures import VILLAGE
from workspace import db, directory
from workspace.admin import jobs, users
from workspace.models import AdminJob, AuditEntry, SyncRun, User

ADMIN = "suzuki.hanako"  # in cn=ws-admins
CLERK = "yamamoto.sho"


@pytest.fixture
def app_config(slapd: Any) -> dict[str, str]:
    return slapd.config()


def _bearer(client: Any, username: str) -> dict[str, str]:
    answer = client.post(
        "/api/v1/auth/token", json={"username": username, "password": VILLAGE.password(username)}
    )
    assert answer.status_code == 201, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_the_sync_job_imports_the_directory_and_reports_counts(app: Any, client: Any) -> None:
    headers = _bearer(client, ADMIN)  # signing in imports the administrator alone
    started = client.post("/api/v1/admin/directory/sync", headers=headers)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert job["kind"] == "directory.sync" and job["label"] == "名簿の同期"
    ended = jobs.wait(job["id"], 90)
    assert ended is not None and ended.state == "done", ended and ended.error
    assert ended.progress == 1.0
    assert ended.result == {
        "created": VILLAGE.user_count - 1,
        "updated": 1,
        "deactivated": 0,
        "total": VILLAGE.user_count,
    }
    with db.read_session() as session:
        run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
        assert run.created == VILLAGE.user_count - 1 and run.error is None and run.finished_at is not None
        starts = session.scalar(select(func.count()).where(AuditEntry.action == "admin.job.start"))
        synced = session.scalar(select(func.count()).where(AuditEntry.action == "directory.sync"))
    assert starts == 1 and synced == 1
    listed = client.get("/api/v1/admin/users?active=all", headers=headers).get_json()
    assert listed["total"] == VILLAGE.user_count and listed["managed_here"] is False
    assert listed["last_sync"]["created"] == VILLAGE.user_count - 1
    disabled = client.get("/api/v1/admin/users?active=false", headers=headers).get_json()
    assert [u["username"] for u in disabled["users"]] == [VILLAGE.disabled]


def test_progress_commits_with_the_entries_it_counts(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's progress moves batch by batch and never runs ahead of the people applied."""
    monkeypatch.setattr(directory, "SYNC_BATCH", 10)
    seen: list[tuple[float, str | None, int]] = []

    class Recorder(jobs.Run):
        def progress(self, fraction: float, message: str | None = None, *, force: bool = False) -> None:
            people = db.session().scalar(select(func.count()).select_from(User))
            seen.append((fraction, message, people))

    result = users.sync_directory(Recorder(0, {}, None))
    assert result["total"] == VILLAGE.user_count and result["created"] == VILLAGE.user_count
    fractions = [f for f, _m, _n in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 0.95
    assert any(m and "人を取り込みました" in m for _f, m, _n in seen)
    for fraction, _message, applied in seen[1:-1]:  # each entry's report: the ones before it are applied
        assert applied == round((fraction - 0.05) / 0.9 * VILLAGE.user_count)
    assert seen[-1][2] == VILLAGE.user_count  # 「ディレクトリにいない職員を確認しています」 after all of them


def test_a_failed_sync_says_so_on_the_job_and_the_page(app: Any, client: Any, slapd: Any) -> None:
    headers = _bearer(client, ADMIN)
    login(client, ADMIN, VILLAGE.password(ADMIN))
    slapd.stop()
    try:
        job = client.post("/api/v1/admin/directory/sync", headers=headers).get_json()["job"]
        ended = jobs.wait(job["id"], 90)
    finally:
        slapd.start()
    assert ended is not None and ended.state == "failed"
    assert "ディレクトリ（LDAP）に接続できませんでした" in ended.error
    with db.read_session() as session:
        run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.error and run.finished_at is not None
    page = client.get("/admin/users").get_data(as_text=True)
    assert "失敗しました（ディレクトリに接続できませんでした）" in page


def test_the_list_is_read_only_and_changes_answer_409(app: Any, client: Any) -> None:
    headers = _bearer(client, ADMIN)
    _bearer(client, CLERK)  # someone else to try to change
    before = db.session().scalar(select(func.count()).select_from(AuditEntry))
    new = {
        "username": "kato",
        "display_name": "加藤 浩",
        "display_name_kana": "かとう ひろし",
        "department_code": "01",
        "title": "主事",
        "roles": [],
    }
    added = client.post("/api/v1/admin/users", json=new, headers=headers)
    assert added.status_code == 409 and added.get_json()["error"]["code"] == "directory_managed"
    assert "ディレクトリ" in added.get_json()["error"]["message"]
    assert (
        client.patch(f"/api/v1/admin/users/{CLERK}", json={"title": "係長"}, headers=headers).status_code
        == 409
    )
    for action in ("disable", "enable", "reset-password"):
        assert client.post(f"/api/v1/admin/users/{CLERK}/{action}", headers=headers).status_code == 409
    db.session().expire_all()
    assert db.session().scalar(select(func.count()).select_from(AuditEntry)) == before
    assert directory.get_user(CLERK).active is True and directory.get_user("kato") is None
    login(client, ADMIN, VILLAGE.password(ADMIN))
    page = client.get("/admin/users").get_data(as_text=True)
    assert "ディレクトリとの同期" in page and "今すぐ同期" in page and "まだ同期していません" in page
    assert "職員を追加" not in page
    clerk = directory.get_user(CLERK).id
    person = client.get(f"/admin/users/{clerk}").get_data(as_text=True)
    assert (
        "登録内容を保存" not in person and "無効にする" not in person and "パスワードを再設定" not in person
    )
    assert client.get("/admin/users/new").status_code == 409
    assert client.post(f"/admin/users/{clerk}/disable").status_code in (400, 409)
    assert directory.get_user(CLERK).active is True


def test_starting_twice_returns_the_running_sync(app: Any, client: Any) -> None:
    app.config["ADMIN_JOBS_RUN"] = False
    headers = _bearer(client, ADMIN)
    first = client.post("/api/v1/admin/directory/sync", headers=headers).get_json()
    second = client.post("/api/v1/admin/directory/sync", headers=headers).get_json()
    assert first["started"] is True and second["started"] is False
    assert first["job"]["id"] == second["job"]["id"]
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(AdminJob)) == 1
        assert session.scalar(select(func.count()).select_from(User)) == 1
