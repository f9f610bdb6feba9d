"""Database: engine, a session scoped to the app context, and commit hooks.

One SQLAlchemy session per app context (HTTP request, Socket.IO event, CLI command), removed at
teardown. SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE: every transaction takes
the write lock up front, so two writers never deadlock on a lock upgrade and a read-then-write rule
check (an approval step, a sequence number) cannot interleave with another writer.

Work that only reads (the search indexer loading what it owes the index) uses ``read_session()``:
on SQLite its transactions are plain deferred BEGINs outside the writer lock, so they never make a
writer wait; WAL gives them a consistent snapshot. Such a session refuses to write.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

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


class Base(DeclarativeBase):
    """Declarative base of every model in every package."""

    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str) -> Engine:
    """Return an engine for url with the SQLite pragmas we rely on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _tune_sqlite(engine: Engine) -> None:
    # SQLite's busy wait blocks in C. Under gevent that freezes every greenlet, including the one
    # holding the write lock, so writers of this process queue on a (monkey-patched, cooperative)
    # lock first; SQLite's own busy timeout then only arbitrates between processes.
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # A deferred read takes no lock until it writes, and read_session() never writes.
            conn.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=WRITER_WAIT_SECONDS):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        conn.info["holds_writer"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Any) -> None:
        if conn.info.pop("holds_writer", False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


def _refuse_writes(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _executemany: bool
) -> None:
    # A write inside a deferred transaction would have to upgrade its lock outside the writer lock:
    # under gevent that busy-waits in C and freezes the process. Fail loudly instead.
    if not statement.lstrip()[:7].upper().startswith(("SELECT", "WITH", "PRAGMA", "BEGIN")):
        raise RuntimeError(f"read_session() may not write: {statement[:60]}")


def init_app(app: Flask) -> None:
    """Create the engine and session factory for app and remove the session at teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
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
        _install_commit_hooks(g.db_session)
    return g.db_session


def _remove_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def _install_commit_hooks(db_session: Session) -> None:
    @event.listens_for(db_session, "after_commit")
    def _run(sess: Session) -> None:
        callbacks = sess.info.pop("on_commit", [])
        for callback in callbacks:
            try:
                callback()
            except Exception:  # an emit failing must not undo or mask the committed work
                current_app.logger.exception("after-commit callback failed")

    @event.listens_for(db_session, "after_soft_rollback")
    def _discard(sess: Session, _previous: Any) -> None:
        sess.info.pop("on_commit", None)


def on_commit(callback: Callable[[], None]) -> None:
    """Run callback after the current transaction commits; drop it if the transaction rolls back.

    This is how side effects (Socket.IO emits, index updates) wait for the data they describe.
    """
    sess = session()
    if not sess.in_transaction():
        # Begin the session transaction (no connection yet) so that a rollback before the next
        # commit fires after_soft_rollback and discards the callback.
        sess.begin()
    sess.info.setdefault("on_commit", []).append(callback)


def in_own_transaction(work: Callable[[], None], what: str) -> None:
    """Run work in an app context (so a session and transaction) of its own; log, never raise, a failure.

    For a signal receiver whose work must not share, or be undone with, the sender's transaction
    (filing a decided 決裁, settling a 廃棄 proposal).  On SQLite, when the sender's transaction is
    still open it holds the write lock the fresh session would wait for, so the work runs once that
    transaction commits (and not at all if it rolls back); otherwise it runs at once.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        try:
            with app.app_context():
                work()
        except Exception:  # the sender's work stands; the caller offers a command that repairs
            logging.getLogger(getattr(work, "__module__", __name__)).exception("%s failed", what)

    sess = session()
    if sess.in_transaction() and sess.get_bind().dialect.name == "sqlite":
        on_commit(run)
    else:
        run()
