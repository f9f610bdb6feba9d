"""The demo village's chat: four weeks of history in every 課 channel, public channels, DMs and group DMs.

Sent ``demo_village_created`` with ``lived_in``, this writes through chat's own services
(``channels.create_channel``, ``messages.post`` with ``thread_id``, ``reactions.react``,
``reads.mark_read``), so mentions, read marks and the search outbox are the real ones.  Every text
is written for the demo (see ``chat/demo_scenes.py``); a fixed seed picks the days and times.

``messages.post`` stamps the present moment (a real message is sent now).  The history needs past
times, so after posting, in time order (ids then follow time as they do in real use), one UPDATE
gives each message, reaction and read mark its moment in the past (``_backdate``).  A second run
finds the first public channel and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from chat import channels, messages, reactions, reads
from chat.demo_scenes import DEPARTMENT_TOPICS, DIRECT, GROUPS, PUBLIC, Scene, department_scenes
from chat.models import Channel, Member, Message, Reaction, ReadMark
from workspace import calendar, db, directory
from workspace.models import User

SEED = 20261203
WEEKS = 4
#: Demo logins people try first: their read position stops a day short, so 未読 and メンション show.
BEHIND = {"sato", "suzuki", "yamada", "kato", "yoshida", "takahashi", "tanaka"}


@dataclass
class _Post:
    at: dt.datetime
    channel_id: int
    author: str
    body: str
    key: tuple[int, int]  # (scene number, message number): replies name their parent by it
    parent: tuple[int, int] | None = None
    reactions: list[tuple[str, str]] = field(default_factory=list)


def on_demo_village_created(_sender: Any = None, **kwargs: Any) -> None:
    """Receiver of ``demo_village_created``: write the chat history of a lived-in village once."""
    if kwargs.get("lived_in"):
        build()


def _workdays(now: dt.datetime) -> list[dt.date]:
    """Weekdays of the past four weeks, oldest first, today included."""
    today = calendar.to_jst(now).date()
    days = [today - dt.timedelta(days=n) for n in range(WEEKS * 7 - 1, -1, -1)]
    return [d for d in days if d.weekday() < 5]


def _user(username: str) -> User:
    user = directory.get_user(username)
    if user is None:
        raise LookupError(f"demo person {username} is missing")
    return user


@contextmanager
def _unthrottled() -> Iterator[None]:
    # Four weeks of history are written in seconds; the send limit guards people, not the demo.
    config = current_app.config
    saved = config.get("CHAT_RATE_LIMIT")
    config["CHAT_RATE_LIMIT"] = "1000000 per second"
    try:
        yield
    finally:
        config["CHAT_RATE_LIMIT"] = saved


def build(now: dt.datetime | None = None) -> int:
    """Write the history unless the first public channel exists; return the number of messages posted."""
    now = now or calendar.now()
    first = PUBLIC[0]
    found = (
        db.session()
        .execute(select(Channel.id).where(Channel.kind == "public", Channel.name == first.name))
        .first()
    )
    if found is not None:
        return 0
    rng = random.Random(SEED)
    days = _workdays(now)
    targets: list[tuple[int, list[Scene]]] = []
    for code, topics in sorted(DEPARTMENT_TOPICS.items()):
        department = directory.get_department(code)
        if department is None:
            continue
        with db.write():
            channel = channels.department_channel(department)
        staff = [
            (u.username, u.title or "") for u in directory.active_users() if u.department_id == department.id
        ]
        targets.append((channel.id, department_scenes(topics, staff, rng)))
    for spec in PUBLIC:
        creator = _user(spec.members[0])
        channel, _created = channels.create_channel(creator, spec.name, "public", list(spec.members[1:]))
        targets.append((channel.id, list(spec.scenes)))
    for spec in (*DIRECT, *GROUPS):
        creator = _user(spec.members[0])
        channel, _created = channels.create_channel(creator, "", "direct", list(spec.members[1:]))
        targets.append((channel.id, list(spec.scenes)))
    posts = _schedule(targets, days, now, rng)
    with _unthrottled():
        ids = _post_all(posts)
    posted = {ids[p.key]: p for p in posts}
    _read_up(now, rng, posted)
    _backdate(posted)
    return len(posted)


def _schedule(
    targets: list[tuple[int, list[Scene]]], days: list[dt.date], now: dt.datetime, rng: random.Random
) -> list[_Post]:
    """Place every scene on a workday and time; return all messages in time order."""
    posts: list[_Post] = []
    number = 0
    for channel_id, scenes in targets:
        for scene in scenes:
            number += 1
            # A scene's day counts back from today (0 = today); its time is office hours.
            day = (
                days[max(0, len(days) - 1 - scene.days_ago)]
                if scene.days_ago is not None
                else rng.choice(days)
            )
            start = dt.datetime.combine(day, dt.time(8, 30), calendar.JST) + dt.timedelta(
                minutes=scene.minute if scene.minute is not None else rng.randrange(0, 8 * 60)
            )
            at = start
            for index, line in enumerate(scene.lines):
                if index:
                    at += dt.timedelta(minutes=line.after or rng.randrange(2, 40))
                parent = (number, 0) if line.reply and index else None
                posts.append(
                    _Post(
                        at, channel_id, line.author, line.body, (number, index), parent, list(line.reactions)
                    )
                )
    cutoff = now - dt.timedelta(minutes=5)
    # Nothing in the future: today's scenes that would end later are moved back to before now.
    late = [p for p in posts if p.at > cutoff]
    for post in late:
        post.at = cutoff - (post.at - cutoff) % dt.timedelta(hours=6) - dt.timedelta(hours=1)
    posts.sort(key=lambda p: (p.at, p.key))
    # A reply can never come before its parent.
    placed: dict[tuple[int, int], dt.datetime] = {}
    for post in posts:
        if post.parent is not None and post.parent in placed and post.at <= placed[post.parent]:
            post.at = placed[post.parent] + dt.timedelta(minutes=1)
        placed[post.key] = post.at
    posts.sort(key=lambda p: (p.at, p.key))
    return posts


def _post_all(posts: list[_Post]) -> dict[tuple[int, int], int]:
    ids: dict[tuple[int, int], int] = {}
    people: dict[str, User] = {}
    for post in posts:
        author = people.get(post.author) or people.setdefault(post.author, _user(post.author))
        thread_id = ids.get(post.parent) if post.parent else None
        message, _created = messages.post(author, post.channel_id, post.body, thread_id=thread_id)
        ids[post.key] = message.id
        for username, emoji in post.reactions:
            person = people.get(username) or people.setdefault(username, _user(username))
            reactions.react(person, message.id, emoji)
    return ids


def _read_up(now: dt.datetime, rng: random.Random, posted: dict[int, _Post]) -> None:
    """Move every member's read position to where a person would be by now.

    Most people have read everything up to an hour or two before the village's last message; the
    demo logins listed in BEHIND stopped about a day before it, so their home page and channel list
    show 未読 and メンション.  Counted from the last message, not from now: built on a Saturday
    morning or a Monday at 7:00, "20 hours ago" would be after everything and leave nothing unread.
    """
    by_channel: dict[int, list[tuple[dt.datetime, int]]] = {}
    for message_id, post in sorted(posted.items()):
        by_channel.setdefault(post.channel_id, []).append((post.at, message_id))
    if posted:
        now = min(now, max(post.at for post in posted.values()))
    rows = (
        db.session()
        .execute(
            select(Member.channel_id, User.username).join(User, Member.user_id == User.id).order_by(Member.id)
        )
        .all()
    )
    for channel_id, username in rows:
        lag = (
            dt.timedelta(hours=20) if username in BEHIND else dt.timedelta(minutes=rng.choice((0, 0, 30, 90)))
        )
        seen = [message_id for at, message_id in by_channel.get(channel_id, []) if at <= now - lag]
        if seen:
            reads.mark_read(_user(username), channel_id, max(seen))


@db.writes
def _backdate(posted: dict[int, _Post]) -> None:
    """Give each message, its reactions and the read marks their moment in the past; commit."""
    session = db.session()
    for message_id, post in posted.items():
        session.execute(update(Message).where(Message.id == message_id).values(created_at=post.at))
        session.execute(
            update(Reaction)
            .where(Reaction.message_id == message_id)
            .values(created_at=post.at + dt.timedelta(minutes=3))
        )
    marks = session.execute(
        select(ReadMark.id, ReadMark.last_read_id).where(ReadMark.last_read_id.in_(list(posted)))
    ).all()
    for mark_id, last_read_id in marks:
        # Read a little after the message came in (the author's own mark: at once).
        at = posted[last_read_id].at + dt.timedelta(minutes=10)
        session.execute(update(ReadMark).where(ReadMark.id == mark_id).values(read_at=at))
