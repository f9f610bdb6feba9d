"""管理 › チャンネル's pages (session and CSRF, as a browser posts them): the list, one channel's
保存期間 / アーカイブ / メンバー forms with refusals shown next to the field (422, nothing changed),
発言の書き出し started from its form and downloaded, and the 403 of every page for a 主事."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from chat.models import Channel
from tests.conftest import csrf_from, login
from workspace import db
from workspace.admin import jobs
from workspace.models import AuditEntry


@pytest.fixture
def private_id(people: dict[str, Any]) -> int:
    response = people["yamada"].post(
        "/channels", {"kind": "private", "name": "人事の相談", "members": ["sato"]}
    )
    people["yamada"].post("/channels", {"kind": "direct", "members": ["tanaka"]})
    return response.get_json()["id"]


def _admin(client: Any) -> Any:
    assert login(client, "admin").status_code == 302
    return client


def _post(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def _channel(channel_id: int) -> Channel:
    with db.read_session() as session:
        found = session.get(Channel, channel_id)
        assert found is not None
        return found


def test_the_list_shows_channels_and_only_counts_of_direct_messages(
    client: Any, people: dict[str, Any], private_id: int
) -> None:
    _admin(client)
    landing = client.get("/admin").get_data(as_text=True)
    assert '<a href="/admin/channels">チャンネル</a>' in landing
    page = client.get("/admin/channels")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<a href="/admin/channels/{private_id}">人事の相談</a>' in html
    assert "非公開" in html and "総務課" in html and "無期限" in html
    assert "ダイレクトメッセージ（2人）1件" in html
    assert "田中" not in html  # the DM's people are not named


def test_a_shuji_gets_403_on_every_page_and_action(
    client: Any, people: dict[str, Any], private_id: int
) -> None:
    assert login(client, "yamada").status_code == 302
    assert client.get("/admin").status_code == 403
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    for path in (
        "/admin/channels",
        f"/admin/channels/{private_id}",
        "/admin/channels/export",
        "/admin/channels/export/1/file",
    ):
        assert client.get(path).status_code == 403, path
    for path in (
        f"/admin/channels/{private_id}/retention",
        f"/admin/channels/{private_id}/archive",
        f"/admin/channels/{private_id}/members",
        f"/admin/channels/{private_id}/members/sato/remove",
        "/admin/channels/export",
    ):
        assert (
            client.post(
                path,
                data={
                    "csrf_token": token,
                    "retention_days": "1",
                    "archived": "1",
                    "usernames": "tanaka",
                    "target": "user:yamada",
                },
            ).status_code
            == 403
        ), path
    assert _channel(private_id).retention_days is None and _channel(private_id).archived_at is None


def test_retention_is_saved_and_a_bad_value_is_shown_next_to_the_field(
    client: Any, people: dict[str, Any], private_id: int
) -> None:
    _admin(client)
    page = f"/admin/channels/{private_id}"
    action = f"{page}/retention"
    for typed in ("abc", "0", "36501"):
        refused = _post(client, page, action, {"retention_days": typed})
        assert refused.status_code == 422, typed
        html = refused.get_data(as_text=True)
        assert 'aria-invalid="true"' in html and 'id="retention-error"' in html
        assert f'value="{typed}"' in html
    assert _channel(private_id).retention_days is None
    saved = _post(client, page, action, {"retention_days": "3650"})
    assert saved.status_code == 303
    assert "保存期間を「3,650日」にしました。" in client.get(page).get_data(as_text=True)
    assert _channel(private_id).retention_days == 3650
    cleared = _post(client, page, action, {"retention_days": ""})
    assert cleared.status_code == 303 and _channel(private_id).retention_days is None
    with db.read_session() as session:
        details = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "chat.channel.retention")
        ).all()
    assert details == [{"from": None, "to": 3650}, {"from": 3650, "to": None}]


def test_archive_and_unarchive_from_the_page(client: Any, people: dict[str, Any], private_id: int) -> None:
    _admin(client)
    page = f"/admin/channels/{private_id}"
    assert _post(client, page, f"{page}/archive", {"archived": "1"}).status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "アーカイブしました" in html and "アーカイブを解除する" in html
    assert _channel(private_id).archived_at is not None
    assert "アーカイブ済み" in client.get("/admin/channels").get_data(as_text=True)
    assert _post(client, page, f"{page}/archive", {"archived": "0"}).status_code == 303
    assert _channel(private_id).archived_at is None


def test_members_are_added_and_removed_from_the_page(
    client: Any, people: dict[str, Any], private_id: int
) -> None:
    _admin(client)
    page = f"/admin/channels/{private_id}"
    refused = _post(client, page, f"{page}/members", {})
    assert refused.status_code == 422 and "追加する人を選んでください。" in refused.get_data(as_text=True)
    unknown = _post(client, page, f"{page}/members", {"usernames": "nobody"})
    assert unknown.status_code == 422 and "見つかりません" in unknown.get_data(as_text=True)
    added = _post(client, page, f"{page}/members", {"usernames": ["tanaka", "suzuki"]})
    assert added.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "をメンバーに追加しました。" in html and "田中 誠" in html and "鈴木 花子" in html
    assert 'aria-label="田中 誠 をメンバーから外す"' in html
    assert _post(client, page, f"{page}/members/tanaka/remove", {}).status_code == 303
    assert "田中 誠 をメンバーから外しました。" in client.get(page).get_data(as_text=True)
    assert [
        m["username"] for m in people["admin"].get(f"/admin/channels/{private_id}").get_json()["members"]
    ] == ["sato", "suzuki", "yamada"]


def test_public_and_department_channels_have_no_member_form(client: Any, people: dict[str, Any]) -> None:
    _admin(client)
    soumu = people["yamada"].channel_id("総務課")
    html = client.get(f"/admin/channels/{soumu}").get_data(as_text=True)
    assert "職員名簿に従います" in html and "メンバーに追加" not in html


def test_export_from_the_form_and_download(client: Any, people: dict[str, Any], private_id: int) -> None:
    people["yamada"].post(f"/channels/{private_id}/messages", {"body": "人事の件です"})
    _admin(client)
    page = "/admin/channels/export"
    html = client.get(page).get_data(as_text=True)
    assert "まだ書き出していません。" in html and f'value="channel:{private_id}"' in html
    assert 'value="user:yamada"' in html and "山田 太郎" in html
    refused = _post(client, page, page, {"target": "", "format": "json"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="export-target-error"' in html and "書き出す対象（チャンネルか職員）を選んでください。" in html
    bad_dates = _post(client, page, page, {"target": "user:yamada", "from": "2026-05-02", "to": "2026-05-01"})
    assert bad_dates.status_code == 422 and 'id="export-to-error"' in bad_dates.get_data(as_text=True)
    assert jobs.latest("chat.export") is None
    started = _post(client, page, page, {"target": f"channel:{private_id}", "format": "csv"})
    assert started.status_code == 303
    job = jobs.latest("chat.export")
    assert job is not None and job.params["channel_id"] == private_id and job.params["format"] == "csv"
    ended = jobs.wait(job.id, 60)
    assert ended is not None and ended.state == "done", ended and ended.error
    html = client.get(page).get_data(as_text=True)
    assert "発言の書き出し：完了（1件）" in html and "対象：人事の相談" in html
    assert f'href="/admin/channels/export/{job.id}/file"' in html
    download = client.get(f"/admin/channels/export/{job.id}/file")
    assert download.status_code == 200 and "人事の件です" in download.get_data(as_text=True)
