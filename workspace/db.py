"""Database: engine, a session scoped to the app context, and the write unit.

One SQLAlchemy session per app context (HTTP request, Socket.IO event, CLI command), removed at
teardown. SQLite gets WAL, foreign keys and a busy timeout.

The transaction model (the same on both databases):

* A read is a plain transaction, deferred on SQLite (``BEGIN``): it takes no lock, WAL gives it a
  snapshot, and it ends when the session is closed at teardown (or at ``end_read()``). Reads never
  commit.
* A write unit is declared: ``@writes`` on a service function or ``with write():``. It is the only
  place that writes and the only place that commits. It commits on success, rolls back on error,
  and then runs the ``on_commit`` callbacks registered inside it (Socket.IO emits, notifications,
  background jobs), once, with the session free to read or to open a write unit of its own.
* Nested write units join the outermost one; only the outermost commits, so services compose.
  An error that escapes an inner unit and is caught by the caller does not roll back by itself.
* On SQLite a write unit takes this process's writer lock and ``BEGIN IMMEDIATE``, so two writers
  never deadlock on a lock upgrade and a read-then-write rule check (an approval step, a sequence
  number) cannot interleave with another writer. The rule: a read transaction still open on the
  session when the unit starts is ended first (it only read, so nothing is undone): upgrading a
  deferred transaction to a write would either fail (its snapshot is older than another writer's
  commit) or busy-wait in C, which under gevent freezes the process. Queries inside the unit see
  the current rows; objects loaded before it keep the values they were read with, so a rule that
  must see the current row re-reads it in the unit (approvals lock the request, populate_existing).
* A write statement outside a write unit fails loudly on SQLite in tests (``RuntimeError``) when it
  comes from the application's packages; that is how a missed writer is found. Tests, benchmarks and
  migrations, which are outside the rule, write as before: their statement takes the writer lock.

Work that only reads in a session of its own (the search indexer loading what it owes the index)
uses ``read_session()``: such a session refuses to write.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


WRITER_WAIT_SECONDS = 30  # as long as SQLite's busy timeout: then "database is locked", never a hang
READ_ONLY = "workspace_read_only"  # execution option of the engine behind read_session()
WRITE = "workspace_write"  # execution option of a write unit's connection: BEGIN IMMEDIATE
_HOLDS_WRITER = "workspace_holds_writer"  # in Connection.info while it holds the writer lock
_DEPTH = "workspace_write_depth"  # in Session.info: how many write units are open on it
_CALLBACKS = "on_commit"  # in Session.info: callbacks waiting for the next commit

_READ_STATEMENTS = ("SELECT", "WITH", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
_THIS_FILE = str(Path(__file__).resolve())
_ROOT = Path(__file__).resolve().parent.parent
_APP_DIRS = tuple(f"{_ROOT / name}/" for name in ("workspace", "chat", "approvals", "docsearch"))
_MIGRATIONS = tuple(f"{directory}migrations/" for directory in _APP_DIRS)
_OUTSIDE_THE_RULE = (*_MIGRATIONS, f"{_ROOT / 'tests'}/", f"{_ROOT / 'bench'}/")

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Declarative base of every model in every package."""

    metadata = MetaData(naming_convention=NAMING)


class WorkspaceSession(Session):
    """A session whose commit also runs the on_commit callbacks (once the write unit has ended)."""

    def commit(self) -> None:
        outside = not self.info.get(_DEPTH)
        if outside and self.in_transaction() and (self.new or self.dirty or self.deleted):
            # A commit outside a write unit is a test's own (the application commits only in
            # write()): what it flushes, flush hooks included, may write.
            self.connection().execution_options(**{WRITE: True})
        super().commit()
        if outside:
            _run_callbacks(self)  # write() runs them itself, once its unit has ended


def make_engine(url: str, *, strict: bool = False) -> Engine:
    """Return an engine for url with the SQLite pragmas we rely on.

    strict: on SQLite, a write by the application outside a write unit raises (tests).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine, strict=strict)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class _WriterLock:
    """This process's SQLite writer lock, held by one connection from its BEGIN IMMEDIATE to its end.

    SQLite's busy wait blocks in C. Under gevent that freezes every greenlet, including the one
    holding the write lock, so writers of this process queue on a (monkey-patched, cooperative)
    lock first; SQLite's own busy timeout then only arbitrates between processes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def take(self, conn: Any) -> None:
        if conn.info.get(_HOLDS_WRITER):
            return
        if not self._lock.acquire(timeout=WRITER_WAIT_SECONDS):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        conn.info[_HOLDS_WRITER] = True

    def release(self, conn: Any) -> None:
        if conn.info.pop(_HOLDS_WRITER, False):
            self._lock.release()


