"""Signal receivers: approvals and chat announce changes; docsearch owes the index an update.

The senders emit after their own commit, so the outbox row cannot share their transaction.  The
receiver writes it on the sender's session: committed at once when that session is idle, else it
joins whatever the sender does next (lost only if that rolls back; ``workspace reindex`` repairs
it).  It never commits someone else's unfinished work.  The drain reads each object's current
state, so one kind of row serves created, edited and deleted messages alike.  It runs on the
background drainer: a chat message is posted without waiting for the index.

When ``workspace serve`` stops (``server_stopping``), the outbox rows committed just before are
applied at once instead of waiting for the next start.

``approval_decided`` files the signed record in the registry (``docsearch.filing``); a decided
``approval_changed`` settles a 廃棄 proposal (``docsearch.disposal_approval``).
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
    with db.write():  # the sender's write unit when it is still open, else one of its own
        indexer.enqueue(kind, int(object_id))
        # The sender does not wait for the index: the background drain picks the row up after the
        # commit that makes it durable.
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


def connect(app: Flask) -> None:
    """Subscribe to the chat and approval signals (once per process; receivers use current_app)."""
    del app  # receivers look up the app of the sending context
    for signal in (signals.message_created, signals.message_edited, signals.message_deleted):
        signal.connect(_on_message, weak=False)
    signals.approval_changed.connect(_on_approval, weak=False)
    signals.approval_changed.connect(disposal_approval.on_approval_changed, weak=False)
    signals.approval_decided.connect(filing.on_approval_decided, weak=False)
    signals.server_stopping.connect(_on_server_stopping, weak=False)
