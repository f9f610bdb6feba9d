"""Compliance export: administrators only, with deleted messages and edit history, JSON and CSV, audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select, update

from chat import files
from chat.models import Attachment, Message
from workspace import db
from workspace.models import AuditEntry, utcnow


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


@pytest.fixture
def evidence(people, soumu) -> dict:
    """A channel with an edited message, a soft-deleted one, an attachment, and one in another month."""
    yamada, suzuki = people["yamada"], people["suzuki"]
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (3, 4, 5)).save(out, "PNG")
    att = yamada.upload(soumu, out.getvalue(), "図面.png").get_json()
    edited = yamada.post(f"/channels/{soumu}/messages", {"body": "会議は10時", "attachment_ids": [att["id"]]})
    edited_id = edited.get_json()["id"]
    yamada.patch(f"/messages/{edited_id}", {"body": "会議は11時"})
    deleted_id = suzuki.post(f"/channels/{soumu}/messages", {"body": '=HYPERLINK("x")'}).get_json()["id"]
    suzuki.delete(f"/messages/{deleted_id}")
    old_id = yamada.post(f"/channels/{soumu}/messages", {"body": "先月"}).get_json()["id"]
    db.session().execute(
        update(Message).where(Message.id == old_id).values(created_at=utcnow() - dt.timedelta(days=60))
    )
    other = people["tanaka"].channel_id("企画財政課")
    people["tanaka"].post(f"/channels/{other}/messages", {"body": "別の課"})
    db.session().commit()
    return {"edited": edited_id, "deleted": deleted_id, "old": old_id, "attachment": att["id"]}


def _today() -> str:
    from workspace import calendar

    return calendar.today().isoformat()


def test_admin_json_export_has_deleted_messages_edits_and_attachment_digests(people, soumu, evidence):
    day = _today()
    response = people["admin"].get(f"/admin/chat/export?channel_id={soumu}&from={day}&to={day}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["exported_by"] == "admin" and body["criteria"]["channel_id"] == soumu
    by_id = {m["id"]: m for m in body["messages"]}
    assert set(by_id) == {evidence["edited"], evidence["deleted"]}  # the old one is outside the range
    deleted = by_id[evidence["deleted"]]
    assert deleted["deleted"] and deleted["body"] == '=HYPERLINK("x")' and deleted["deleted_by"] == "suzuki"
    edited = by_id[evidence["edited"]]
    assert edited["body"] == "会議は11時"
    assert [e["previous_body"] for e in edited["edits"]] == ["会議は10時"]
    assert edited["edits"][0]["editor"] == "yamada"
    sha = db.session().get(Attachment, evidence["attachment"]).sha256
    assert edited["attachments"] == [
        {
            "id": evidence["attachment"],
            "filename": "図面.png",
            "size": edited["attachments"][0]["size"],
            "mime_type": "image/png",
            "sha256": sha,
        }
    ]


def test_export_without_dates_covers_everything_and_by_user_spans_channels(people, soumu, evidence):
    everything = people["admin"].get(f"/admin/chat/export?channel_id={soumu}").get_json()["messages"]
    assert {m["id"] for m in everything} == {evidence["edited"], evidence["deleted"], evidence["old"]}
    people["yamada"].post("/channels", {"name": "有志", "kind": "private", "members": []})
    private = people["yamada"].channel_id("有志")
    people["yamada"].post(f"/channels/{private}/messages", {"body": "内緒"})
    mine = people["admin"].get("/admin/chat/export?username=yamada").get_json()["messages"]
    assert {m["author"]["username"] for m in mine} == {"yamada"}
    assert {m["channel"]["id"] for m in mine} == {soumu, private}


def test_csv_export_is_a_utf8_bom_file_with_formulas_neutralised(people, soumu, evidence):
    response = people["admin"].get(f"/admin/chat/export?channel_id={soumu}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    by_id = {int(r["id"]): r for r in rows}
    assert (
        by_id[evidence["deleted"]]["body"] == '\'=HYPERLINK("x")' and by_id[evidence["deleted"]]["deleted_at"]
    )
    assert json.loads(by_id[evidence["edited"]]["edits"])[0]["previous_body"] == "会議は10時"


def test_only_administrators_may_export(people, soumu, evidence):
    for name in ("sato", "yamada"):
        response = people[name].get(f"/admin/chat/export?channel_id={soumu}")
        assert response.status_code == 403
    assert not db.session().execute(select(AuditEntry).where(AuditEntry.action == "chat.export")).first()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("channel_id=1&username=yamada", 400),
        ("channel_id=abc", 400),
        ("channel_id=1&from=2026-13-01", 400),
        ("channel_id=1&from=2026-11-02&to=2026-11-01", 400),
        ("channel_id=1&format=xml", 400),
        ("channel_id=999999", 404),
        ("username=nobody", 404),
    ],
)
def test_bad_export_requests_are_4xx(people, village, query, status):
    assert people["admin"].get(f"/admin/chat/export?{query}").status_code == status


def test_export_is_audited(people, soumu, evidence):
    people["admin"].get(f"/admin/chat/export?channel_id={soumu}&format=csv")
    entry = db.session().execute(select(AuditEntry).where(AuditEntry.action == "chat.export")).scalar_one()
    assert entry.actor == "admin" and entry.target == f"channel:{soumu}"
    assert entry.detail["messages"] == 3 and entry.detail["format"] == "csv" and entry.detail["via"] == "api"


def test_api_export_has_a_size_cap(app, people, soumu, evidence):
    app.config["CHAT_EXPORT_MAX_MESSAGES"] = 2
    response = people["admin"].get(f"/admin/chat/export?channel_id={soumu}")
    assert response.status_code == 413


def test_cli_exports_json_csv_and_a_zip_with_the_files(app, people, soumu, evidence, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "e.json"
    result = runner.invoke(
        args=["chat", "export", "--channel", str(soumu), "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["messages"]) == 3
    day = _today()
    out_csv = tmp_path / "e.csv"
    result = runner.invoke(
        args=[
            "chat",
            "export",
            "--user",
            "suzuki",
            "--from",
            day,
            "--to",
            day,
            "--format",
            "csv",
            "--out",
            str(out_csv),
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [evidence["deleted"]]
    out_zip = tmp_path / "e.zip"
    result = runner.invoke(
        args=["chat", "export", "--channel", str(soumu), "--out", str(out_zip), "--include-files"]
    )
    assert result.exit_code == 0, result.output
    sha = db.session().get(Attachment, evidence["attachment"]).sha256
    with zipfile.ZipFile(out_zip) as zf:
        assert set(zf.namelist()) == {"export.json", f"files/{sha}"}
        assert zf.read(f"files/{sha}") == files.path_for(sha).read_bytes()
    entries = (
        db.session().execute(select(AuditEntry).where(AuditEntry.action == "chat.export")).scalars().all()
    )
    assert [e.detail["via"] for e in entries] == ["cli", "cli", "cli"]
    assert entries[-1].detail["files"] is True


def test_cli_needs_exactly_one_of_channel_or_user(app, village, tmp_path):
    result = app.test_cli_runner().invoke(args=["chat", "export", "--out", str(tmp_path / "x.json")])
    assert result.exit_code != 0 and not (tmp_path / "x.json").exists()