def _tune_sqlite(engine: Engine, *, strict: bool) -> None:
    writer = _WriterLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can BEGIN (IMMEDIATE) ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(WRITE):
            conn.exec_driver_sql("BEGIN")  # a read: deferred, no lock until it writes
            return
        writer.take(conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release(conn)
            raise

    @event.listens_for(engine, "before_cursor_execute")
    def _check_write(
        conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _executemany: bool
    ) -> None:
        if conn.info.get(_HOLDS_WRITER) or conn.get_execution_options().get(READ_ONLY) or _reads(statement):
            return
        if not conn.get_execution_options().get(WRITE) and _written_by_the_application():
            if strict:
                raise RuntimeError(f"write outside a write unit (db.write, @db.writes): {statement[:60]}")
            log.error("write outside a write unit: %s", statement[:60], stack_info=True)
        # A unit that joined a transaction already open (see _begin_write), or a write outside the
        # rule (a test, a migration). Holding no writer lock, this transaction has only read so far,
        # and its snapshot may be older than another connection's commit (the server process of a
        # browser test): SQLite refuses to upgrade such a snapshot to a write ("database is
        # locked"). So the read is ended and the transaction starts again as a writer, under the lock.
        writer.take(conn)
        raw = conn.connection.dbapi_connection
        raw.execute("COMMIT")
        raw.execute("BEGIN IMMEDIATE")

    event.listen(engine, "commit", writer.release)
    event.listen(engine, "rollback", writer.release)


def _reads(statement: str) -> bool:
    return statement.lstrip()[:9].upper().startswith(_READ_STATEMENTS)


def _written_by_the_application() -> bool:
    """Is the nearest caller among our own files (other than this one) in an application package?"""
    # Library frames (SQLAlchemy, contextlib) are passed over: who wrote is the nearest of our files.
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name != _THIS_FILE:
            if name.startswith(_OUTSIDE_THE_RULE):
                return False
            if name.startswith(_APP_DIRS):
                return True
        frame = frame.f_back
    return False


def _refuse_writes(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _executemany: bool
) -> None:
    # A write inside a deferred transaction would have to upgrade its lock outside the writer lock:
    # under gevent that busy-waits in C and freezes the process. Fail loudly instead.
    if not statement.lstrip()[:7].upper().startswith(("SELECT", "WITH", "PRAGMA", "BEGIN")):
        raise RuntimeError(f"read_session() may not write: {statement[:60]}")


def init_app(app: Flask) -> None:
    """Create the engine and session factory for app and remove the session at teardown."""
    strict = bool(app.testing)
    engine = make_engine(app.config["DATABASE_URL"], strict=strict)
    app.extensions["db_engine"] = engine
    app.extensions["db_strict"] = strict and engine.dialect.name == "sqlite"
    app.extensions["db_sessionmaker"] = sessionmaker(
        bind=engine, class_=WorkspaceSession, expire_on_commit=False
    )
    read_engine = engine.execution_options(**{READ_ONLY: True})
    if engine.dialect.name == "sqlite":
        event.listen(read_engine, "before_cursor_execute", _refuse_writes)
    app.extensions["db_read_sessionmaker"] = sessionmaker(bind=read_engine, expire_on_commit=False)
    app.teardown_appcontext(_remove_session)


def engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions["db_engine"]


def read_session() -> Session:
    """Return a new session (the caller closes it) for work that only reads.

    On SQLite it neither waits for nor blocks this process's writers; on PostgreSQL it is an
    ordinary session. Any INSERT/UPDATE/DELETE through it raises RuntimeError on SQLite.
    """
    return current_app.extensions["db_read_sessionmaker"]()


def session() -> Session:
    """Return the session of the current app context, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
        _install_rollback_hook(g.db_session)
    return g.db_session


def _remove_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()  # ends the read transaction, if any


def _install_rollback_hook(db_session: Session) -> None:
    @event.listens_for(db_session, "after_soft_rollback")
    def _discard(sess: Session, _previous: Any) -> None:
        sess.info.pop(_CALLBACKS, None)


def end_read() -> None:
    """End the read transaction of the current session now (outside a write unit).

    For a long-lived context (a Socket.IO connection, a loop in a command) that should not keep
    its snapshot; a request's read ends at teardown without this.
    """
    sess = session()
    if sess.info.get(_DEPTH):
        raise RuntimeError("end_read() inside a write unit")
    callbacks = sess.info.pop(_CALLBACKS, None)
    sess.rollback()
    if callbacks:
        sess.info[_CALLBACKS] = callbacks


def in_write_unit(sess: Session | None = None) -> bool:
    """Is a write unit open on sess (default: the current session)?"""
    return bool((sess if sess is not None else session()).info.get(_DEPTH))


@contextlib.contextmanager
def write(sess: Session | None = None) -> Iterator[Session]:
    """A write unit on sess (default: the current session); joins the unit already open on it.

    The outermost unit commits when the block ends, rolls back when it raises, and then runs the
    callbacks registered with on_commit.
    """
    sess = sess if sess is not None else session()
    depth = sess.info.get(_DEPTH, 0)
    if depth:
        sess.info[_DEPTH] = depth + 1
        try:
            yield sess
        finally:
            sess.info[_DEPTH] = depth
        return
    _begin_write(sess)
    sess.info[_DEPTH] = 1
    try:
        yield sess
        sess.commit()
    except BaseException:
        sess.rollback()
        raise
    finally:
        sess.info.pop(_DEPTH, None)
    _run_callbacks(sess)


def writes(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a service function: it runs in a write unit (joining the caller's, if any)."""

    @functools.wraps(function)
    def in_unit(*args: P.args, **kwargs: P.kwargs) -> R:
        with write():
            return function(*args, **kwargs)

    return in_unit


def joins_unit(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function that writes only as part of its caller's write unit (it never commits).

    Called outside a unit by the application it raises on SQLite in tests (and is logged
    elsewhere); a test may call it in a transaction of its own, which it then commits or rolls back.
    """

    @functools.wraps(function)
    def in_callers_unit(*args: P.args, **kwargs: P.kwargs) -> R:
        sess = session()
        if not sess.info.get(_DEPTH) and not _may_write(sess):
            _outside_a_unit(sess, function.__qualname__)
        return function(*args, **kwargs)

    return in_callers_unit


def _may_write(sess: Session) -> bool:
    return sess.in_transaction() and bool(sess.connection().get_execution_options().get(WRITE))


def _outside_a_unit(sess: Session, what: str) -> None:
    if _written_by_the_application():
        if current_app.extensions.get("db_strict"):
            raise RuntimeError(f"{what} writes in its caller's write unit, and none is open")
        log.error("%s called outside a write unit", what, stack_info=True)
    sess.connection().execution_options(**{WRITE: True})  # this transaction may write (the lock at once)


def _begin_write(sess: Session) -> None:
    if sess.in_transaction():
        conn = sess.connection()
        if sess.new or sess.dirty or sess.deleted or conn.info.get(_HOLDS_WRITER):
            # Changes made before the unit (a test's: the application writes only inside units)
            # join it; on SQLite this transaction takes the writer lock at its next write.
            conn.execution_options(**{WRITE: True})
            return
        # End the read before BEGIN IMMEDIATE (see the module docstring); its callbacks wait on.
        # It only read, so its COMMIT undoes nothing, exactly like a ROLLBACK; unlike the ORM's
        # rollback it keeps the objects loaded (the signed-in user is not loaded again per write).
        callbacks = sess.info.pop(_CALLBACKS, None)
        sess.commit()
        if callbacks:
            sess.info[_CALLBACKS] = callbacks
    sess.connection(execution_options={WRITE: True})


def _run_callbacks(sess: Session) -> None:
    for callback in sess.info.pop(_CALLBACKS, []):
        try:
            callback()
        except Exception:  # an emit failing must not undo or mask the committed work
            current_app.logger.exception("after-commit callback failed")


def on_commit(callback: Callable[[], None]) -> None:
    """Run callback after the current write unit commits; drop it if the unit rolls back.

    This is how side effects (Socket.IO emits, index updates, background jobs) wait for the data
    they describe. Outside a write unit it waits for the session's next commit.
    """
    sess = session()
    if not sess.in_transaction():
        # Begin the session transaction (no connection yet) so that a rollback before the next
        # commit fires after_soft_rollback and discards the callback.
        sess.begin()
    sess.info.setdefault(_CALLBACKS, []).append(callback)
