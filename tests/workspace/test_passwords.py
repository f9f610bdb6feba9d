"""Local passwords (workspace/passwords.py) and user names unique regardless of case, through the real
CLI, the sign-in form and migration 0004_username_nocase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from tests.conftest import PASSWORD, login, make_app
from workspace import db, directory, migrate, passwords
from workspace.models import User

WEAK = [
    pytest.param("aaaaaaaaaa", "同じ文字を繰り返した", id="all-same"),
    pytest.param("          ", "空白だけ", id="spaces"),
    pytest.param("\u3000" * 12, "空白だけ", id="ideographic-spaces"),
    pytest.param("pwtest2", "10文字以上", id="the-username-itself"),
    pytest.param("PWTEST2-2026", "ユーザー名を含む", id="contains-the-username"),
    pytest.param("password1234", "よく使われて", id="common"),
    pytest.param("ＰＡＳＳＷＯＲＤ１２３", "よく使われて", id="common-full-width"),
    pytest.param("Qwertyuiop", "よく使われて", id="common-keyboard-walk"),
    pytest.param("1234567890", "よく使われて", id="common-digits"),
    pytest.param("shintomura2026", "よく使われて", id="common-village"),
    pytest.param("short-pw", "10文字以上", id="short"),
    pytest.param("good-pass\x00word", "使えない文字", id="nul"),
]


def _add(app: Any, username: str, password: str) -> Any:
    return app.test_cli_runner().invoke(
        args=["users", "add", username, "--name", "試験 太郎"], input=f"{password}\n{password}\n"
    )


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_users_add_refuses_a_weak_password_and_stores_nothing(app: Any, password: str, message: str) -> None:
    result = _add(app, "pwtest2", password)
    assert result.exit_code != 0 and message in result.output
    assert db.session().execute(select(User)).first() is None


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_set_password_refuses_a_weak_password_and_keeps_the_old(
    app: Any, client: Any, password: str, message: str
) -> None:
    assert _add(app, "pwtest2", PASSWORD).exit_code == 0
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "pwtest2"], input=f"{password}\n{password}\n"
    )
    assert result.exit_code != 0 and message in result.output
    assert login(client, "pwtest2", PASSWORD).status_code == 302


def test_a_short_username_is_only_refused_as_the_whole_password(app: Any) -> None:
    """Choice: a 1–2 character user name inside a password is not refused (it would forbid too much)."""
    assert _add(app, "ab", "ab-tsukimi-dango").exit_code == 0


def test_a_good_password_is_accepted_and_signs_in(app: Any, client: Any) -> None:
    assert _add(app, "pwtest2", "tsukimi-dango-7").exit_code == 0
    assert login(client, "pwtest2", "tsukimi-dango-7").status_code == 302


def test_the_shipped_lists_are_loaded() -> None:
    common = passwords.common_passwords()
    assert len(common) > 1500 and {"password123", "qwertyuiop", "1234567890", "doraemon123"} <= common


# --- user names unique regardless of case ---------------------------------------------------------


def test_a_name_differing_only_in_case_is_refused(app: Any) -> None:
    assert _add(app, "pwtest2", PASSWORD).exit_code == 0
    result = _add(app, "PWTEST2", PASSWORD)
    assert result.exit_code != 0 and "すでに使われています" in result.output
    assert db.session().execute(select(sa.func.count(User.id))).scalar() == 1


def test_sign_in_finds_the_account_whatever_the_case(app: Any, client: Any) -> None:
    assert _add(app, "pwtest2", PASSWORD).exit_code == 0
    assert login(client, "PwTest2", PASSWORD).status_code == 302
    assert client.get("/api/v1/me").get_json()["username"] == "pwtest2"


def test_the_database_refuses_a_case_clash_that_bypasses_the_service(app: Any) -> None:
    assert _add(app, "pwtest2", PASSWORD).exit_code == 0
    with pytest.raises(sa.exc.IntegrityError):
        db.session().execute(
            sa.text("INSERT INTO users (username, display_name, source, active, created_at, updated_at)"
                    " VALUES ('PWTEST2', 'x', 'local', true, :t, :t)"),
            {"t": "2026-12-03 00:00:00"},
        )
        db.session().flush()
    db.session().rollback()


def _has_index() -> bool:
    # SQLite's reflection skips expression indexes: ask its catalogue.
    found = db.session().execute(
        sa.text("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'uq_users_username_lower'")
    )
    return found.first() is not None


def test_the_migration_reports_existing_clashes_and_changes_nothing(tmp_path: Path) -> None:
    """A database with pwtest2 and PWTEST2: `workspace init` refuses, names both, creates no index;
    after `workspace users rename` it succeeds."""
    app = make_app(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path / "data")
    cfg = migrate.alembic_config(app)
    with app.app_context():
        migrate.upgrade(app)
        command.downgrade(cfg, "0003_notifications")  # as the old code left the database
        # Written as the old code wrote them (today's code expects today's schema).
        for name, display in (("pwtest2", "試験 一"), ("PWTEST2", "試験 二")):
            db.session().execute(
                sa.text("INSERT INTO users (username, display_name, source, active, created_at, updated_at)"
                        " VALUES (:u, :d, 'local', 1, :t, :t)"),
                {"u": name, "d": display, "t": "2026-12-03 00:00:00"},
            )
        db.session().commit()
        runner = app.test_cli_runner()
        refused = runner.invoke(args=["init"])
        assert refused.exit_code != 0
        assert "pwtest2 (id 1, local, 有効), PWTEST2 (id 2, local, 有効)" in refused.output
        assert "workspace users rename" in refused.output
        assert not _has_index()
        renamed = runner.invoke(args=["users", "rename", "PWTEST2", "pwtest2-b"])
        assert renamed.exit_code == 0, renamed.output
        done = runner.invoke(args=["init"])
        assert done.exit_code == 0, done.output
        assert _has_index()
    app.extensions["db_engine"].dispose()


def test_rename_refuses_a_name_that_clashes_in_case(app: Any) -> None:
    assert _add(app, "pwtest2", PASSWORD).exit_code == 0
    assert _add(app, "other", PASSWORD).exit_code == 0
    result = app.test_cli_runner().invoke(args=["users", "rename", "other", "PWTEST2"])
    assert result.exit_code != 0 and "すでに使われています" in result.output
    assert directory.get_user("other") is not None
