"""run_query: totals and facets equal a brute-force count; the page is the exact BM25F ranking.

The ranking is checked against ``_reference_score``: the documented score (``engine.whoosh.ranking``)
written out one document at a time from whoosh's reader statistics, and against whoosh's own scores
of the user's query (the acl and filter queries given to whoosh as a non-scoring filter).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from whoosh import index as windex
from whoosh import query as wq
from whoosh import sorting

from docsearch.engine.whoosh.bulkparallel import bulk_writer
from docsearch.engine.whoosh.index import document_fields, get_schema
from docsearch.engine.whoosh.matching import FACETS, SearchTimeout, acl_query, run_query
from docsearch.engine.whoosh.queries import parse_user_query
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
        writer.add_document(**document_fields(entry))
    writer.commit()
    with ix.writer() as w:
        for entry in docs[600:]:
            w.add_document(**document_fields(entry))
        for entry in docs[::7]:
            w.delete_by_term("key", entry.key)
        docs[3].body = "予算の補正"
        w.update_document(**document_fields(docs[3]))
    return windex.open_dir(str(path))


B, K1 = 0.75, 1.2  # whoosh's BM25F defaults


def _reference_score(s, q: wq.Query, docnum: int) -> float:
    """The score of ``q`` for one document (global ``docnum``), straight from the definition."""
    reader = s.reader()
    if isinstance(q, wq.Term):
        btext = s.schema[q.fieldname].to_bytes(q.text)
        if (q.fieldname, btext) not in reader:
            return 0.0
        postings = reader.postings(q.fieldname, btext)
        postings.skip_to(docnum)
        if not postings.is_active() or postings.id() != docnum:
            return 0.0
        tf = postings.weight()
        n = reader.doc_count_all()
        idf = math.log(n / (reader.doc_frequency(q.fieldname, btext) + 1)) + 1
        avgfl = reader.field_length(q.fieldname) / n
        fl = reader.doc_field_length(docnum, q.fieldname)
        return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl))) * q.boost
    if docnum not in _matches(s, q):
        return 0.0
    if isinstance(q, wq.AndNot):
        return _reference_score(s, q.a, docnum) * q.boost
    parts = [wq.Term(q.fieldname, w) for w in q.words] if isinstance(q, wq.Phrase) else q.subqueries
    total = 0.0
    for part in parts:
        total += _reference_score(s, part, docnum)
    return total * q.boost


_MATCHES: dict[tuple[int, str], set[int]] = {}


def _matches(s, q: wq.Query) -> set[int]:
    key = (id(s), repr(q))
    if key not in _MATCHES:
        _MATCHES[key] = {h.docnum for h in s.search(q, limit=None)}
    return _MATCHES[key]


def _ranking(s, q: wq.Query, full: wq.Query) -> list[tuple[str, float]]:
    """Every match of ``full`` scored by ``q``, best first (equal scores: lower document number first)."""
    scored = [(-_reference_score(s, q, d), d) for d in _matches(s, full)]
    return [(s.stored_fields(d)["key"], -neg) for neg, d in sorted(scored)]


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
    """Is each page (keys, scores, order) a slice of every match scored by the reference and sorted"""
    with ix.searcher() as s:
        for tokens in CALLERS:
            q = parse_user_query(text, FIELDS)
            expected = _ranking(s, q, wq.And([q, acl_query(tokens)]))
            for offset in (0, 10):
                found = run_query(s, q, tokens, limit=15, offset=offset)
                assert [(k, round(sc, 6)) for k, sc, _ in found.page] == [
                    (k, round(sc, 6)) for k, sc in expected[offset : offset + 15]
                ]


@pytest.mark.parametrize("text", QUERIES)
def test_scores_are_whooshs_bm25f_of_the_user_query(ix: windex.Index, text: str) -> None:
    """Does every hit carry the score whoosh gives the user's query alone (acl as a filter)"""
    with ix.searcher() as s:
        tokens = ["all", "role:records"]
        q = parse_user_query(text, FIELDS)
        whoosh_scores = {
            h["key"]: round(h.score, 6) for h in s.search(q, filter=acl_query(tokens), limit=None)
        }
        found = run_query(s, q, tokens, limit=100)
        assert found.page or not whoosh_scores
        assert {k: round(sc, 6) for k, sc, _ in found.page} == {k: whoosh_scores[k] for k, _, _ in found.page}
        assert sorted(whoosh_scores.values(), reverse=True)[:100] == [round(sc, 6) for _, sc, _ in found.page]


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
        for key, score, _ in found.page:  # each hit still carries its relevance score
            assert round(score, 6) == round(_reference_score(s, q, s.document_number(key=key)), 6)


def test_search_past_the_time_limit_raises(ix: windex.Index) -> None:
    """Does a search that outlives its time limit raise SearchTimeout"""
    with ix.searcher() as s, pytest.raises(SearchTimeout):
        run_query(s, parse_user_query("村", FIELDS), ["all"], time_limit=-1.0)
