"""The set of documents a query matches in one segment, without scoring: for totals and facets.

whoosh finds matches by advancing Python matcher objects one document at a time, which at 100,000
documents costs far more than counting needs.  Here a ``Term`` is the set of document numbers of
its posting list, decoded block by block with C-level ``zlib``, ``pickle`` and
``itertools.accumulate``; ``And``/``Or``/``AndNot`` are set operations, evaluated narrowest first,
each inside the documents still possible (``within``).  Any other query (``Phrase``, ranges) is
checked with its own whoosh matcher, on the remaining candidates only.

Per segment reader (replaced by whoosh whenever the index changes) a bounded cache keeps term sets
(the caller's acl tokens repeat on every query) and the facet columns as lists.
"""

from __future__ import annotations

import io
import pickle
import weakref
import zlib
from itertools import accumulate
from typing import Any

from whoosh import query as wq
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.system import unpack_int

#: Term sets kept per segment reader (each at most a few hundred kB).
TERM_CACHE_SIZE = 256

_COMPOUND = (wq.And, wq.Or, wq.AndNot)


class _SegmentCache:
    def __init__(self) -> None:
        self.terms: dict[tuple[str, bytes], frozenset[int]] = {}
        self.columns: dict[str, list[Any]] = {}


_caches: weakref.WeakKeyDictionary[IndexReader, _SegmentCache] = weakref.WeakKeyDictionary()


def _cache(reader: IndexReader) -> _SegmentCache:
    cache = _caches.get(reader)
    if cache is None:
        cache = _caches[reader] = _SegmentCache()
    return cache


def query_docs(searcher: Searcher, q: wq.Query) -> set[int] | frozenset[int]:
    """Return the (segment) document numbers matched by ``q`` in the atomic ``searcher``."""
    reader = searcher.reader()
    docs = _docs(searcher, reader, q, None)
    if reader.has_deletions():
        docs = docs - _deleted(reader)
    return docs


def _deleted(reader: IndexReader) -> frozenset[int]:
    deleted = getattr(reader, "deleted_docs_set", None)  # SegmentReader caches it
    if deleted is None:
        deleted = frozenset(n for n in range(reader.doc_count_all()) if reader.is_deleted(n))
    return deleted


def facet_column(reader: IndexReader, fieldname: str) -> list[Any]:
    """Return the column values of ``fieldname`` by document number (cached per segment reader)."""
    cache = _cache(reader)
    column = cache.columns.get(fieldname)
    if column is None:
        creader = reader.column_reader(fieldname)
        column = cache.columns[fieldname] = [creader.sort_key(n) for n in range(reader.doc_count_all())]
    return column


Docs = set[int] | frozenset[int]


def _docs(searcher: Searcher, reader: IndexReader, q: wq.Query, within: Docs | None) -> Docs:
    kind = type(q)
    if kind is wq.Term:
        docs = term_docs(reader, q.fieldname, q.text)
        return docs if within is None else within & docs
    if kind is wq.And:
        for sub in sorted(q.subqueries, key=lambda s: _cost(reader, s)):
            within = _docs(searcher, reader, sub, within)
            if not within:
                return frozenset()
        return within if within is not None else frozenset()
    if kind is wq.Or:
        found: set[int] = set()
        for sub in q.subqueries:
            found |= _docs(searcher, reader, sub, within)
        return found
    if kind is wq.AndNot:
        positive = _docs(searcher, reader, q.a, within)
        return positive - _docs(searcher, reader, q.b, positive) if positive else positive
    if kind is wq.NullQuery.__class__:
        return frozenset()
    return _matcher_docs(searcher, q, within)


def _cost(reader: IndexReader, q: wq.Query) -> tuple[int, int]:
    # Narrowest first: a short posting list makes every later intersection cheap.
    if type(q) is wq.Term:
        try:
            return (0, reader.doc_frequency(q.fieldname, q.text))
        except (TermNotFound, ValueError):
            return (0, 0)
    return (1, 0) if type(q) in _COMPOUND else (2, 0)


def _matcher_docs(searcher: Searcher, q: wq.Query, within: Docs | None) -> Docs:
    """Documents of ``q`` by its whoosh matcher, visiting only ``within`` when given."""
    matcher = q.matcher(searcher)
    if within is None:
        return set(matcher.all_ids()) if matcher.is_active() else set()
    found = set()
    for docnum in sorted(within):
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                break
        if matcher.id() == docnum:
            found.add(docnum)
    return found


def term_docs(reader: IndexReader, fieldname: str, text: Any) -> frozenset[int]:
    """Return the document numbers (deleted ones included) of a term's posting list, cached."""
    if fieldname not in reader.schema:
        return frozenset()
    try:
        btext = reader.schema[fieldname].to_bytes(text)
    except ValueError:
        return frozenset()
    cache = _cache(reader).terms
    key = (fieldname, btext)
    docs = cache.get(key)
    if docs is None:
        docs = frozenset(_posting_ids(reader, fieldname, btext))
        if len(cache) >= TERM_CACHE_SIZE:
            del cache[next(iter(cache))]  # the oldest entry
        cache[key] = docs
    return docs


def _posting_ids(reader: IndexReader, fieldname: str, btext: bytes) -> Any:
    terms = getattr(reader, "_terms", None)
    postfile = getattr(terms, "_postfile", None)
    if postfile is None:  # not a whoosh3 segment: ask whoosh
        if (fieldname, btext) not in reader:
            return ()
        return reader.postings(fieldname, btext).all_ids()
    try:
        info = terms.term_info(fieldname, btext)
    except (TermNotFound, KeyError):
        return ()
    if info.is_inlined():
        return info.inlined_postings()[0]
    offset, length = info.extent()
    if isinstance(length, tuple):  # whoosh's W3TermInfo.from_bytes leaves struct.unpack's tuple
        (length,) = length
    return _block_ids(postfile.get(offset, length))


def _block_ids(data: bytes) -> list[int]:
    """Decode the ids of every block of one posting list (the layout of ``W3PostingsWriter``)."""
    ids: list[int] = []
    stream = io.BytesIO(data)
    pos = 4  # after the block-list magic
    while True:
        (size,) = unpack_int(data[pos : pos + 4])
        last = size < 0
        end = pos + 4 + abs(size)
        stream.seek(pos + 4)
        info = pickle.load(stream)  # noqa: S301 - our own index file, read as whoosh reads it
        body = data[stream.tell() : end]
        if info[3]:
            body = zlib.decompress(body)
        ids.extend(accumulate(pickle.loads(body)[0]))  # noqa: S301 - as above
        if last:
            return ids
        pos = end
