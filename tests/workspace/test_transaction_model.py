"""One transaction model: plain reads, declared write units that alone commit, one after-commit hook."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from workspace import audit, db
from workspace.models import AuditEntry, User

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workspace", "chat", "approvals", "docsearch")


def _commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
        and not node.args
        and not node.keywords
    ]


def _sources() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or relative == Path("workspace/db.py"):
                continue
            found.append(path)
    return found


def test_no_module_outside_the_write_units_commits():
    """Does `.commit()` appear nowhere in the application's packages but workspace/db.py (and migrations)?"""
    sources = _sources()
    assert len(sources) > 50  # the walk really saw the packages
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in sources for line in _commit_calls(p)]
    assert offenders == []


def test_the_source_check_sees_a_commit(tmp_path):
    """Would the check above find a commit call (the rule's test is not one that cannot fail)?"""
    sample = tmp_path / "sample.py"
    sample.write_text("def f(s):\n    s.flush()\n    s.commit()\n    writer.commit(merge=False)\n")
    assert _commit_calls(sample) == [3]


def _count_commits(app) -> list[int]:
    commits: list[int] = []
    event.listen(db.session(), "after_commit", lambda _s: commits.append(1))
    return commits


def _entries() -> int:
    return db.session().execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_nested_write_units_commit_once_at_the_outermost(app):
    """Does an inner write unit join the outer one, so that only the outermost commits?"""
    commits = _count_commits(app)

    @db.writes
    def inner() -> None:
        audit.record("test.inner", actor="tester")

    with db.write():
        inner()
        with db.write():
            audit.record("test.nested", actor="tester")
        assert commits == [] and db.in_write_unit()
    assert commits == [1] and not db.in_write_unit()
    assert _entries() == 2


def test_an_error_rolls_back_and_drops_the_callbacks(app):
    """Does an error in a (nested) unit undo all of the unit's writes and never run its callbacks?"""
    ran: list[str] = []
    with pytest.raises(ValueError), db.write():
        audit.record("test.outer", actor="tester")
        db.on_commit(lambda: ran.append("outer"))
        with db.write():
            db.on_commit(lambda: ran.append("inner"))
            raise ValueError("refused")
    assert ran == [] and _entries() == 0
    with db.write():  # the session goes on: the next unit commits and runs only its own callbacks
        db.on_commit(lambda: ran.append("next"))
    assert ran == ["next"]


