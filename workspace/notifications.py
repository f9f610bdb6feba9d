"""通知: a person's persisted notices (mentions, replies, reactions to their messages, 決裁 turns).

One concept, model and service together. A domain calls :func:`notify` inside the write unit of the
change that causes the notice, so the notice commits with it or not at all; it is pushed live as
``notification:new`` to the person's user room only after that commit. Each notice names what it
refers to (``ref``, e.g. ``chat.message:12``); one person gets at most one notice per ref, so the
same event never notifies twice, even when two processes race to write it.

The caller chooses the recipients (who may see the thing is its domain's rule); this module only
drops the actor, people who are no longer active, and people who turned that kind of notice off in
設定 (「通知の設定」: :data:`PREFERENCES`, kept in ``users.preferences``). That choice is made here,
in :func:`notify`, for every domain: メンション (kind ``mention``) and 決裁の到着 (kind ``approval``
whose ref ends in ``:assigned``, ``:circulated`` or ``:post_review``: a 決裁 that reaches the person
to act on or read). Replies, reactions and the results of one's own 起案 (差戻し, 決裁, 却下) always
come. デスクトップ通知 is read by the browser (static/js/app.js), not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from workspace import audit, calendar, db, realtime
from workspace.db import Base
from workspace.errors import ServiceError
from workspace.models import User, UTCDateTime, utcnow

KINDS = ("mention", "reply", "reaction", "approval")
LIST_DEFAULT = 50
LIST_MAX = 200
MAX_IDS = 500  # one mark-read call; a page never shows more than LIST_MAX
TEXT_MAX = 500
EXCERPT = 60  # characters of a message quoted in a notice

#: 通知の設定: key in users.preferences → its value for a person who never chose
PREFERENCES = {"mentions": True, "approvals": True, "desktop": False}
#: the 決裁 notices that are "arrivals" (the end of their ref, approvals/notices.py)
APPROVAL_ARRIVALS = (":assigned", ":circulated", ":post_review")


class Notification(Base):
    """One notice to one person. ``read_at`` is None while unread."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "ref", name="uq_notifications_user_ref"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # one of KINDS
    # What the notice is about, unique per person: "chat.message:12", "approval:5:v3" …
    ref: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(String(TEXT_MAX))
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


def notification_json(row: Notification | dict[str, Any]) -> dict[str, Any]:
    """The public shape: id, kind, created_at, read_at (ISO 8601, JST), text, url."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return {
        "id": get("id"),
        "kind": get("kind"),
        "created_at": calendar.isoformat(get("created_at")),
        "read_at": calendar.isoformat(get("read_at")),
        "text": get("text"),
        "url": get("url"),
    }


def excerpt(body: str, limit: int = EXCERPT) -> str:
    """The start of a message on one line, cut with … (a notice quotes, it does not repeat)."""
    line = " ".join(body.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def when_label(value: dt.datetime) -> str:
    """令和8年12月3日 09:30 — how a notice's time is shown (the page and the live event alike)."""
    local = calendar.to_jst(value)
    return f"{calendar.wareki(local.date())} {local:%H:%M}"


# --- writing -------------------------------------------------------------------------------------


@db.joins_unit
def notify(
    user_ids: Iterable[int], kind: str, ref: str, text: str, url: str, *, actor_id: int | None = None
) -> list[int]:
    """Write one notice per recipient in the current transaction; push each after commit.

    The actor is never told of their own act; inactive people are skipped, and so are people whose
    通知の設定 turned this kind off (:func:`preference_for`); a person who already has a notice for
    ref gets no second one. Returns the ids of the people who got a new notice.
    Joins the caller's write unit: its commit is what makes the notice (and its cause) real.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    wanted = {int(u) for u in user_ids} - {actor_id}
    if not wanted:
        return []
    session = db.session()
    people = session.execute(
        select(User.id, User.preferences).where(User.id.in_(wanted), User.active.is_(True))
    ).all()
    choice = preference_for(kind, ref)
    if choice is not None:
        people = [(u, prefs) for u, prefs in people if _chosen(prefs, choice)]
    now = utcnow()
    rows = [
        {"user_id": u, "kind": kind, "ref": ref[:100], "text": text[:TEXT_MAX], "url": url, "created_at": now}
        for u in sorted(u for u, _prefs in people)
    ]
    if not rows:
        return []
    written = _insert_new(rows)
    if not written:
        return []
    unread = dict(
        session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.user_id.in_(written), Notification.read_at.is_(None))
            .group_by(Notification.user_id)
        ).all()
    )
    for user_id, notice_id in written.items():
        row = next(r for r in rows if r["user_id"] == user_id)
        payload = {
            **notification_json({**row, "id": notice_id, "read_at": None}),
            "created_label": when_label(now),
            "unread": unread.get(user_id, 1),
        }
        realtime.notify_on_commit([user_id], "notification:new", payload)
    return sorted(written)


def preference_for(kind: str, ref: str) -> str | None:
    """The 通知の設定 key that decides whether a notice of this kind and ref is written, or None."""
    if kind == "mention":
        return "mentions"
    if kind == "approval" and ref.endswith(APPROVAL_ARRIVALS):
        return "approvals"
    return None


def _chosen(stored: Any, key: str) -> bool:
    value = stored.get(key) if isinstance(stored, dict) else None
    return value if isinstance(value, bool) else PREFERENCES[key]


def preferences_of(user: User) -> dict[str, bool]:
    """The person's 通知の設定, every key present (a key never chosen has its default)."""
    return {key: _chosen(user.preferences, key) for key in PREFERENCES}


