"""The append-only, hash-chained audit log.

Each entry stores the hash of the previous entry and its own hash over (previous hash + canonical
content). `verify()` walks the chain and names the first entry that was changed, removed or inserted.
Appends lock the single audit_head row, so concurrent writers extend the chain one at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select

from workspace import db
from workspace.models import AuditEntry, AuditHead, utcnow
from workspace.security import printable

GENESIS = "0" * 64


def _canonical(
    at: dt.datetime,
    actor: str | None,
    action: str,
    target: str | None,
    address: str | None,
    detail: dict[str, Any],
) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return json.dumps(
        [at.astimezone(dt.UTC).isoformat(timespec="microseconds"), actor, action, target, address, detail],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def _chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


@db.joins_unit
def record(
    action: str,
    *,
    actor: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    address: str | None = None,
) -> AuditEntry:
    """Add an audit entry in the caller's write unit (joined), which commits it.

    Text that came from outside (usernames, targets) is stored escaped so that it can never forge a
    line in a log viewer.
    """
    session = db.session()
    if address is None and has_request_context():
        address = request.remote_addr
    head = session.execute(
        select(AuditHead).where(AuditHead.name == "main").with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(name="main", last_hash=GENESIS, count=0)
        session.add(head)
    at = utcnow()
    actor_text = printable(actor, 64) if actor is not None else None
    target_text = printable(target, 200) if target is not None else None
    detail = detail or {}
    content = _canonical(at, actor_text, action, target_text, address, detail)
    entry = AuditEntry(
        at=at,
        actor=actor_text,
        action=action,
        target=target_text,
        address=address,
        detail=detail,
        prev_hash=head.last_hash,
        hash=_chain_hash(head.last_hash, content),
    )
    session.add(entry)
    head.last_hash = entry.hash
    head.count += 1
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain."""

    ok: bool
    checked: int
    problem: str | None = None  # changed | removed | inserted | truncated
    entry_id: int | None = None
    message: str = ""


def verify(batch: int = 5000, progress: Callable[[int, int], None] | None = None) -> VerifyResult:
    """Walk the whole chain in id order and return the first inconsistency, if any.

    ``progress(checked, total)`` is called after each batch (the 管理 page's progress bar).
    """
    session = db.session()
    prev_hash, seen, last_id = GENESIS, 0, 0
    total = session.scalar(select(AuditHead.count).where(AuditHead.name == "main")) or 0
    known: set[str] = {GENESIS}
    while True:
        rows = (
            session.execute(
                select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for entry in rows:
            content = _canonical(
                entry.at, entry.actor, entry.action, entry.target, entry.address, entry.detail
            )
            if entry.prev_hash != prev_hash:
                # A link to a hash we have already walked past means entries were slipped in before this
                # one; a link to a hash we never saw means entries before it were removed.
                problem = "inserted" if entry.prev_hash in known else "removed"
                return VerifyResult(
                    False,
                    seen,
                    problem,
                    entry.id,
                    f"entry {entry.id}: previous-hash link broken ({problem} before it)",
                )
            if _chain_hash(entry.prev_hash, content) != entry.hash:
                return VerifyResult(False, seen, "changed", entry.id, f"entry {entry.id}: content changed")
            known.add(entry.hash)
            prev_hash, last_id = entry.hash, entry.id
            seen += 1
        session.expunge_all()
        if progress is not None:
            progress(seen, max(total, seen))
    head = session.execute(select(AuditHead).where(AuditHead.name == "main")).scalar_one_or_none()
    if head is not None and (head.last_hash != prev_hash or head.count != seen):
        return VerifyResult(
            False,
            seen,
            "removed",
            None,
            f"the chain ends at entry {last_id} but {head.count} entries were written",
        )
    return VerifyResult(True, seen, message=f"{seen} entries verified")
