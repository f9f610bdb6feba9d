"""Running one permission-trimmed query on a searcher: the total, the facet counts and a ranked page.

Per segment, the documents the full query (the user's query AND the caller's acl tokens AND the
filters) matches are a numpy mask (``docsearch.engine.whoosh.docsets``); the total and the facet counts are
counted from it.  The ranked page scores every match with BM25F over the user's query terms
(``docsearch.engine.whoosh.ranking``: permission and filter terms do not score) and keeps the best
``offset + limit`` with ``np.argpartition``; equal scores keep the lower document number first, as
whoosh orders them.  ``sort="date"`` orders the matches newest first by the ``date`` column.

Literal matches first: given the query's words as typed (``query.literal_queries``), a match ranks
by how many of them it contains as written, then by score, so a document found only through a
synonym, an acronym's expansion or another okurigana spelling never outranks one that contains
the query as the user wrote it.  The masks of those words come from the same cached postings.

Pure index code (no Flask, no database): the engine (``docsearch.engine.whoosh.engine``) and
``bench/search_scale.py`` both call ``run_query``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from docsearch.engine.base import FACETS, SearchTimeout
from docsearch.engine.whoosh.docsets import (
    Mask,
    facet_column,
    facet_counts,
    field_lengths,
    numeric_column,
    query_mask,
)
from docsearch.engine.whoosh.ranking import scores

#: Added to the sort key per word found as written: above any BM25F score (a term scores at most
#: idf × (K1 + 1) × boost, a few dozen, and a query has at most a few hundred terms).
LITERAL_TIER = 1e6


@dataclass
class Matches:
    """What one query found: the total, facet counts and the page as (key, score, stored fields)."""

    total: int
    facets: dict[str, dict[str, int]]
    page: list[tuple[str, float, dict[str, Any]]]
    #: Per page row: how many of the query's words it contains as written (0 throughout when no
    #: ``literal`` was given: the query had no other spellings).
    literal: list[int] = field(default_factory=list)


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
    literal: list[wq.Query] = (),  # type: ignore[assignment]
) -> Matches:
    """Run ``user_query`` AND the caller's acl ``tokens`` AND ``filters`` on ``searcher``.

    ``literal`` are the query's words as typed (``query.literal_queries``); by relevance, matches
    containing more of them come first.  Raises SearchTimeout when it runs longer than
    ``time_limit`` seconds (checked between steps).
    """
    full = wq.And([user_query, acl_query(tokens), *filters])
    deadline = time.monotonic() + time_limit
    wanted = offset + limit
    total = 0
    raw_counts: dict[str, dict[Any, int]] = {name: {} for name in FACETS}
    keys: list[np.ndarray] = []  # per segment: the sort keys of its best matches (higher first)
    rel: list[np.ndarray] = []  # their scores
    docnums: list[np.ndarray] = []  # their global document numbers
    tiers: list[np.ndarray] = []  # how many words as written each contains
    for leaf, base in _leaves(searcher):
        reader = leaf.reader()
        if not reader.doc_count_all():  # an empty segment has no columns to read
            continue
        memo: dict[int, Mask] = {}
        mask = query_mask(leaf, full, memo)
        _check(deadline)
        docs = np.flatnonzero(mask)
        if not len(docs):
            continue
        total += len(docs)
        for name in FACETS:
            counts = raw_counts[name]
            for raw, n in facet_counts(reader, name, mask).items():
                counts[raw] = counts.get(raw, 0) + n
        tier = _literal_tier(leaf, literal, docs)
        if sort == "date":
            key = numeric_column(reader, "date")[docs].astype(np.float64)
            best = _top(key, docs, wanted)
            rel.append(scores(searcher, leaf, user_query, docs[best], memo))  # the page's only
        else:
            score = scores(searcher, leaf, user_query, docs, memo)
            key = score + tier * LITERAL_TIER if literal else score
            best = _top(key, docs, wanted)
            rel.append(score[best])
        _check(deadline)
        keys.append(key[best])
        tiers.append(tier[best])
        docnums.append(docs[best] + base)
    facets = _named_facets(searcher, raw_counts)
    if total <= offset or not keys:
        return Matches(total, facets, [])
    key, score, docs = np.concatenate(keys), np.concatenate(rel), np.concatenate(docnums)
    tier = np.concatenate(tiers)
    page = []
    literal_counts = []
    for i in _top(key, docs, wanted)[offset:].tolist():
        stored = searcher.stored_fields(int(docs[i]))
        page.append((stored["key"], float(score[i]), stored))
        literal_counts.append(int(tier[i]))
    return Matches(total, facets, page, literal_counts)


def _literal_tier(leaf: Searcher, literal: list[wq.Query], docs: np.ndarray) -> np.ndarray:
    """Return, for each of ``docs``, how many of the ``literal`` word queries it matches."""
    if not literal:
        return np.zeros(len(docs), dtype=np.int64)
    tier = np.zeros(len(docs), dtype=np.int64)
    for word in literal:
        tier += query_mask(leaf, word)[docs]
    return tier


def warm(searcher: Searcher) -> None:
    """Load what every query reads per segment: facet columns, field lengths, the date column.

    Cached per segment (``docsets``), so after a commit only the new segments are read;
    done when a searcher is opened rather than in the first query after it.
    """
    scored = [name for name, field in searcher.schema.items() if field.scorable]
    for leaf, _ in _leaves(searcher):
        reader = leaf.reader()
        if not reader.doc_count_all():
            continue
        for name in FACETS:
            facet_column(reader, name)
        for name in scored:
            field_lengths(reader, name)
        numeric_column(reader, "date")


def _top(key: np.ndarray, docs: np.ndarray, k: int) -> np.ndarray:
    """Return the indexes of the ``k`` highest keys, ordered; equal keys: lower document number first."""
    if len(key) > k:
        threshold = key[np.argpartition(-key, k - 1)[k - 1]]
        candidates = np.flatnonzero(key >= threshold)  # ties at the cut all stay in the running
    else:
        candidates = np.arange(len(key))
    order = np.lexsort((docs[candidates], -key[candidates]))
    return candidates[order[:k]]


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise SearchTimeout


def _named_facets(searcher: Searcher, raw_counts: dict[str, dict[Any, int]]) -> dict[str, dict[str, int]]:
    """Return the facet counts by displayed value (empty and missing values left out)."""
    facets: dict[str, dict[str, int]] = {}
    for name in FACETS:
        field = searcher.schema[name]
        named: dict[str, int] = {}
        for raw, n in raw_counts[name].items():
            value = field.from_column_value(raw)
            if value not in (None, ""):
                named[value] = named.get(value, 0) + n
        facets[name] = named
    return facets


def _leaves(searcher: Searcher) -> list[tuple[Searcher, int]]:
    if searcher.is_atomic():
        return [(searcher, 0)]
    return list(searcher.leaf_searchers())
