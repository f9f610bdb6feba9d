"""``run_query`` through whoosh's public API only: the path taken when the fast path is off.

One ``Searcher.search(user_query, filter=acl AND filters, limit=None, groupedby=FACETS)`` finds and
scores every match (the filter selects without scoring, as in the fast path); the literal tiers come
from ``Searcher.docs_for_query`` of each word as written, the dates from the public column reader.
The page is ordered as ``matching.run_query`` orders it: by relevance (literal tier, then score) or
by date, newest first, equal keys by document number.  Slower (whoosh scores one document at a time
in Python), but it relies on nothing whoosh does not document.
"""

from __future__ import annotations

import time
from typing import Any

from whoosh import query as wq
from whoosh.searching import Searcher

from docsearch.engine.base import FACETS, SearchTimeout
from docsearch.engine.whoosh.matching import LITERAL_TIER, Matches, acl_query


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
    literal: list[wq.Query] = (),  # type: ignore[assignment]
) -> Matches:
    """The same arguments and result as ``matching.run_query``."""
    started = time.monotonic()
    results = searcher.search(
        user_query, filter=wq.And([acl_query(tokens), *filters]), limit=None, groupedby=list(FACETS)
    )
    if time.monotonic() - started > time_limit:
        raise SearchTimeout
    found: dict[int, float] = dict(results.items())
    facets = {name: _counts(results.groups(name)) for name in FACETS}
    tiers = dict.fromkeys(found, 0)
    for word in literal:
        for docnum in searcher.docs_for_query(word):
            if docnum in tiers:
                tiers[docnum] += 1
    if sort == "date":
        dates = searcher.reader().column_reader("date")
        key: dict[int, float] = {d: float(dates[d]) for d in found}
    else:
        key = {d: score + tiers[d] * LITERAL_TIER if literal else score for d, score in found.items()}
    ranked = sorted(found, key=lambda d: (-key[d], d))[offset : offset + limit]
    page = []
    for docnum in ranked:
        stored = searcher.stored_fields(docnum)
        page.append((stored["key"], float(found[docnum]), stored))
    return Matches(len(found), facets, page, [tiers[d] for d in ranked])


def _counts(groups: dict[Any, list[int]]) -> dict[str, int]:
    """Facet counts by displayed value (empty and missing values left out, as the fast path does)."""
    return {value: len(docs) for value, docs in groups.items() if value not in (None, "")}
