"""Commands: init is idempotent, users are managed, the demo village is complete."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select

from workspace import db, directory
from workspace.models import Department, User


def test_workspace_init_twice_is_idempotent(tmp_path):
    env = {"WORKSPACE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "workspace", "init"], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert "database ready" in result.stdout
    assert (tmp_path / "workspace.sqlite3").exists()


def test_flask_cli_reaches_the_same_commands(tmp_path):
    env = {"WORKSPACE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_users_add_list_disable(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["departments", "add", "03", "住民課"])
    added = runner.invoke(
        args=[
            "users",
            "add",
            "kato",
            "--name",
            "加藤 浩",
            "--department",
            "03",
            "--title",
            "課長",
            "--role",
            "admin",
        ],
        input="long-password\nlong-password\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(args=["users", "list"])
    assert "kato" in listed.output and "住民課" in listed.output and "admin" in listed.output
    assert runner.invoke(args=["users", "disable", "kato"]).exit_code == 0
    assert directory.get_user("kato").active is False


def test_users_add_rejects_bad_input_and_changes_nothing(app):
    runner = app.test_cli_runner()
    bad_name = runner.invoke(
        args=["users", "add", "bad name!", "--name", "x"], input="long-password\nlong-password\n"
    )
    assert bad_name.exit_code != 0 and "ユーザー名" in bad_name.output
    short = runner.invoke(args=["users", "add", "ok", "--name", "x"], input="short\nshort\n")
    assert short.exit_code != 0
    unknown_dept = runner.invoke(
        args=["users", "add", "ok", "--name", "x", "--department", "99"],
        input="long-password\nlong-password\n",
    )
    assert unknown_dept.exit_code != 0
    assert db.session().execute(select(User)).first() is None


def test_demo_creates_the_village(app):
    result = app.test_cli_runner().invoke(args=["demo", "--empty", "--no-serve"])
    assert result.exit_code == 0, result.output
    names = set(db.session().execute(select(Department.name).where(Department.parent_id.is_(None))).scalars())
    assert {
        "総務課",
        "企画財政課",
        "住民課",
        "税務課",
        "健康福祉課",
        "産業振興課",
        "建設課",
        "会計課",
        "教育委員会事務局",
    } <= names
    titles = set(db.session().execute(select(User.title)).scalars())
    assert {"村長", "副村長", "課長", "係長", "主事"} <= titles
    assert "demo-2026-mura" in result.output and "soncho" in result.output
    # Running it again adds nobody.
    count = len(db.session().execute(select(User)).unique().scalars().all())
    app.test_cli_runner().invoke(args=["demo", "--empty", "--no-serve"])
    assert len(db.session().execute(select(User)).unique().scalars().all()) == count
