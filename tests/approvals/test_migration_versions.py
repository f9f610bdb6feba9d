"""Migration 0004: requests submitted before it get their version, and a sent-back one its drafter's task."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from approvals import route_store, service
from tests.approvals import test_service_support as support
from tests.conftest import PASSWORD, make_app
from workspace import db, directory, migrate

shared_keys = support.shared_keys


def test_upgrade_gives_earlier_requests_one_version_and_sent_back_ones_a_drafter_task(
    tmp_path: Path, shared_keys: str
) -> None:
    """After upgrading, does a request submitted before 0004 carry version 1 with its content, and does
    a request sent back before 0004 wait in its drafter's 未処理?"""
    app = make_app(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path / "data", APPROVALS_KEY_DIR=shared_keys)
    cfg = migrate.alembic_config(app)
    with app.app_context():
        migrate.upgrade(app)
        directory.ensure_department("01", "総務課", prefix="総")
        db.session().commit()
        people = {
            "yamada": directory.add_local_user(
                "yamada", "山田 太郎", PASSWORD, department_code="01", title="主事"
            ),
            "sato": directory.add_local_user(
                "sato", "佐藤 一郎", PASSWORD, department_code="01", title="課長"
            ),
            "suzuki": directory.add_local_user(
                "suzuki", "鈴木 花子", PASSWORD, department_code="01", title="係長"
            ),
        }
        admin = directory.add_local_user(
            "admin", "管理 太郎", PASSWORD, department_code="01", roles=("admin",)
        )
        route_store.save(support.GENERAL, admin)
        db.session().commit()
        row = service.create(
            people["yamada"], {"route": "general", "title": "旧版の起案", "body": "本文", "submit": True}
        )
        request_id = row.id
        service.act(people["suzuki"], request_id, "send_back", comment="直してください")
        draft_id = service.create(people["yamada"], {"route": "general", "title": "下書き"}).id
        db.session().commit()

        command.downgrade(cfg, "0003_approvals_utc_repair")  # as the old code left the database
        tasks = "SELECT kind FROM approval_tasks WHERE request_id = :i AND user_id = :u"
        params = {"i": request_id, "u": people["yamada"].id}
        assert db.session().execute(sa.text(tasks), params).all() == []
        db.session().commit()

        command.upgrade(cfg, "heads")
        versions = (
            db.session().execute(sa.text("SELECT request_id, n, title, body FROM approval_versions")).all()
        )
        assert [tuple(v) for v in versions] == [(request_id, 1, "旧版の起案", "本文")]  # the draft has none
        assert [k for (k,) in db.session().execute(sa.text(tasks), params)] == ["pending"]
        assert draft_id not in {v[0] for v in versions}
        db.session().rollback()
    app.extensions["db_engine"].dispose()
