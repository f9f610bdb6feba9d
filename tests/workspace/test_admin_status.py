"""管理 › システム状態: each part in plain Japanese with 正常/注意/異常, the exact API, the registry the
domains add to, the 索引の再構築 job (one at a time), and the refusal of a 主事."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from approvals import admin_status as approvals_status
from approvals import record, signing_keys
from docsearch.models import IndexOutbox
from tests.conftest import api_token, login
from workspace import db
from workspace.admin import jobs, status
from workspace.models import AdminJob, AuditEntry, SyncRun, utcnow


def _bearer(client: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _status(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/admin/status", headers=_bearer(client, "admin"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_api_gives_every_part_with_its_state(app: Any, client: Any, village: Any) -> None:
    body = _status(client)
    for key in (
        "database",
        "directory",
        "redis",
        "search",
        "disk_free_bytes",
        "signing_certificate",
        "version",
    ):
        assert key in body
    database = body["database"]
    assert database["kind"] == db.engine().dialect.name and database["reachable"] is True
    assert database["revision"] and database["revision"] == database["heads"] and database["state"] == "ok"
    assert body["directory"]["backend"] == "local" and body["directory"]["state"] == "ok"
    assert body["redis"] == {
        "configured": False,
        "reachable": None,
        "state": "ok",
        "summary": body["redis"]["summary"],
    }
    search = body["search"]
    assert isinstance(search["documents"], int) and search["last_rebuild"] is None
    assert search["outbox_lag"]["rows"] >= 0 and "age_seconds" in search["outbox_lag"]
    assert isinstance(body["disk_free_bytes"], int) and body["disk_free_bytes"] > 0
    assert (
        body["signing_certificate"]["present"] is False and body["signing_certificate"]["not_after"] is None
    )
    assert body["signing_certificate"]["state"] == "warning"
    assert body["version"].startswith("0.1.0")


def test_the_signing_certificate_gives_its_expiry(app: Any, client: Any, village: Any) -> None:
    signing_keys.init_keys(record.key_dir(), village_name="テスト村")
    cert = _status(client)["signing_certificate"]
    not_after = dt.datetime.fromisoformat(cert["not_after"])
    assert cert["present"] is True and cert["state"] == "ok" and cert["not_after"].endswith("+09:00")
    assert 1800 < (not_after - dt.datetime.now(dt.UTC)).days < 1830 and 1800 < cert["days_left"] < 1830


def test_a_certificate_near_its_end_is_a_warning_and_an_expired_one_an_error(
    app: Any, village: Any, monkeypatch: Any
) -> None:
    signing_keys.init_keys(record.key_dir(), village_name="テスト村")
    monkeypatch.setattr(approvals_status, "WARNING_DAYS", 5000)
    part = approvals_status.signing_part()
    assert part["state"] == "warning" and "有効期限まであと" in part["summary"]
    part = approvals_status.signing_part(dt.datetime.now(dt.UTC) + dt.timedelta(days=4000))
    assert part["state"] == "error" and "切れています" in part["summary"]


def test_an_outbox_that_is_not_drained_is_an_error(app: Any, client: Any, village: Any) -> None:
    with db.write():
        db.session().add(
            IndexOutbox(kind="document", object_id=999, created_at=utcnow() - dt.timedelta(hours=2))
        )
    search = _status(client)["search"]
    assert search["outbox_lag"]["rows"] == 1 and search["outbox_lag"]["age_seconds"] >= 7200
    assert search["outbox_lag"]["oldest_at"].endswith("+09:00")
    assert search["state"] == "error"


def test_redis_that_does_not_answer_is_an_error(app: Any, client: Any, village: Any) -> None:
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    redis = _status(client)["redis"]
    assert redis["configured"] is True and redis["reachable"] is False and redis["state"] == "error"


def test_an_ldap_directory_that_does_not_answer_is_an_error_with_the_last_sync(
    app: Any, client: Any, village: Any
) -> None:
    headers = _bearer(client, "admin")  # a token before the directory changes (sign-in would ask LDAP)
    with db.write():
        sync = SyncRun(started_at=utcnow(), finished_at=utcnow(), created=2, updated=5, deactivated=1)
        db.session().add(sync)
    ldap = {"LDAP_URL": "ldap://127.0.0.1:1", "LDAP_USER_BASE": "ou=people,dc=x", "LDAP_TIMEOUT": "1"}
    app.config.update(DIRECTORY="ldap", **ldap)
    directory = client.get("/api/v1/admin/status", headers=headers).get_json()["directory"]
    assert directory["backend"] == "ldap" and directory["reachable"] is False
    assert directory["state"] == "error"
    assert directory["last_sync"]["created"] == 2 and directory["last_sync"]["deactivated"] == 1
    app.config["LDAP_URL"] = "http://not-ldap"
    directory = client.get("/api/v1/admin/status", headers=headers).get_json()["directory"]
    assert directory["state"] == "error" and "設定に誤り" in directory["summary"]


def test_little_free_space_is_a_warning(app: Any, village: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(status, "DISK_WARNING_BYTES", 10**18)
    assert status.disk_part().state == "warning"
    monkeypatch.setattr(status, "DISK_ERROR_BYTES", 10**18)
    assert status.disk_part().state == "error"


def test_a_part_that_fails_shows_as_an_error_and_the_others_still_answer(
    app: Any, client: Any, village: Any
) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    status.add_part(app, "search", broken)
    body = _status(client)
    assert body["search"]["state"] == "error" and "確認できませんでした" in body["search"]["summary"]
    assert body["database"]["state"] == "ok" and body["state"] == "error"


def test_the_registry_holds_each_part_once_per_app(app: Any) -> None:
    import approvals
    import docsearch

    before = dict(status.status_parts(app))
    docsearch.admin_status.init_app(app)
    approvals.admin_status.init_app(app)
    assert set(status.status_parts(app)) == set(before) == {"search", "signing_certificate"}


def test_reindex_runs_once_in_the_background_and_is_remembered(app: Any, client: Any, village: Any) -> None:
    headers = _bearer(client, "admin")
    started = client.post("/api/v1/admin/reindex", headers=headers)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert job["kind"] == "search.reindex" and job["label"] == "索引の再構築"
    ended = jobs.wait(job["id"], 90)
    assert ended is not None and ended.state == "done", ended and ended.error
    assert ended.progress == 1.0 and ended.result["written"] >= 0
    search = _status(client)["search"]
    assert search["last_rebuild"] is not None and search["last_rebuild"].endswith("+09:00")
    with db.read_session() as session:
        assert session.scalar(select(func.count()).where(AuditEntry.action == "admin.job.start")) == 1


def test_starting_reindex_twice_returns_the_same_job(app: Any, client: Any, village: Any) -> None:
    app.config["ADMIN_JOBS_RUN"] = False
    headers = _bearer(client, "admin")
    first = client.post("/api/v1/admin/reindex", headers=headers).get_json()
    second = client.post("/api/v1/admin/reindex", headers=headers).get_json()
    assert (
        first["started"] is True and second["started"] is False and second["job"]["id"] == first["job"]["id"]
    )
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(AdminJob)) == 1


def test_the_page_says_each_state_in_words(app: Any, client: Any, village: Any) -> None:
    login(client, "admin")
    response = client.get("/admin/status")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for title in (
        "データベース",
        "名簿（ディレクトリ）",
        "Redis",
        "検索の索引",
        "保存領域の空き",
        "電子署名の証明書",
        "バージョン",
    ):
        assert title in html
    assert "正常" in html and "注意" in html  # the certificate not made yet is a 注意
    assert "索引の再構築" in html and 'data-job-start="/api/v1/admin/reindex"' in html


def test_a_clerk_may_not_see_the_state(app: Any, client: Any, village: Any) -> None:
    headers = _bearer(client, "yamada")
    assert client.get("/api/v1/admin/status", headers=headers).status_code == 403
    assert client.post("/api/v1/admin/reindex", headers=headers).status_code == 403
    login(client, "yamada")
    assert client.get("/admin/status").status_code == 403
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(AdminJob)) == 0
