"""The search engine interface: what the registry, unified search and the indexer ask of an index.

One index serves every kind of searchable object (``type`` = document | approval | message).  Who
may see an entry is indexed with it as ``acl`` tokens and every search is given the caller's
tokens, so hits, counts, facets and snippets are trimmed inside the search itself:

* ``all``              – every signed-in staff member (公開, 庁内限り)
* ``dept:<code>``      – staff of that 課 (課内限り)
* ``user:<id>``        – one person (registrant, explicit grant, the drafter of an approval)
* ``route:<id>``       – an approval's related person (on its route or acted on it); the searcher
                         holds it for himself and for whom he is 代理者 today
* ``channel:<id>``     – members of a chat channel (its messages); the searcher holds one per
                         channel he belongs to *at query time*, so membership changes need no reindex
* ``role:records``     – records staff and administrators, who see every document
* ``role:admin``       – administrators, who see every approval request

Nothing here knows whoosh: a second engine (PostgreSQL, issue 14) implements ``SearchEngine`` with
the same types.  The engine never reads the database; the indexer hands it entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from docsearch.synonyms import SynonymTable

#: The facets every search counts (per displayed value).
FACETS = ("type", "fiscal_year", "department")

Sort = Literal["relevance", "date"]
#: Called with how many source objects a rebuild has visited since the last call.
Progress = Callable[[int], None]


class IndexBusy(RuntimeError):
    """Another writer held the index lock for longer than the lock timeout."""


class SearchTimeout(Exception):
    """The search ran past its time limit."""


@dataclass
class IndexEntry:
    """One searchable object as the index holds it."""

    type: str
    object_id: int
    title: str
    body: str
    acl: list[str]
    department: str = ""
    fiscal_year: int | None = None
    classification: list[str] = field(default_factory=list)  # every prefix level: 01, 01-02, 01-02-03
    visibility: str = ""
    date: int = 0  # yyyymmdd: received or registered

    @property
    def key(self) -> str:
        """The unique key in the index, type:id."""
        return entry_key(self.type, self.object_id)


def entry_key(kind: str, object_id: int) -> str:
    """Return the index key of an object."""
    return f"{kind}:{object_id}"


@dataclass(frozen=True)
class Query:
    """What the user typed, parsed by one engine (``SearchEngine.query``) for its ``search``."""

    text: str
    #: The engine's own form of the query; opaque to callers.
    parsed: Any
    #: The engine's queries of each word as written (empty: no word has another spelling).
    literal: Any = ()


@dataclass(frozen=True)
class Filters:
    """Conditions a hit must meet besides the query and the caller's acl (empty: no condition)."""

    type: str = ""
    fiscal_year: int | None = None
    department: str = ""
    classification: str = ""  # any prefix level of the 分類 code
    visibility: str = ""
    date_from: int | None = None  # yyyymmdd, inclusive
    date_to: int | None = None


@dataclass(frozen=True)
class Page:
    """Which ranked hits to return."""

    offset: int = 0
    limit: int = 20


@dataclass
class Match:
    """One hit: its key, its score and the stored fields (type, title, department, fiscal_year, date)."""

    key: str
    score: float
    stored: dict[str, Any]
    #: How many of the query's words it contains as written (0 when the query had no other spellings).
    literal: int = 0


@dataclass
class Hits:
    """What one search found: the trimmed total, facet counts by displayed value, the ranked page."""

    total: int
    facets: dict[str, dict[str, int]]
    matches: list[Match]


@dataclass(frozen=True)
class Stats:
    """The index at a glance (``workspace index status``)."""

    engine: str
    entries: int
    location: str


class SearchEngine(Protocol):
    """A full-text index of ``IndexEntry`` objects, searched with the caller's acl tokens."""

    def needs_rebuild(self) -> bool:
        """Open the index; True when it was missing or unreadable and starts empty, so that its
        owner must ``rebuild`` it from the source (the database is the truth)."""
        ...

    def replace(self, docs: Mapping[str, IndexEntry | None]) -> None:
        """Make each key's entry the one given (None: remove it), all in one commit.

        Raises IndexBusy when another writer keeps the index past the lock timeout.
        """
        ...

    def update(self, doc: IndexEntry) -> None:
        """Add or replace one entry (``replace({doc.key: doc})``)."""
        ...

    def remove(self, key: str) -> None:
        """Remove one entry, if present (``replace({key: None})``)."""
        ...

    def rebuild(
        self,
        source: Iterable[Sequence[IndexEntry | None]],
        progress: Progress | None = None,
        *,
        workers: int = 1,
    ) -> int:
        """Build the index anew from ``source`` (batches of the objects visited, None for one not
        to be indexed) and return how many entries it holds.  Searches keep answering from the old
        index until the new one is complete.  ``progress`` gets each batch's length; ``workers`` is
        how many processes may build (an engine may ignore it)."""
        ...

    def query(self, text: str, fields: Mapping[str, float], synonyms: SynonymTable) -> Query:
        """Parse what the user typed over the logical text ``fields`` (name → boost).

        Raises ``docsearch.query.QueryError`` (``QueryTooComplex``, ``EmptyQuery``) for text that
        cannot be searched.
        """
        ...

    def search(
        self,
        query: Query,
        acl: set[str],
        filters: Filters,
        sort: Sort,
        page: Page,
        *,
        time_limit: float = 5.0,
    ) -> Hits:
        """Return the entries matching ``query`` whose acl holds one of ``acl`` and that meet
        ``filters``: the total, the facet counts (``FACETS``) and the ``page`` of hits.

        By relevance: BM25F over the query's words (title and body boosts from ``query``), entries
        containing more words as written first; by date: newest first.  Equal keys in a stable
        order of the engine's (whoosh: document number).  Raises SearchTimeout past ``time_limit``
        seconds.
        """
        ...

    def stats(self) -> Stats:
        """Return the engine's name, the number of entries and where the index lives."""
        ...
