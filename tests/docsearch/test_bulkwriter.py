"""The rebuild writer: the same index as whoosh's writer, still updatable, on one or two processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as windex
from whoosh import query as wq

from docsearch.engine.whoosh.bulkparallel import bulk_writer
from docsearch.engine.whoosh.bulkwriter import BLOCK_LIMIT, BulkSegmentWriter
from docsearch.engine.whoosh.index import document_fields, get_schema
from docsearch.engine.whoosh.matching import run_query
from docsearch.engine.whoosh.queries import parse_user_query
from tests.docsearch.synthetic import entries

ACL = {"all", "role:records"}  # every entry of tests.docsearch.synthetic
QUERIES = [
    "予算",
    "村",
    "情報公開 請求",
    '"住民基本台帳"',
    "補助金 OR 交付金",
    "公文書 -廃棄",
    "wifi",
    "2026",
]


def _normal_index(path: Path, docs) -> windex.Index:
    path.mkdir()
    ix = windex.create_in(str(path), get_schema())
    with ix.writer() as w:
        for entry in docs:
            w.add_document(**document_fields(entry))
    return ix


def _bulk_index(
    path: Path, docs, procs: int = 1, limitmb: int = 64, blocklimit: int | None = None
) -> windex.Index:
    path.mkdir()
    ix = windex.create_in(str(path), get_schema())
    if blocklimit is None:
        writer = bulk_writer(ix, procs=procs, limitmb=limitmb)
    else:
        writer = BulkSegmentWriter(ix, limitmb=limitmb, blocklimit=blocklimit)
    for entry in docs:
        writer.add_document(**document_fields(entry))
    writer.commit()
    return windex.open_dir(str(path))


def _hits(ix: windex.Index, text: str) -> dict[str, float]:
    # The search API's path (run_query), not whoosh's matchers: on one split layout whoosh's
    # AndNot matcher let through a document that contains the excluded word (公文書 -廃棄), while
    # each term's postings are right; the API never runs those matchers.
    with ix.searcher() as s:
        q = parse_user_query(text, {"title": 2.0, "body": 1.0})
        found = run_query(s, q, ACL, limit=10_000)
        return {key: round(score, 5) for key, score, _ in found.page}


@pytest.mark.parametrize("blocklimit", [BLOCK_LIMIT, 50])
def test_bulk_writer_writes_the_same_postings_lengths_columns_and_stored_fields(
    tmp_path: Path, blocklimit: int
) -> None:
    """Does the bulk writer produce exactly the index whoosh's own writer produces (postings in its
    own large blocks, or split over many small ones)"""
    docs = entries(400)
    a = _normal_index(tmp_path / "a", docs).reader()
    b = _bulk_index(tmp_path / "b", docs, blocklimit=blocklimit).reader()
    terms = list(a.all_terms())
    assert terms == list(b.all_terms())
    assert any(a.doc_frequency(f, t) > 128 for f, t in terms)  # several whoosh posting blocks
    assert any(b.doc_frequency(f, t) > 2 * blocklimit for f, t in terms) == (blocklimit == 50)
    for fieldname, text in terms:
        ia, ib = a.term_info(fieldname, text), b.term_info(fieldname, text)
        for stat in ("weight", "doc_frequency", "min_length", "max_length", "max_weight", "min_id", "max_id"):
            assert getattr(ia, stat)() == getattr(ib, stat)(), (fieldname, text, stat)
        assert list(a.postings(fieldname, text).all_items()) == list(b.postings(fieldname, text).all_items())
    for docnum in range(len(docs)):
        assert a.stored_fields(docnum) == b.stored_fields(docnum)
        for fieldname in ("title", "title_uni", "body", "body_uni"):
            assert a.doc_field_length(docnum, fieldname) == b.doc_field_length(docnum, fieldname)
    for fieldname in ("type", "department", "fiscal_year", "visibility", "date"):
        assert list(a.column_reader(fieldname)) == list(b.column_reader(fieldname))


def test_bulk_built_index_stays_updatable_by_the_normal_writer(tmp_path: Path) -> None:
    """Can update_document and delete_by_term change an index the bulk writer built"""
    docs = entries(200)
    ix = _bulk_index(tmp_path / "ix", docs)
    changed = docs[0]
    changed.title, changed.body = "除雪計画", "除雪計画の見直し"
    with ix.writer() as w:
        w.update_document(**document_fields(changed))
        w.delete_by_term("key", docs[1].key)
    assert set(_hits(ix, "除雪")) == {changed.key}
    with ix.searcher() as s:
        assert s.doc_count() == len(docs) - 1
        assert not list(s.documents(key=docs[1].key))


def test_two_processes_and_small_segments_find_the_same_hits_and_scores(tmp_path: Path) -> None:
    """Do a two-process rebuild and a rebuild split by limitmb answer every query as one segment does"""
    docs = entries(600)
    one = _normal_index(tmp_path / "one", docs)
    for name, procs, limitmb in (("two", 2, 64), ("split", 1, 1)):
        ix = _bulk_index(tmp_path / name, docs, procs=procs, limitmb=limitmb)
        with ix.searcher() as s:
            assert s.doc_count() == len(docs)
        if name == "split":
            assert len(ix.reader().leaf_readers()) > 1
        for text in QUERIES:
            # Scores depend on collection statistics, which are the same however the index is split.
            assert _hits(ix, text) == _hits(one, text), (name, text)


def test_bulk_writer_cancel_leaves_the_index_as_it_was(tmp_path: Path) -> None:
    """Does a cancelled bulk writer (one or two processes) add nothing and release the lock"""
    docs = entries(100)
    ix = _normal_index(tmp_path / "ix", docs[:10])
    for procs in (1, 2):
        writer = bulk_writer(ix, procs=procs)
        for entry in docs[10:]:
            writer.add_document(**document_fields(entry))
        writer.cancel()
        with ix.searcher() as s:
            assert s.doc_count() == 10
    with ix.writer() as w:  # the lock was released
        w.delete_by_term("key", docs[0].key)
    with ix.searcher() as s:
        assert s.search(wq.Every(), limit=None).scored_length() == 9
