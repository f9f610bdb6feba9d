"""管理 › 監査ログ: the filters (who, action, target, 和暦 dates), paging, the detail, the CSV, the API,
the 改ざん検証 result on the page, the refusal of a 主事, and that reading the log is itself audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import api_token, login
from workspace import audit, db
from workspace.admin import audit as admin_audit
from workspace.errors import ServiceError
from workspace.models import AdminJob, AuditEntry


def _bearer(client: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _entry(action: str, actor: str, target: str | None = None, at: dt.datetime | None = None) -> int:
    with db.write():
        entry = audit.record(action, actor=actor, target=target, detail={"before": 1, "after": 2})
        db.session().flush()
        entry_id = entry.id
    if at is not None:  # a test moves the time (the hash no longer matches: only filters are tested)
        with db.write():
            db.session().execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(at=at))
    return entry_id


def _reads(target: str | None = None) -> list[AuditEntry]:
    with db.read_session() as session:
        query = select(AuditEntry).where(AuditEntry.action == "audit.read").order_by(AuditEntry.id)
        if target is not None:
            query = query.where(AuditEntry.target == target)
        return list(session.scalars(query).all())


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("令和8年12月4日", dt.date(2026, 12, 4)),
        ("2026-12-04", dt.date(2026, 12, 4)),
        ("2026/12/4", dt.date(2026, 12, 4)),
        ("２０２６年１２月４日", dt.date(2026, 12, 4)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("昭和64年1月7日", dt.date(1989, 1, 7)),
        (" 令和８年１月２日 ", dt.date(2026, 1, 2)),
    ],
)
def test_a_date_is_read_in_wareki_or_seireki(typed: str, day: dt.date) -> None:
    assert admin_audit.parse_date(typed, "from") == day


@pytest.mark.parametrize(
    "typed", ["平成31年5月1日", "令和8年2月30日", "2026-13-01", "きのう", "R8.12.4", "令和0年1月1日"]
)
def test_a_date_that_is_not_a_day_is_refused_next_to_its_field(typed: str) -> None:
    with pytest.raises(ServiceError) as caught:
        admin_audit.parse_date(typed, "to")
    assert caught.value.status == 422 and caught.value.extra["field"] == "to"
    assert "令和8年12月4日" in caught.value.message


def test_an_empty_date_is_no_bound() -> None:
    assert admin_audit.parse_date("", "from") is None and admin_audit.parse_date(None, "from") is None


# --- the filter -----------------------------------------------------------------------------------


def test_who_finds_a_person_by_name_or_username(app: Any, village: Any) -> None:
    mine = _entry("token.create", "yamada", "rpa")
    _entry("token.create", "tanaka", "rpa")
    by_name, total = admin_audit.search(admin_audit.AuditFilter(actor="山田"))
    assert [e.id for e in by_name] == [mine] and total == 1
    by_username, _ = admin_audit.search(admin_audit.AuditFilter(actor="yama"))
    assert [e.id for e in by_username] == [mine]
    by_kana, _ = admin_audit.search(admin_audit.AuditFilter(actor="%"))
    assert by_kana == []  # a % is a character here, not a wildcard


def test_action_is_exact_or_a_family_and_target_is_contained(app: Any, village: Any) -> None:
    create = _entry("approval.create", "yamada", "approval:12")
    approve = _entry("approval.approve", "sato", "approval:12")
    _entry("approvalx.other", "sato", "approval:120")
    _entry("signin.success", "sato")
    family, _ = admin_audit.search(admin_audit.AuditFilter(action="approval"))
    assert {e.id for e in family} == {create, approve}
    exact, _ = admin_audit.search(admin_audit.AuditFilter(action="approval.approve"))
    assert [e.id for e in exact] == [approve]
    target, _ = admin_audit.search(admin_audit.AuditFilter(target="approval:12"))
    assert len(target) == 3


def test_the_date_range_is_days_in_japan_and_includes_the_last_day(app: Any, village: Any) -> None:
    before = _entry("x.a", "sato", at=dt.datetime(2026, 12, 3, 14, 59, tzinfo=dt.UTC))  # 12/3 23:59 JST
    first = _entry("x.b", "sato", at=dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC))  # 12/4 00:00 JST
    last = _entry("x.c", "sato", at=dt.datetime(2026, 12, 5, 14, 59, tzinfo=dt.UTC))  # 12/5 23:59 JST
    _entry("x.d", "sato", at=dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC))  # 12/6 00:00 JST
    wanted = admin_audit.AuditFilter(action="x", date_from=dt.date(2026, 12, 4), date_to=dt.date(2026, 12, 5))
    found, total = admin_audit.search(wanted)
    assert [e.id for e in found] == [last, first] and total == 2
    assert before not in [e.id for e in found]


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ServiceError) as caught:
        admin_audit.AuditFilter.from_args({"from": "令和8年12月5日", "to": "2026-12-04"})
    assert caught.value.extra["field"] == "to"


def test_pages_hold_fifty_newest_first(app: Any, village: Any) -> None:
    with db.write():
        for i in range(120):
            audit.record("test.entry", actor="admin", target=f"t{i}")
    first, total = admin_audit.search(admin_audit.AuditFilter(action="test.entry"), 1)
    third, _ = admin_audit.search(admin_audit.AuditFilter(action="test.entry"), 3)
    assert total == 120 and len(first) == 50 and len(third) == 20
    assert first[0].target == "t119" and third[-1].target == "t0"
    assert [e.id for e in first] == sorted((e.id for e in first), reverse=True)


def test_actions_have_japanese_words_and_unknown_ones_their_family() -> None:
    assert admin_audit.action_word("signin.success") == "サインイン"
    assert admin_audit.action_word("approval.something_new") == "決裁の操作"
    assert admin_audit.action_word("denied.admin.users") == "拒否された操作"
    assert admin_audit.action_word("zzz") == ""


# --- the API --------------------------------------------------------------------------------------


def test_api_lists_filtered_entries_with_names_and_words_and_audits_the_reading(
    app: Any, client: Any, village: Any
) -> None:
    mine = _entry("token.create", "yamada", "rpa")
    headers = _bearer(client, "admin")
    response = client.get(
        "/api/v1/admin/audit?actor=山田&action=token.create&from=令和1年5月1日", headers=headers
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 50
    (entry,) = body["entries"]
    assert entry["id"] == mine and entry["actor"] == "yamada" and entry["actor_name"] == "山田 太郎"
    assert entry["action_label"] == "APIトークンの発行" and entry["detail"] == {"before": 1, "after": 2}
    assert entry["at"].endswith("+09:00") and len(entry["hash"]) == 64 and len(entry["prev_hash"]) == 64
    (read,) = _reads("audit:list")
    assert read.actor == "admin"
    assert read.detail == {
        "filter": {"actor": "山田", "action": "token.create", "date_from": "2019-05-01"},
        "page": 1,
    }


def test_api_refuses_a_bad_date_with_its_field_and_records_nothing(
    app: Any, client: Any, village: Any
) -> None:
    headers = _bearer(client, "admin")
    response = client.get("/api/v1/admin/audit?from=令和8年2月30日", headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_date" and error["field"] == "from"
    assert client.get("/api/v1/admin/audit?page=0", headers=headers).status_code == 422
    assert client.get("/api/v1/admin/audit?format=xml", headers=headers).status_code == 422
    assert _reads() == []


def test_api_csv_is_utf8_with_bom_filtered_and_audited(app: Any, client: Any, village: Any) -> None:
    _entry("token.create", "yamada", "rpa")
    _entry("signout", "tanaka")
    headers = _bearer(client, "admin")
    response = client.get("/api/v1/admin/audit?actor=yamada&format=csv", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["番号", "日時", "氏名", "ユーザー名", "操作"]
    assert len(rows) == 2 and rows[1][2] == "山田 太郎" and rows[1][4] == "APIトークンの発行"
    assert rows[1][1].startswith("令和")
    (read,) = _reads("audit:export")
    assert read.detail == {"filter": {"actor": "yamada"}}


def test_csv_streams_every_matching_entry_in_batches(
    app: Any, client: Any, village: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(admin_audit, "CSV_BATCH", 7)
    with db.write():
        for i in range(30):
            audit.record("test.entry", actor="admin", target=f"t{i}")
    login(client, "admin")
    response = client.get("/admin/audit/export.csv?action=test.entry")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 31 and rows[1][6] == "t29" and rows[-1][6] == "t0"


def test_api_entry_detail_is_audited(app: Any, client: Any, village: Any) -> None:
    mine = _entry("token.create", "yamada", "rpa")
    headers = _bearer(client, "admin")
    body = client.get(f"/api/v1/admin/audit/{mine}", headers=headers).get_json()
    assert body["id"] == mine and body["intact"] is True
    assert len(_reads(f"audit:{mine}")) == 1
    assert client.get("/api/v1/admin/audit/999999", headers=headers).status_code == 404


def test_a_clerk_may_not_read_the_log(app: Any, client: Any, village: Any) -> None:
    headers = _bearer(client, "yamada")
    assert client.get("/api/v1/admin/audit", headers=headers).status_code == 403
    assert client.get("/api/v1/admin/audit?format=csv", headers=headers).status_code == 403
    assert client.get("/api/v1/admin/audit", headers={}).status_code == 401
    login(client, "yamada")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/1").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403
    assert "監査ログ" not in client.get("/").get_data(as_text=True)
    assert _reads() == []


# --- the pages ------------------------------------------------------------------------------------


def test_the_page_shows_names_words_and_dates_in_wareki(app: Any, client: Any, village: Any) -> None:
    _entry("token.create", "yamada", "rpa", at=dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC))
    login(client, "admin")
    response = client.get("/admin/audit?from=2026-12-04&to=2026-12-04")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "山田 太郎" in html and "APIトークンの発行" in html and "token.create" in html
    assert "令和8年12月4日 10:00" in html
    assert 'value="令和8年12月4日"' in html  # the typed 2026-12-04 is shown again in 和暦
    assert "1件" in html
    assert len(_reads("audit:list")) == 1


def test_the_page_shows_a_bad_date_next_to_its_field(app: Any, client: Any, village: Any) -> None:
    login(client, "admin")
    response = client.get("/admin/audit?to=令和8年2月30日")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-to-error"' in html and 'aria-invalid="true"' in html and "f-to-help f-to-error" in html
    assert 'value="令和8年2月30日"' in html
    assert _reads() == []


def test_the_detail_page_shows_every_field_and_both_hashes(app: Any, client: Any, village: Any) -> None:
    mine = _entry("token.create", "yamada", "rpa")
    with db.read_session() as session:
        entry = session.get(AuditEntry, mine)
        hashes = (entry.hash, entry.prev_hash)
    login(client, "admin")
    html = client.get(f"/admin/audit/{mine}").get_data(as_text=True)
    assert hashes[0] in html and hashes[1] in html
    assert "&#34;before&#34;: 1" in html or '"before": 1' in html
    assert "山田 太郎" in html and "一致しています" in html
    assert client.get("/admin/audit/999999").status_code == 404
    assert len(_reads(f"audit:{mine}")) == 1


def test_a_changed_entry_says_so_on_its_detail_page(app: Any, client: Any, village: Any) -> None:
    mine = _entry("token.create", "yamada", "rpa")
    with db.write():
        db.session().execute(update(AuditEntry).where(AuditEntry.id == mine).values(target="forged"))
    login(client, "admin")
    assert "一致しません" in client.get(f"/admin/audit/{mine}").get_data(as_text=True)


def test_the_page_shows_the_last_verification_with_a_link_to_the_first_bad_entry(
    app: Any, client: Any, village: Any
) -> None:
    with db.write():
        db.session().add(
            AdminJob(
                kind="audit.verify",
                state="done",
                progress=1.0,
                params={},
                result={
                    "ok": False,
                    "checked": 41,
                    "problem": "changed",
                    "problem_label": "内容が書き換えられています",
                    "entry_id": 42,
                },
                requested_by=village["admin"].id,
            )
        )
    login(client, "admin")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "異常" in html and "内容が書き換えられています" in html
    assert 'href="/admin/audit/42"' in html


def test_reading_a_page_twice_is_audited_twice_but_polling_a_job_is_not(
    app: Any, client: Any, village: Any
) -> None:
    app.config["ADMIN_JOBS_RUN"] = False
    headers = _bearer(client, "admin")
    login(client, "admin")
    client.get("/admin/audit")
    client.get("/admin/audit?page=2")
    job = client.post("/api/v1/admin/audit/verify", headers=headers).get_json()["job"]
    for _ in range(3):
        client.get(f"/api/v1/admin/jobs/{job['id']}", headers=headers)
    with db.read_session() as session:
        assert session.scalar(select(func.count()).where(AuditEntry.action == "audit.read")) == 2


def test_the_landing_page_links_both_sections(app: Any, client: Any, village: Any) -> None:
    login(client, "admin")
    html = client.get("/admin").get_data(as_text=True)
    assert (
        '<a href="/admin/audit">監査ログ</a>' in html and '<a href="/admin/status">システム状態</a>' in html
    )