def test_callbacks_run_after_the_commit_once_and_may_write(app):
    """Do callbacks run once, after the data is committed, with the session free for a unit of its own?"""
    seen: list[int] = []

    def after() -> None:
        with db.read_session() as other:  # another connection sees the committed row
            seen.append(other.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
        with db.write():  # the callback writes in a unit of its own (the LDAP sign-in bug)
            audit.record("test.after", actor="tester")

    with db.write():
        audit.record("test.cause", actor="tester")
        db.on_commit(after)
        assert seen == []
    assert seen == [1] and _entries() == 2
    with db.write():
        pass
    assert seen == [1]  # once


def test_a_write_unit_ends_the_read_it_finds_open(app, village):
    """Does a unit end the plain read open on the session, so that it reads and writes current rows?"""
    user = db.session().get(User, village["yamada"].id)  # a plain read: a transaction is open now
    assert db.session().in_transaction()
    with db.engine().begin() as other:  # someone else's change, committed after that read began
        other.execute(text("UPDATE users SET title = '係長' WHERE id = :id"), {"id": user.id})
    with db.write():
        # A fresh snapshot: the read was ended (on SQLite, its old snapshot would not see the change).
        assert db.session().execute(select(User.title).where(User.id == user.id)).scalar_one() == "係長"
        db.session().refresh(user)
        user.title = "主事"
    assert db.session().execute(select(User.title).where(User.id == user.id)).scalar_one() == "主事"


def _sqlite_only() -> None:
    if db.engine().dialect.name != "sqlite":
        pytest.skip("the writer lock and the write check are SQLite's")


def test_a_plain_read_does_not_take_the_writer_lock(app, village):
    """On SQLite, does a write unit in another thread go through while this session holds a read open?"""
    _sqlite_only()
    before = _entries()
    reader = db.session()
    reader.execute(select(User)).all()  # a plain (deferred) read, left open
    assert reader.in_transaction()
    done = threading.Event()
    errors: list[BaseException] = []

    def write_elsewhere() -> None:
        try:
            with app.app_context(), db.write():
                audit.record("test.elsewhere", actor="tester")
            done.set()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
            done.set()

    worker = threading.Thread(target=write_elsewhere)
    worker.start()
    # Were the read holding the writer lock, the writer would wait WRITER_WAIT_SECONDS and fail.
    worker.join(timeout=db.WRITER_WAIT_SECONDS + 5)
    assert done.is_set() and errors == []
    assert reader.in_transaction()  # the read was never ended for the writer's sake
    reader.rollback()
    assert _entries() == before + 1


def test_a_write_unit_holds_the_writer_lock(app, village):
    """On SQLite, does a second writer wait for the unit that holds the lock (and not for a reader)?"""
    _sqlite_only()
    order: list[str] = []
    started = threading.Event()

    def write_elsewhere() -> None:
        started.set()
        with app.app_context(), db.write():
            order.append("second")
            audit.record("test.second", actor="tester")

    with db.write():
        audit.record("test.first", actor="tester")
        worker = threading.Thread(target=write_elsewhere)
        worker.start()
        started.wait()
        worker.join(timeout=0.5)  # it cannot begin while this unit holds the lock
        order.append("first done")
    worker.join()
    assert order == ["first done", "second"]


def test_a_write_outside_a_write_unit_raises_on_sqlite(app, village):
    """Does an application write with no write unit open fail loudly (tests run strict)?"""
    _sqlite_only()
    before = _entries()
    with pytest.raises(RuntimeError, match="writes in its caller's write unit"):
        _application_write()
    db.session().rollback()
    with pytest.raises(RuntimeError, match="write outside a write unit"):
        _application_autoflush(village["yamada"].id)
    db.session().rollback()
    assert _entries() == before


def _application_write() -> None:
    # Compiled as if it were a module of the application: the check looks at who writes.
    code = compile("audit.record('test.stray', actor='tester')", str(ROOT / "workspace" / "stray.py"), "exec")
    exec(code, {"audit": audit})  # noqa: S102 - a fixed string


def _application_autoflush(user_id: int) -> None:
    code = compile(
        "user = db.session().get(User, user_id)\nuser.title = 'x'\ndb.session().execute(select(User)).all()",
        str(ROOT / "chat" / "stray.py"),
        "exec",
    )
    exec(code, {"db": db, "User": User, "select": select, "user_id": user_id})  # noqa: S102


def test_a_write_after_another_process_committed_does_not_fail_on_a_stale_read(app, village):
    """A read left open, another connection commits, then this session writes: does the write go through?

    SQLite refuses to upgrade a read whose snapshot is older than another connection's commit
    ("database is locked", at once). A browser test reads, the server process writes, the test writes
    (seen in tests/e2e/test_chat_reading.py); a unit that joins changes made before it does the same.
    """
    import sqlite3

    _sqlite_only()
    session = db.session()
    session.execute(select(User)).all()  # a plain (deferred) read, left open
    path = db.engine().url.database
    other = sqlite3.connect(path, timeout=30)  # another process, as the live server is
    other.execute("UPDATE users SET title = '係長' WHERE username = 'sato'")
    other.commit()
    other.close()
    session.execute(text("UPDATE users SET title = '主査' WHERE username = 'suzuki'"))  # a test's write
    session.commit()
    with db.read_session() as fresh:
        titles = dict(fresh.execute(text("SELECT username, title FROM users")).all())
    assert titles["sato"] == "係長" and titles["suzuki"] == "主査"
