"""The whoosh engine: ``SearchEngine`` over the index in one directory (``SearchIndex``).

Writes go through whoosh's writer (``replace``) or, for a rebuild, our bulk writer (``rebuild``);
searches through ``matching.run_query`` (numpy over the posting lists).  Off the fast path (another
whoosh release: ``version``) both use whoosh's public API instead (``public.run_query``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from whoosh import query as wq

from docsearch.engine.base import Filters, Hits, IndexEntry, Match, Page, Progress, Query, Sort, Stats
from docsearch.engine.whoosh import matching, public
from docsearch.engine.whoosh.index import SearchIndex, document_fields
from docsearch.engine.whoosh.queries import literal_queries, parse_user_query
from docsearch.synonyms import SynonymTable

log = logging.getLogger(__name__)


class WhooshEngine(SearchIndex):
    """The embedded search engine: a whoosh index in ``path`` (see ``SearchIndex`` for the locking)."""

    def __init__(
        self, path: Path, *, lock_timeout: float = 10.0, limitmb: int = 256, fast: bool | None = None
    ) -> None:
        super().__init__(path, lock_timeout=lock_timeout, fast=fast)
        self.limitmb = limitmb

    def needs_rebuild(self) -> bool:
        """Open the index; True when it was created empty (missing or unreadable) and awaits a rebuild."""
        self.open()
        return self.rebuild_pending

    def replace(self, docs: Mapping[str, IndexEntry | None]) -> None:
        """Make each key's entry the one given (None: remove it), in one whoosh commit."""
        with self.writer() as writer:
            for key, entry in docs.items():
                if entry is None:
                    writer.delete_by_term("key", key)
                else:
                    writer.update_document(**document_fields(entry))

    def update(self, doc: IndexEntry) -> None:
        """Add or replace one entry."""
        self.replace({doc.key: doc})

    def remove(self, key: str) -> None:
        """Remove one entry, if present."""
        self.replace({key: None})

    def rebuild(
        self,
        source: Iterable[Sequence[IndexEntry | None]],
        progress: Progress | None = None,
        *,
        workers: int = 1,
    ) -> int:
        """Build the index anew from ``source``; return the number of entries written.

        Always beside the current index, swapped in when complete (``SearchIndex.replacement``):
        searches never see a gap, and two rebuilds at once (``workspace reindex`` while a lost index
        is being rebuilt) follow each other instead of both adding to the same index.
        """
        written = 0
        with self.replacement(procs=workers, limitmb=self.limitmb) as writer:
            for batch in source:
                for entry in batch:
                    if entry is not None:
                        writer.add_document(**document_fields(entry))
                        written += 1
                if progress:
                    progress(len(batch))
        return written

    def query(self, text: str, fields: Mapping[str, float], synonyms: SynonymTable) -> Query:
        """Parse ``text`` into whoosh queries over the bigram and unigram fields (``queries``)."""
        parsed = parse_user_query(text, fields, synonyms=synonyms)
        return Query(text, parsed, literal_queries(text, fields, synonyms=synonyms))

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
        """Run the query (fast path: ``matching.run_query``, else ``public.run_query``)."""
        run = matching.run_query if self.fast else public.run_query
        found = run(
            self.searcher(),
            query.parsed,
            acl,
            filter_queries(filters),
            limit=page.limit,
            offset=page.offset,
            sort=sort,
            time_limit=time_limit,
            literal=list(query.literal),
        )
        literal = found.literal or [0] * len(found.page)
        rows = zip(found.page, literal, strict=True)
        matches = [Match(key, score, stored, n) for (key, score, stored), n in rows]
        return Hits(total=found.total, facets=found.facets, matches=matches)

    def stats(self) -> Stats:
        """Return the engine's name, the number of entries and the index directory."""
        return Stats(engine="whoosh", entries=self.doc_count(), location=str(self.path))


def filter_queries(filters: Filters) -> list[wq.Query]:
    """Return the whoosh queries of ``filters`` (fields of ``index.get_schema``)."""
    found: list[wq.Query] = []
    if filters.type:
        found.append(wq.Term("type", filters.type))
    if filters.fiscal_year is not None:
        found.append(wq.Term("fiscal_year", str(filters.fiscal_year)))
    if filters.department:
        found.append(wq.Term("department", filters.department))
    if filters.classification:
        found.append(wq.Term("classification", filters.classification))
    if filters.visibility:
        found.append(wq.Term("visibility", filters.visibility))
    if filters.date_from is not None or filters.date_to is not None:
        found.append(wq.NumericRange("date", filters.date_from, filters.date_to))
    return found
