"""Mentions: who a message names with @ (or the full-width ＠ a Japanese keyboard types).

A mention is written either as the person's 氏名, as the composer inserts it (``@加藤 浩``; the space
inside the 氏名 may be half width, full width or left out), or as their ユーザー名 (``@kato``). Names
are resolved only against the people who could be meant (the channel's members), and at each @ the
longest name wins, so ``@加藤 浩二`` names 加藤 浩二 even when 加藤 浩 is in the channel too. Because
Japanese runs on without spaces, nothing needs to follow a 氏名 (``@加藤 浩さん`` is a mention).
``@channel``, ``@all`` and ``@here`` name every member.

The chat page's chat-people.js reads mentions by the same rules to highlight them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chat import channels
from workspace import people

CHANNEL_WIDE = frozenset({"channel", "all", "here"})
# An @ inside a word (a mail address, a@b) is not a mention.
_MARK = re.compile(r"(?<![A-Za-z0-9._-])[@＠]")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SPACES = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Candidate:
    """Someone a message could name: a member of its channel."""

    user_id: int
    username: str
    display_name: str


def name_forms(display_name: str) -> set[str]:
    """The ways a 氏名 may follow the @: as written, and with its spaces half width, full width or gone."""
    parts = _SPACES.split(display_name.strip())
    if not parts or not parts[0]:
        return set()
    return {" ".join(parts), "\u3000".join(parts), "".join(parts)}


@dataclass(frozen=True)
class Found:
    """What the message names: these user ids, and whether it names the whole channel."""

    user_ids: frozenset[int]
    channel_wide: bool


def _username_at(text: str, start: int) -> list[str]:
    """The username tokens that may start at start: the whole token, and without trailing . _ -."""
    match = _USERNAME.match(text, start)
    if match is None:
        return []
    token = match.group(0)
    return list(dict.fromkeys([token, token.rstrip("._-")]))


def find(text: str, candidates: Iterable[Candidate]) -> Found:
    """Return who of candidates the text names, and whether it names @channel/@all/@here."""
    marks = [m.end() for m in _MARK.finditer(text)]
    if not marks:
        return Found(frozenset(), False)
    people_by_name: list[tuple[str, int]] = []
    by_username: dict[str, list[int]] = {}
    for person in candidates:
        by_username.setdefault(person.username.lower(), []).append(person.user_id)
        people_by_name.extend((form, person.user_id) for form in name_forms(person.display_name))
    named: set[int] = set()
    channel_wide = False
    for start in marks:
        best: tuple[int, list[int]] = (0, [])
        for token in _username_at(text, start):
            if token.lower() in CHANNEL_WIDE:
                channel_wide = True
            ids = by_username.get(token.lower())
            if ids and len(token) > best[0]:
                best = (len(token), list(ids))
        for form, user_id in people_by_name:
            if text.startswith(form, start):
                if len(form) > best[0]:
                    best = (len(form), [user_id])
                elif len(form) == best[0] and user_id not in best[1]:
                    best[1].append(user_id)  # two members with one 氏名: both are named
        named.update(best[1])
    return Found(frozenset(named), channel_wide)


def insertion(person: Candidate, others: Iterable[Candidate]) -> str:
    """The text the composer inserts to name person: ``@氏名``, or ``@username`` when another of the
    channel's members has the same 氏名 (the name alone would name both)."""
    mine = people.fold(person.display_name)
    shared = any(o.user_id != person.user_id and people.fold(o.display_name) == mine for o in others)
    if shared or not mine or "@" in person.display_name or "＠" in person.display_name:
        return "@" + person.username
    return "@" + person.display_name


def complete(user: Any, channel_id: Any, query: str, limit: int) -> list[dict[str, Any]]:
    """@mention completion: the channel's members matching query (氏名, 読み, ユーザー名, 課), best first,
    each with the text the composer inserts. Raises ChatError (404/403) as channels.require_member."""
    channel, _member = channels.require_member(user, channel_id)
    candidates = [
        Candidate(m.user_id, m.user.username, m.user.display_name) for m in channels.members(channel.id)
    ]
    by_id = {c.user_id: c for c in candidates}
    found = people.search(query, limit, among=[c.user_id for c in candidates if c.user_id != user.id])
    return [{**p.to_json(), "mention": insertion(by_id[p.id], candidates)} for p in found]
