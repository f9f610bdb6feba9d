"""docsets: posting lists read as numpy arrays, phrase checks and per-segment caches agree with whoosh."""

from __future__ import annotations

import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as windex
from whoosh import query as wq

from docsearch.engine.whoosh import docsets
from docsearch.engine.whoosh.bulkparallel import bulk_writer
from docsearch.engine.whoosh.index import document_fields, get_schema
from docsearch.engine.whoosh.matching import acl_query, run_query
from docsearch.engine.whoosh.queries import parse_user_query
from tests.docsearch.synthetic import entries

FIELDS = {"title": 2.0, "body": 1.0}
PHRASES = [
    "住民基本台帳",
    "個人情報",
    "議会の議決",
    "予算決算",
    "取り扱い",
    "情報公開請求",
    "令和5年度",
    "の予算",
    "dx推進",
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> windex.Index:
    """Two bulk segments and one from whoosh's writer (with deletions)."""
    path: Path = tmp_path_factory.mktemp("ix")
    docs = entries(500, seed=5)
    ix = windex.create_in(str(path), get_schema())
    writer = bulk_writer(ix, limitmb=1)
    for entry in docs[:420]:
        writer.add_document(**document_fields(entry))
    writer.commit()
    with ix.writer() as w:
        for entry in docs[420:]:
            w.add_document(**document_fields(entry))
        for entry in docs[::9]:
            w.delete_by_term("key", entry.key)
    return windex.open_dir(str(path))


def _whoosh_postings(reader, fieldname: str, btext: bytes) -> tuple[list[int], list[float]]:
    m = reader.postings(fieldname, btext)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


def test_postings_equal_whooshs_for_every_term(ix: windex.Index) -> None:
    """Are the ids and weights of every term (inlined, one block, many blocks) those whoosh reads"""
    with ix.searcher() as s:
        for leaf in s.reader().leaf_readers():
            reader = leaf[0]
            for fieldname in ("title", "body_uni", "acl", "type"):
                for btext in reader.lexicon(fieldname):
                    ids, weights = _whoosh_postings(reader, fieldname, btext)
                    postings = docsets.term_postings(reader, fieldname, btext)
                    live = ~docsets.deleted_mask(reader)[postings.ids]  # whoosh leaves deleted out
                    assert postings.ids[live].tolist() == ids
                    assert postings.weights[live].tolist() == weights


@pytest.mark.parametrize("count", [1, 2, 3, 4, 130])
@pytest.mark.parametrize(
    "weights", [None, 2.0, "varied", "paren"], ids=["ones", "constant", "varied", "paren-byte"]
)
@pytest.mark.parametrize("values", ["bytes", "none", "joined"])
@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("protocol", [2, 3])  # whoosh's writer, the rebuild writer
def test_block_ids_and_weights_without_values(
    count: int, weights, values: str, compressed: bool, protocol: int
) -> None:
    """Does the cut before a block's values give its ids and weights, whatever the block holds"""
    ids = tuple(range(3, 3 + 7 * count, 7))
    if weights == "varied":
        weights = tuple(float(i % 5 + 1) for i in range(count))
    elif weights == "paren":  # one float whose last pickled byte is "(", as a MARK before values
        weights = struct.unpack(">d", struct.pack(">d", 2.0)[:-1] + b"(")[0]
    encoded = [b"\x00\x00\x00\x01" + pickle.dumps([i * 3], 2) for i in range(count)]
    vs = {"bytes": tuple(encoded), "none": None, "joined": b"".join(encoded)}[values]
    body = pickle.dumps((ids, weights, vs), protocol)
    stored = zlib.compress(body, 1) if compressed else body
    assert docsets._ids_and_weights(stored, compressed, count) == (ids, weights)


def test_phrases_match_exactly_whooshs_phrase_query(ix: windex.Index) -> None:
    """Does the mask of each quoted phrase hold exactly the documents whoosh's Phrase matches"""
    with ix.searcher() as s:
        for text in PHRASES:
            q = parse_user_query(f'"{text}"', FIELDS)
            expected = {h.docnum for h in s.search(q, limit=None)}
            found = set()
            for leaf, base in s.leaf_searchers():
                found.update((np.flatnonzero(docsets.query_mask(leaf, q)) + base).tolist())
            assert found == expected, text


def test_phrase_words_out_of_order_do_not_match(tmp_path: Path) -> None:
    """Does a phrase need its words consecutive and in order (not merely all present)"""
    ix = windex.create_in(str(tmp_path), get_schema())
    with ix.writer() as w:
        for n, body in enumerate(["台帳の住民基本", "住民基本台帳", "基本台帳と住民", "住民 基本 台帳"]):
            w.add_document(key=f"document:{n}", acl="all", title="", title_uni="", body=body, body_uni=body)
    with ix.searcher() as s:
        found = run_query(s, parse_user_query('"住民基本台帳"', FIELDS), ["all"])
        # The analyzer joins 住民 基本 台帳 across spaces (line wraps inside Japanese words).
        assert [k for k, _, _ in found.page] == ["document:1", "document:3"]


def test_segment_caches_survive_a_commit_and_see_new_deletions(tmp_path: Path) -> None:
    """Does a commit keep the caches of untouched segments, while its deletions still count"""
    docs = entries(300, seed=9)
    ix = windex.create_in(str(tmp_path), get_schema())
    writer = bulk_writer(ix, limitmb=64)
    for entry in docs[:250]:
        writer.add_document(**document_fields(entry))
    writer.commit()
    q = parse_user_query("予算", FIELDS)
    with ix.searcher() as s:
        before = run_query(s, q, ["all", "role:records"], limit=5)
        old_cache = docsets._cache(s.reader().leaf_readers()[0][0] if not s.is_atomic() else s.reader())
    w = ix.writer()
    for entry in docs[250:]:
        w.add_document(**document_fields(entry))
    for entry in docs[:250:4]:
        w.delete_by_term("key", entry.key)
    w.commit(merge=False)  # the first segment stays, with new deletions
    with ix.searcher() as s:
        first = s.reader().leaf_readers()[0][0] if not s.is_atomic() else s.reader()
        assert docsets._cache(first) is old_cache
        found = run_query(s, q, ["all", "role:records"], limit=5)
        full = wq.And([q, acl_query(["all", "role:records"])])
        assert found.total == len(s.search(full, limit=None))
        assert found.total != before.total
