"""Finding colleagues: the person picker's and @mention completion's search over the directory.

A query matches a person's 氏名 (spaces ignored), 読み (hiragana and katakana alike), ユーザー名, and the
name of their 課 or 係. Matching folds both sides the same way (``fold``): Unicode NFKC (full-width
letters and half-width katakana become their ordinary forms), lower case, katakana as hiragana, no
spaces. The folding is not expressible portably in SQL, so the active directory (a village office has
a few hundred people) is read as plain columns and matched here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from workspace import db, inputs
from workspace.models import Department, User

LIMIT_DEFAULT = 20
LIMIT_MAX = 50
QUERY_MAX = 100
KANA_MAX = 100

_SPACES = re.compile(r"[\s\u3000]+")
# Katakana ァ (U+30A1) … ヶ (U+30F6) sit exactly 0x60 above their hiragana; ヷ–ヺ have no hiragana.
_KATAKANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# What a 読み may contain: kana, the prolonged sound mark, the middle dot, and spaces between names.
_KANA_ONLY = re.compile(r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe・ ]+")


def fold(text: str | None) -> str:
    """Return text as the search compares it: NFKC, lower case, katakana as hiragana, without spaces."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_KATAKANA)
    return _SPACES.sub("", folded)


def clean_kana(value: str | None) -> str | None:
    """Return a 読み as stored (NFKC, single half-width spaces), or None for a blank one.

    Raises ValueError with a Japanese message, safe to show, for anything but kana.
    """
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if not text:
        return None
    if len(text) > KANA_MAX:
        raise ValueError(f"読みは{KANA_MAX}文字以内で入力してください。")
    if not _KANA_ONLY.fullmatch(text):
        raise ValueError("読みはひらがなかカタカナで入力してください（例：かとう ひろし）。")
    return text


@dataclass(frozen=True)
class Person:
    """One active colleague as the picker shows them."""

    id: int
    username: str
    display_name: str
    display_name_kana: str | None
    department_code: str | None
    department_name: str | None
    section_name: str | None
    title: str | None

    def to_json(self) -> dict[str, Any]:
        """The public shape of GET /api/v1/users."""
        department = None
        if self.department_code is not None:
            department = {"code": self.department_code, "name": self.department_name}
        return {
            "username": self.username,
            "display_name": self.display_name,
            "display_name_kana": self.display_name_kana,
            "department": department,
            "title": self.title,
        }


def _rank(person: Person, query: str) -> int | None:
    """0 when a name, reading or username starts with query, 1 when anything contains it, else None."""
    names = (fold(person.display_name), fold(person.display_name_kana), person.username.lower())
    if any(name.startswith(query) for name in names):
        return 0
    units = (fold(person.department_name), fold(person.section_name))
    if any(query in field for field in names + units):
        return 1
    return None


def _active_people(among: Collection[int] | None) -> list[Person]:
    section = aliased(Department)
    query = (
        select(
            User.id,
            User.username,
            User.display_name,
            User.display_name_kana,
            Department.code,
            Department.name,
            section.name,
            User.title,
        )
        .outerjoin(Department, User.department_id == Department.id)
        .outerjoin(section, User.section_id == section.id)
        .where(User.active.is_(True))
    )
    if among is not None:
        query = query.where(User.id.in_(list(among) or [0]))
    return [Person(*row) for row in db.session().execute(query)]


def search(query: str, limit: int = LIMIT_DEFAULT, *, among: Collection[int] | None = None) -> list[Person]:
    """Return up to limit active people matching query, best first; everyone (by 読み) for a blank query.

    among: only these user ids (the members of a channel, for @mention completion).
    """
    wanted = fold(query)
    found: list[tuple[int, str, str, Person]] = []
    for person in _active_people(among):
        rank = 0 if not wanted else _rank(person, wanted)
        if rank is not None:
            # People without a 読み sort by their 氏名 among those with one: both are mostly kana or kanji.
            order = fold(person.display_name_kana) or fold(person.display_name)
            found.append((rank, order, person.username, person))
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found[:limit]]


def parse_limit(value: Any) -> int:
    """Return the limit of a search request (default 20, 1..50); raise ValueError (Japanese) otherwise."""
    if value is None or value == "":
        return LIMIT_DEFAULT
    number = inputs.parse_int(value, 1, LIMIT_MAX)
    if number is None:
        raise ValueError(f"limit は1〜{LIMIT_MAX}の整数で指定してください。")
    return number


def parse_query(value: Any) -> str:
    """Return the search text of a request (blank allowed); raise ValueError (Japanese) when too long."""
    text = value if isinstance(value, str) else ""
    if len(text) > QUERY_MAX:
        raise ValueError(f"検索語は{QUERY_MAX}文字以内にしてください。")
    return text