@db.writes
def set_preferences(user: User, changes: Any) -> dict[str, bool]:
    """Set some of the person's 通知の設定 (keys left out keep their value), audit, commit; return all.

    Refused with 422 (``field`` = the key) when changes is not an object of known keys with true or
    false values; then nothing changes.
    """
    if not isinstance(changes, dict) or not changes:
        keys = "、".join(PREFERENCES)
        raise ServiceError(f"{keys} のどれかを true か false で指定してください。", "invalid", status=422)
    for key, value in changes.items():
        if key not in PREFERENCES:
            raise ServiceError(
                f"{str(key)[:40]} という設定はありません。", "invalid", status=422, field=str(key)[:40]
            )
        if not isinstance(value, bool):
            raise ServiceError(
                f"{key} は true か false で指定してください。", "invalid", status=422, field=key
            )
    row = db.session().get(User, user.id)
    before = preferences_of(row)
    stored = dict(row.preferences) if isinstance(row.preferences, dict) else {}
    stored.update(changes)
    row.preferences = stored  # a new dict: the JSON column sees the change
    after = preferences_of(row)
    if after != before:
        audit.record(
            "user.preferences_changed",
            actor=row.username,
            target=row.username,
            detail={"before": before, "after": after},
        )
    return after


def _insert_new(rows: list[dict[str, Any]]) -> dict[int, int]:
    """INSERT … ON CONFLICT DO NOTHING; return {user_id: new notice id} for the rows written.

    A conflict (a second notice for the same ref) must not fail the caller's transaction, which
    holds the change that caused it; so no IntegrityError is ever raised here.
    """
    session = db.session()
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        statement = (
            insert(Notification.__table__)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["user_id", "ref"])
            .returning(Notification.__table__.c.user_id, Notification.__table__.c.id)
        )
        return {user_id: notice_id for user_id, notice_id in session.execute(statement)}
    # Other databases: check, then insert (the unique key still stops a duplicate).
    have = set(
        session.execute(
            select(Notification.user_id).where(
                Notification.ref == rows[0]["ref"], Notification.user_id.in_([r["user_id"] for r in rows])
            )
        ).scalars()
    )
    written = {}
    for row in rows:
        if row["user_id"] not in have:
            notice = Notification(**row)
            session.add(notice)
            session.flush()
            written[row["user_id"]] = notice.id
    return written


# --- reading -------------------------------------------------------------------------------------


def list_for(user: User, *, unread_only: bool = False, limit: int = LIST_DEFAULT) -> list[Notification]:
    """Return the person's own notices, newest first, at most limit (1–LIST_MAX)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    count = max(1, min(int(limit), LIST_MAX))
    return list(db.session().execute(query.order_by(Notification.id.desc()).limit(count)).scalars())


def unread_count(user: User, kinds: Iterable[str] | None = None) -> int:
    """How many of the person's notices are unread (of the given kinds, or of every kind)."""
    query = select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if kinds is not None:
        query = query.where(Notification.kind.in_(list(kinds)))
    return int(db.session().execute(query).scalar_one())


def unread_refs(user: User, prefix: str, limit: int = LIST_MAX) -> list[str]:
    """The refs of the person's newest unread notices that start with prefix ("chat.message:")."""
    rows = db.session().execute(
        select(Notification.ref)
        .where(
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
            Notification.ref.startswith(prefix, autoescape=True),
        )
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


@db.writes
def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the person's notices read (those in ids, or all when ids is None); commit; tell their tabs.

    Ids of other people's notices, or unknown ids, are ignored: nobody learns they exist.
    Returns how many notices changed from unread to read.
    """
    if ids is not None:
        chosen = list(ids)
        if not chosen:
            return 0
    return _read(user, Notification.id.in_(chosen) if ids is not None else None)


@db.joins_unit
def read_refs(user: User, refs: Iterable[str]) -> int:
    """Mark the person's notices about these refs read, in the caller's write unit (joined).

    For a domain that learns the person has seen the thing itself (chat: the channel was read up to
    the message), so the 通知 does not stay unread after the message was read.
    """
    chosen = list(refs)
    return _read(user, Notification.ref.in_(chosen)) if chosen else 0


def _read(user: User, which: Any) -> int:
    statement = (
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if which is not None:
        statement = statement.where(which)
    changed = db.session().execute(statement).rowcount or 0
    if changed:
        # Every open page of the person updates its count, not only the one that read.
        realtime.notify_on_commit([user.id], "notification:read", {"unread": unread_count(user)})
    return changed
