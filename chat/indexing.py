"""Read-only views of chat for the search index (docsearch reads these; chat never imports docsearch).

Nothing here writes or commits.  Every function takes the session to read with, because the indexer
reads in a session of its own (after another transaction's commit); ``None`` means the app
context's session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.models import Channel, Member, Message
from workspace import db


@dataclass(frozen=True)
class IndexableMessage:
    """What the index needs of one message: its text, where it was said, and whether it still counts."""

    id: int
    channel_id: int
    channel_kind: str  # department | public | private | direct
    channel_name: str  # the 課 name for a department channel; "" for a direct message
    department_code: str | None  # the 課 of a department channel, else None
    author_id: int
    author_name: str
    body: str
    created_at: dt.datetime
    edited_at: dt.datetime | None
    deleted: bool


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session()


def messages_for_index(ids: Iterable[int], session: Session | None = None) -> dict[int, IndexableMessage]:
    """Return the messages with these ids that exist (deleted ones included, flagged), by id."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        _session(session)
        .execute(
            select(Message, Channel)
            .join(Channel, Channel.id == Message.channel_id)
            .where(Message.id.in_(wanted))
        )
        .unique()
        .all()
    )
    found: dict[int, IndexableMessage] = {}
    for message, channel in rows:
        department = channel.department if channel.kind == "department" else None
        found[message.id] = IndexableMessage(
            id=message.id,
            channel_id=channel.id,
            channel_kind=channel.kind,
            channel_name=department.name if department is not None else (channel.name or ""),
            department_code=department.code if department is not None else None,
            author_id=message.author_id,
            author_name=message.author.display_name,
            body=message.body,
            created_at=message.created_at,
            edited_at=message.edited_at,
            deleted=message.deleted_at is not None,
        )
    return found


def live_message_ids(session: Session | None = None, batch: int = 500) -> Iterator[list[int]]:
    """Yield the ids of every message that is not deleted, in ascending batches (for a rebuild)."""
    last = 0
    while True:
        ids = list(
            _session(session)
            .execute(
                select(Message.id)
                .where(Message.deleted_at.is_(None), Message.id > last)
                .order_by(Message.id)
                .limit(batch)
            )
            .scalars()
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def count_live_messages(session: Session | None = None) -> int:
    """Return how many messages are not deleted."""
    return (
        _session(session)
        .execute(select(func.count()).select_from(Message).where(Message.deleted_at.is_(None)))
        .scalar_one()
    )


def channel_ids_of(user_id: int, session: Session | None = None) -> set[int]:
    """Return the ids of every channel the user is a member of now (whose messages they may read)."""
    return set(
        _session(session).execute(select(Member.channel_id).where(Member.user_id == user_id)).scalars()
    )
