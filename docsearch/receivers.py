"""Signal receivers: approvals and chat announce changes; docsearch owes the index an update.

The senders emit inside their own transaction, just before it commits, so every row owed here is
written on the sender's session and commits with the change or not at all: a crash after the commit
leaves the row for the next drain (the next start of ``workspace serve`` drains what is pending), a
crash before it leaves neither.  The drain reads each object's current state, so one kind of row
serves created, edited and deleted messages alike.  It runs on the background drainer: a chat message
is posted without waiting for the index.

When ``workspace serve`` starts (``server_started``) it drains what an earlier process left; when it
stops (``server_stopping``), the rows committed just before are applied at once.

``approval_decided`` (sent inside the record's job) owes the filing of the signed record in the
registry (``docsearch.filing``); a decided ``approval_changed`` owes the settling of a 廃棄 proposal
(``docsearch.disposal_approval``).  Both are outbox jobs (``workspace.outbox``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from docsearch import disposal_approval, filing, indexer
from workspace import db, signals

log = logging.getLogger(__name__)


def _owe(kind: str, object_id: Any) -> None:
    if object_id is None:
        return
    with db.write():  # joins the sender's write unit (signals are sent inside it)
        indexer.enqueue(kind, int(object_id))
        # The sender does not wait for the index: the background drain picks the row up after the
        # commit that makes it durable (the sender's).
        indexer.drain_after_commit(wait=False)


def _on_message(_sender: Any = None, **kwargs: Any) -> None:
    _owe("message", kwargs.get("message_id"))


def _on_approval(_sender: Any = None, **kwargs: Any) -> None:
    _owe("approval", kwargs.get("request_id"))


def _on_server_stopping(app: Flask, **_kwargs: Any) -> None:
    if not app.config.get("SEARCH_DRAIN_ON_COMMIT", True):
        return  # a separate `workspace index drain` worker applies the outbox
    with app.app_context():
        if indexer.pending() and not indexer.drain_before_exit():
            log.warning("search index not caught up at shutdown; the outbox rows wait for the next drain")


def _on_server_started(app: Flask, **_kwargs: Any) -> None:
    # Rows an earlier process committed but did not drain (it was killed): apply them now.
    if not app.config.get("SEARCH_DRAIN_ON_COMMIT", True):
        return
    with app.app_context():
        if indexer.pending():
            indexer.request_drain()


def connect(app: Flask) -> None:
    """Subscribe to the chat and approval signals (once per process; receivers use current_app)."""
    del app  # receivers look up the app of the sending context
    for signal in (signals.message_created, signals.message_edited, signals.message_deleted):
        signal.connect(_on_message, weak=False)
    signals.approval_changed.connect(_on_approval, weak=False)
    signals.approval_changed.connect(disposal_approval.on_approval_changed, weak=False)
    signals.approval_decided.connect(filing.on_approval_decided, weak=False)
    signals.server_started.connect(_on_server_started, weak=False)
    signals.server_stopping.connect(_on_server_stopping, weak=False)
