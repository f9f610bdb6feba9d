"""run_query: totals and facets equal a brute-force count; the page is the exact ranking."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from whoosh import index as windex
from whoosh import query as wq
from whoosh import sorting

from docsearch.bulkparallel import bulk_writer
from docsearch.index import get_schema
from docsearch.matching import FACETS, SearchTimeout, acl_query, run_query
from docsearch.query import parse_user_query
from tests.docsearch.synthetic import entries

FIELDS = {"title": 2.0, "body": 1.0}
QUERIES = [
    "予算",
    "村",
    "は",
    "情報公開 請求",
    '"住民基本台帳"',
    "補助金 OR 交付金",
    "公文書 -廃棄",
    "wifi",
    "存在しない語",
]
CALLERS = [["all", "user:17", "dept:03"], ["all", "role:records"], ["user:5"]]


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> windex.Index:
    """Two bulk segments plus one from the normal writer, with deletions and an update."""
    path: Path = tmp_path_factory.mktemp("ix")
    docs = entries(700)
    ix = windex.create_in(str(path), get_schema())
    writer = bulk_writer(ix, limitmb=1)  # small: several segments
    for entry in docs[:600]:
        writer.add_document(**entry.fields())
    writer.commit()
    with ix.writer() as w:
        for entry in docs[600:]:
            w.add_document(**entry.fields())
        for entry in docs[::7]:
            w.delete_by_term("key", entry.key)
        docs[3].body = "予算の補正"
        w.update_document(**docs[3].fields())
    return windex.open_dir(str(path))


def _ranking(searcher, q):
    """Every match scored, best first (equal scores: lower document number first)."""
    return searcher.search(q, limit=None)


@pytest.mark.parametrize("text", QUERIES)
def test_total_and_facets_equal_a_brute_force_count(ix: windex.Index, text: str) -> None:
    """Are the total and each facet count those of every matching stored document"""
    with ix.searcher() as s:
        assert len(s.reader().leaf_readers()) > 1
        for tokens in CALLERS:
            q = parse_user_query(text, FIELDS)
            found = run_query(s, q, tokens, limit=5)
            every = [hit.fields() for hit in s.search(wq.And([q, acl_query(tokens)]), limit=None)]
            assert found.total == len(every)
            for name in FACETS:
                expected = Counter(f.get(name) for f in every)
                assert found.facets[name] == {k: n for k, n in expected.items() if k not in (None, "")}


@pytest.mark.parametrize("text", QUERIES)
def test_page_is_the_exact_ranking_with_scores(ix: windex.Index, text: str) -> None:
    """Is each page (keys, scores, order) a slice of every match scored and sorted"""
    with ix.searcher() as s:
        for tokens in CALLERS:
            q = parse_user_query(text, FIELDS)
            expected = _ranking(s, wq.And([q, acl_query(tokens)]))
            for offset in (0, 10):
                found = run_query(s, q, tokens, limit=15, offset=offset)
                assert [(k, round(sc, 6)) for k, sc, _ in found.page] == [
                    (h["key"], round(h.score, 6)) for h in expected[offset : offset + 15]
                ]


def test_filters_and_date_sort_match_whoosh(ix: windex.Index) -> None:
    """Do filters (term and date range) and newest-first order agree with whoosh's search"""
    filters = [wq.Term("type", "document"), wq.NumericRange("date", 20240601, 20250601)]
    with ix.searcher() as s:
        q = parse_user_query("予算", FIELDS)
        tokens = ["all", "role:records"]
        found = run_query(s, q, tokens, filters, limit=10, sort="date")
        full = wq.And([q, acl_query(tokens), *filters])
        expected = s.search(full, limit=10, sortedby=sorting.FieldFacet("date", reverse=True))
        assert found.total == len(s.search(full, limit=None))
        assert [k for k, _, _ in found.page] == [h["key"] for h in expected]
        assert all(20240601 <= stored["date"] <= 20250601 for _, _, stored in found.page)


def test_search_past_the_time_limit_raises(ix: windex.Index) -> None:
    """Does a search that outlives its time limit raise SearchTimeout"""
    with ix.searcher() as s, pytest.raises(SearchTimeout):
        run_query(s, parse_user_query("村", FIELDS), ["all"], time_limit=-1.0)
