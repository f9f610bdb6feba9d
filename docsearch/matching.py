"""Running one permission-trimmed query on a searcher: the total, the facet counts and a ranked page.

The total and the facet counts need every match but not every match's score, so they are computed
apart from the ranking (``docsearch.docsets``: sets of document numbers from posting lists,
C-level set operations, cached per-segment acl sets and facet columns).  Only the ranked page needs
scores: whoosh's ``TopCollector`` scores the matches and keeps the top ``offset + limit``, with
whoosh's scores and its order of equal scores (lower document number first).  whoosh's
block-quality skipping is left off: on our queries it returns a wrong top (it replaces the acl
``Or`` by matchers that skip or under-score hits), as the former single faceted pass did.

Pure index code (no Flask, no database): the API (``docsearch.search``) and ``bench/search_scale.py``
both call ``run_query``.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq
from whoosh import sorting
from whoosh.collectors import TopCollector, WrappingCollector
from whoosh.searching import Searcher

from docsearch.docsets import facet_column, query_docs

FACETS = ("type", "fiscal_year", "department")


class SearchTimeout(Exception):
    """The search ran past its time limit."""


class _Deadline(WrappingCollector):
    """Stops collecting once the deadline has passed (checked between hits, no signals or threads).

    It iterates the child's ``matches()``, so a ``TopCollector`` child keeps its block skipping.
    """

    def __init__(self, child: Any, deadline: float) -> None:
        super().__init__(child)
        self.deadline = deadline

    def collect_matches(self) -> None:  # noqa: D102
        child = self.child
        clock = time.monotonic
        for n, sub_docnum in enumerate(child.matches()):
            child.collect(sub_docnum)
            if n & 255 == 0 and clock() > self.deadline:
                raise SearchTimeout


@dataclass
class Matches:
    """What one query found: the total, facet counts and the page as (key, score, stored fields)."""

    total: int
    facets: dict[str, dict[str, int]]
    page: list[tuple[str, float, dict[str, Any]]]


def acl_query(tokens: set[str] | list[str]) -> wq.Query:
    """Return the query matching the entries whose ``acl`` holds one of ``tokens``."""
    return wq.Or([wq.Term("acl", token) for token in sorted(tokens)])


def run_query(
    searcher: Searcher,
    user_query: wq.Query,
    tokens: set[str] | list[str],
    filters: list[wq.Query] = (),  # type: ignore[assignment]
    *,
    limit: int = 20,
    offset: int = 0,
    sort: str = "relevance",
    time_limit: float = 5.0,
) -> Matches:
    """Run ``user_query`` AND the caller's acl ``tokens`` AND ``filters`` on ``searcher``.

    Raises SearchTimeout when it runs longer than ``time_limit`` seconds.
    """
    full = wq.And([user_query, acl_query(tokens), *filters])
    deadline = time.monotonic() + time_limit
    total, facets = _count(searcher, full, deadline)
    if total <= offset:
        return Matches(total, facets, [])
    if sort == "date":
        collector = searcher.collector(
            limit=offset + limit, sortedby=sorting.FieldFacet("date", reverse=True)
        )
    else:
        # Not whoosh's block-quality skipping: with our acl Or it replaces matchers and drops or
        # mis-scores hits (tests/docsearch/test_matching.py pins the exact ranking).
        collector = TopCollector(limit=offset + limit, usequality=False, replace=0)
    timed = _Deadline(collector, deadline)
    searcher.search_with_collector(full, timed)
    results = timed.results()
    page = [(hit["key"], hit.score or 0.0, dict(hit.fields())) for hit in results[offset : offset + limit]]
    return Matches(total, facets, page)


def _count(searcher: Searcher, q: wq.Query, deadline: float) -> tuple[int, dict[str, dict[str, int]]]:
    """Return the number of matches and the facet counts (empty and missing values left out)."""
    total = 0
    counts: dict[str, Counter[Any]] = {name: Counter() for name in FACETS}
    for leaf, _offset in _leaves(searcher):
        if not leaf.reader().doc_count_all():  # an empty index has no columns to read
            continue
        docs = query_docs(leaf, q)
        if time.monotonic() > deadline:
            raise SearchTimeout
        total += len(docs)
        for name in FACETS:
            counts[name].update(map(facet_column(leaf.reader(), name).__getitem__, docs))
    facets: dict[str, dict[str, int]] = {}
    for name in FACETS:
        field = searcher.schema[name]
        named: dict[str, int] = {}
        for raw, n in counts[name].items():
            key = field.from_column_value(raw)
            if key not in (None, ""):
                named[key] = named.get(key, 0) + n
        facets[name] = named
    return total, facets


def _leaves(searcher: Searcher) -> list[tuple[Searcher, int]]:
    if searcher.is_atomic():
        return [(searcher, 0)]
    return list(searcher.leaf_searchers())
