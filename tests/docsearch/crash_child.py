"""A process that posts one chat message and kills itself (SIGKILL) at a chosen point.

Run by tests/docsearch/test_outbox_crash.py with the environment of a server on the test database:
    python -m tests.docsearch.crash_child POINT USERNAME BODY   (from the repository root)
POINT is where the process dies, between the message's insert and the search index write:
  inserted        the message is flushed, its transaction not committed
  committed       the transaction committed; nothing has been drained
  draining        the drain is reading the message to index it (index not written)
  indexed         the index is written, its outbox rows are not yet deleted
Exits 0 only if the point was never reached (the test then fails: the point must be reached).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from sqlalchemy import event
from sqlalchemy.orm import Session

from chat import messages, reads
from workspace import create_app, db
from workspace.models import User


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    point, username, body = sys.argv[1], sys.argv[2], sys.argv[3]
    app = create_app()
    armed = threading.Event()
    engine = app.extensions["db_engine"]

    if point == "inserted":
        event.listen(Session, "before_commit", lambda _s: armed.is_set() and die())
    elif point == "committed":
        event.listen(Session, "after_commit", lambda _s: armed.is_set() and die())
    else:

        @event.listens_for(engine, "before_cursor_execute")
        def _watch(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001, ANN202
            if not armed.is_set() or threading.current_thread() is threading.main_thread():
                return
            sql = statement.lstrip().upper()
            if point == "draining" and sql.startswith("SELECT") and "CHAT_MESSAGES" in sql:
                die()
            if point == "indexed" and sql.startswith("DELETE FROM SEARCH_OUTBOX"):
                die()

    with app.app_context():
        user = db.session().query(User).filter_by(username=username).one()
        channel = next(c for c, _n in reads.my_channels(user) if c.kind == "department")
        db.session().commit()  # the membership healing above is not what this test is about
        armed.set()
        messages.post(user, channel.id, body)
    time.sleep(30)  # the drain runs in the background: the point comes there
    sys.exit(0)


if __name__ == "__main__":
    main()
