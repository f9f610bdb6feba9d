"""Migration 0004_chat_thread_broadcast: replies written before it stay in the timeline, nothing is lost."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from tests.conftest import PASSWORD, make_app
from workspace import db, directory, migrate

CHANNEL = "INSERT INTO chat_channels (id, kind, name, created_at) VALUES (100, 'public', 'x', '2026-12-01')"
MESSAGE = (
    "INSERT INTO chat_messages (id, channel_id, author_id, body, thread_id, created_at)"
    " VALUES (:id, 100, :a, :b, :t, '2026-12-01')"
)
REACTION = (
    "INSERT INTO chat_reactions (message_id, user_id, emoji, created_at) VALUES (101, :a, '👍', '2026-12-01')"
)
FLAGS = "SELECT id, also_in_channel FROM chat_messages WHERE channel_id = 100 ORDER BY id"


def test_replies_written_before_the_flag_stay_in_the_timeline(tmp_path: Path) -> None:
    """Does the upgrade mark old replies also_in_channel (they were drawn there), and keep reactions?"""
    app = make_app(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path / "data")
    cfg = migrate.alembic_config(app)
    with app.app_context():
        migrate.upgrade(app)
        command.downgrade(cfg, "0002_chat_attachments")
        directory.ensure_department("01", "総務課")
        db.session().commit()
        yamada = directory.add_local_user("yamada", "山田 太郎", PASSWORD, department_code="01")
        db.session().commit()
        session = db.session()
        session.execute(sa.text(CHANNEL))
        session.execute(sa.text(MESSAGE), {"id": 101, "a": yamada.id, "b": "親", "t": None})
        session.execute(sa.text(MESSAGE), {"id": 102, "a": yamada.id, "b": "返信", "t": 101})
        session.execute(sa.text(REACTION), {"a": yamada.id})
        session.commit()
        command.upgrade(cfg, "heads")
        rows = session.execute(sa.text(FLAGS)).all()
        reactions = session.execute(sa.text("SELECT count(*) FROM chat_reactions")).scalar_one()
        session.commit()
        assert [(i, bool(flag)) for i, flag in rows] == [(101, False), (102, True)]
        assert reactions == 1  # the column was added in place: no table copy cascading into children
    app.extensions["db_engine"].dispose()
