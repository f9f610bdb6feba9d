"""Retention: administrators set a channel's period; `workspace chat purge` hard-deletes and audits."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from chat import files
from chat.models import Attachment, Channel, Message, MessageEdit
from workspace import db
from workspace.models import AuditEntry, utcnow


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


def _png(color=(1, 2, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), color).save(out, "PNG")
    return out.getvalue()


def _age(message_id: int, days: float) -> None:
    db.session().execute(
        update(Message).where(Message.id == message_id).values(created_at=utcnow() - dt.timedelta(days=days))
    )
    db.session().commit()


def _post(person, channel_id, body, **extra) -> int:
    response = person.post(f"/channels/{channel_id}/messages", {"body": body, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _set(person, channel_id, days):
    return person.patch(f"/channels/{channel_id}", {"retention_days": days})


def _purge(app) -> str:
    result = app.test_cli_runner().invoke(args=["chat", "purge"])
    assert result.exit_code == 0, result.output
    return result.output


def _ids(channel_id: int) -> list[int]:
    return list(
        db.session()
        .execute(select(Message.id).where(Message.channel_id == channel_id).order_by(Message.id))
        .scalars()
    )


def test_retention_defaults_to_forever_and_admins_set_it(people, soumu):
    assert db.session().get(Channel, soumu).retention_days is None
    response = _set(people["admin"], soumu, 365)
    assert response.status_code == 200 and response.get_json()["retention_days"] == 365
    entry = (
        db.session()
        .execute(select(AuditEntry).where(AuditEntry.action == "chat.channel.retention"))
        .scalar_one()
    )
    assert entry.actor == "admin" and entry.detail == {"from": None, "to": 365}
    assert _set(people["admin"], soumu, None).get_json()["retention_days"] is None


def test_only_administrators_set_retention_and_learn_nothing_otherwise(people, soumu):
    for name in ("sato", "yamada"):  # a 課長 and a member are not administrators
        assert _set(people[name], soumu, 30).status_code == 403
    assert _set(people["yamada"], 999999, 30).status_code == 403  # same answer for an unknown id
    assert _set(people["admin"], 999999, 30).status_code == 404
    assert db.session().get(Channel, soumu).retention_days is None


@pytest.mark.parametrize("bad", [0, -1, 36501, "30", 1.5, True, [30]])
def test_bad_retention_values_get_422(people, soumu, bad):
    response = _set(people["admin"], soumu, bad)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid"


def test_missing_retention_days_is_400(people, soumu):
    assert people["admin"].patch(f"/channels/{soumu}", {"name": "x"}).status_code == 400


def test_purge_hard_deletes_old_messages_with_their_history_and_audits_counts(app, people, soumu):
    old = _post(people["yamada"], soumu, "古い")
    people["yamada"].patch(f"/messages/{old}", {"body": "古い（訂正）"})
    older_deleted = _post(people["suzuki"], soumu, "消した")
    people["suzuki"].delete(f"/messages/{older_deleted}")
    kept = _post(people["yamada"], soumu, "新しい")
    _age(old, 40)
    _age(older_deleted, 31)
    _age(kept, 29)
    tanaka_channel = people["tanaka"].channel_id("企画財政課")
    forever = _post(people["tanaka"], tanaka_channel, "保存期間なし")
    _age(forever, 4000)
    _set(people["admin"], soumu, 30)

    output = _purge(app)

    assert f"channel {soumu}" in output and "2 messages" in output
    # The test app has no message queue: the operator learns that open pages will lag.
    assert "until they are reloaded (no WORKSPACE_REDIS_URL)" in output
    assert _ids(soumu) == [kept]
    assert _ids(tanaka_channel) == [forever]
    assert db.session().execute(select(func.count(MessageEdit.id))).scalar() == 0
    entry = db.session().execute(select(AuditEntry).where(AuditEntry.action == "chat.purge")).scalar_one()
    assert entry.target == f"channel:{soumu}" and entry.actor == "cli"
    assert entry.detail["messages"] == 2 and entry.detail["retention_days"] == 30
    again = _purge(app)
    assert "nothing to purge" in again and "WORKSPACE_REDIS_URL" not in again  # a second run finds nothing


def test_purge_removes_files_no_longer_referenced_and_keeps_shared_ones(app, people, soumu):
    only_old = people["yamada"].upload(soumu, _png((9, 9, 9)), "old.png").get_json()
    shared_old = people["yamada"].upload(soumu, _png((5, 5, 5)), "shared.png").get_json()
    shared_new = people["suzuki"].upload(soumu, _png((5, 5, 5)), "shared-again.png").get_json()
    old = _post(people["yamada"], soumu, "古い", attachment_ids=[only_old["id"], shared_old["id"]])
    _post(people["suzuki"], soumu, "新しい", attachment_ids=[shared_new["id"]])
    only_old_row = db.session().get(Attachment, only_old["id"])
    gone = {only_old_row.sha256, only_old_row.thumbnail_sha256}
    shared_row = db.session().get(Attachment, shared_new["id"])
    stays = {shared_row.sha256, shared_row.thumbnail_sha256}
    _age(old, 10)
    _set(people["admin"], soumu, 7)

    _purge(app)

    stored = files.stored_digests()
    assert not gone & stored and stays <= stored
    assert db.session().get(Attachment, only_old["id"]) is None
    assert people["suzuki"].get(f"/attachments/{shared_new['id']}").status_code == 200
    entry = db.session().execute(select(AuditEntry).where(AuditEntry.action == "chat.purge")).scalar_one()
    assert entry.detail["attachments"] == 2 and entry.detail["files"] == 2


def test_a_reply_kept_longer_than_its_purged_parent_survives(app, people, soumu):
    parent = _post(people["yamada"], soumu, "親")
    reply = _post(people["suzuki"], soumu, "返信", thread_id=parent)
    _age(parent, 10)
    _set(people["admin"], soumu, 7)
    _purge(app)
    assert _ids(soumu) == [reply]
    assert db.session().get(Message, reply).thread_id is None


def test_purge_announces_deletion_for_the_search_index(app, people, soumu):
    from workspace import signals

    old = _post(people["yamada"], soumu, "古い")
    _age(old, 10)
    _set(people["admin"], soumu, 7)
    seen = []

    def receiver(_sender, **kw):
        seen.append(kw)

    signals.message_deleted.connect(receiver)
    try:
        _purge(app)
    finally:
        signals.message_deleted.disconnect(receiver)
    assert seen == [{"message_id": old, "channel_id": soumu}]


def test_unsent_uploads_are_purged_after_a_day(app, people, soumu):
    pending = people["yamada"].upload(soumu, b"draft", "draft.txt").get_json()
    fresh = people["yamada"].upload(soumu, b"fresh", "fresh.txt").get_json()
    db.session().execute(
        update(Attachment)
        .where(Attachment.id == pending["id"])
        .values(created_at=utcnow() - dt.timedelta(hours=25))
    )
    db.session().commit()
    output = _purge(app)
    assert "unsent uploads: 0 messages, 1 attachments, 1 files removed" in output
    assert db.session().get(Attachment, pending["id"]) is None
    assert db.session().get(Attachment, fresh["id"]) is not None
    assert (
        db.session().execute(select(AuditEntry).where(AuditEntry.action == "chat.purge.unsent")).scalar_one()
    )


def test_purge_tells_the_channel_s_open_pages_which_messages_went(app, people, soumu):
    """Do members' sockets hear messages:purged with exactly the purged ids, and nobody else"""
    from tests.chat.conftest import connect, frames

    old = _post(people["yamada"], soumu, "古い連絡")
    kept = _post(people["yamada"], soumu, "新しい連絡")
    _age(old, 400)
    _set(people["admin"], soumu, 365)
    member, outsider = connect(people, "suzuki", "tanaka")
    _purge(app)
    assert frames(member, "messages:purged") == [("messages:purged", {"channel_id": soumu, "ids": [old]})]
    assert frames(outsider, "messages:purged") == []
    assert _ids(soumu) == [kept]
