"""Read sessions: work that only reads neither waits for nor blocks this process's writers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from workspace import db
from workspace.models import User


def test_read_session_reads_while_a_writer_holds_the_lock(app, village):
    """Does a read session see committed rows while a write transaction is open in the same thread?"""
    with db.write() as writer:  # on SQLite: BEGIN IMMEDIATE, the process's writer lock is held
        writer.execute(text("SELECT 1"))
        with db.read_session() as reader:
            assert reader.execute(select(func.count()).select_from(User)).scalar_one() == len(village)


def test_read_session_does_not_see_uncommitted_writes(app, village):
    """Does a read session see the database as committed, not another session's pending rows?"""
    db.session().get(User, village["yamada"].id).display_name = "書きかけ"
    db.session().flush()
    with db.read_session() as reader:
        name = reader.execute(select(User.display_name).where(User.id == village["yamada"].id)).scalar_one()
    db.session().rollback()
    assert name == "山田 太郎"


def test_read_session_refuses_to_write_on_sqlite(app, village):
    """Does a write through a read session fail loudly instead of upgrading its lock behind the writers?"""
    if db.engine().dialect.name != "sqlite":
        pytest.skip("PostgreSQL read sessions are ordinary sessions")
    with db.read_session() as reader, pytest.raises(RuntimeError, match="may not write"):
        reader.execute(text("DELETE FROM users"))
    assert db.session().execute(select(func.count()).select_from(User)).scalar_one() == len(village)
