"""The documents a query matches in one segment, as a numpy mask, and the per-segment arrays behind it.

whoosh finds matches by advancing Python matcher objects one document at a time, which at 100,000
documents costs far more than a search may take.  Here a ``Term`` is read straight from its posting
list (decoded block by block with C-level ``zlib`` and ``pickle``, stopping before the positions,
which only phrases need) into numpy arrays of document numbers and term frequencies; a query is a
boolean mask over the segment's documents, and ``And``/``Or``/``AndNot`` are mask operations,
evaluated narrowest first, each inside the documents still possible (``within``).  A ``Phrase`` is
first narrowed to the documents holding all its words, then its positions are checked for those
documents only (whoosh's rule: word ``i`` at position ``p + i``); any other query (ranges) is
checked with its whoosh matcher on the remaining candidates.

Per segment (by its id: a segment never changes but for deletions, which are applied apart, while
whoosh opens new readers for every segment after each commit) a cache keeps the term postings
(LRU-bounded: the caller's acl tokens and common words repeat on every query), a few terms'
positions, the facet columns as integer codes, the field-length arrays that BM25F needs and
numeric columns (``date``) for sorting.
"""

from __future__ import annotations

import functools
import io
import pickle
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.columns import NumericColumn
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.system import unpack_int
from whoosh.util.numeric import byte_to_length

#: Term postings kept per segment (each a few hundred kB at 100,000 documents).
TERM_CACHE_SIZE = 256
#: Posting values (positions, for phrases) kept per segment.
VALUES_CACHE_SIZE = 32

_COMPOUND = (wq.And, wq.Or, wq.AndNot)
#: Lossy field-length bytes (whoosh's ``length_to_byte``) back to lengths, as ``byte_to_length``.
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)

Mask = np.ndarray  # bool, one entry per document of the segment (deleted ones included)


@dataclass
class Postings:
    """One term's posting list in one segment: sorted document numbers and their weights (tf)."""

    ids: np.ndarray  # int64
    weights: np.ndarray  # float64
    _mask: Mask | None = field(default=None, repr=False)

    def mask(self, doccount: int) -> Mask:
        """Return the term's documents as a (cached, read-only) boolean mask."""
        if self._mask is None:
            mask = np.zeros(doccount, dtype=bool)
            mask[self.ids] = True
            mask.flags.writeable = False
            self._mask = mask
        return self._mask


def _empty() -> Postings:
    # A fresh one each time: its cached mask has the length of its own segment.
    return Postings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


@dataclass
class FacetColumn:
    """A column as integer codes per document and the distinct raw values they stand for."""

    codes: np.ndarray
    values: list[Any]


class _SegmentCache:
    def __init__(self) -> None:
        # One searcher per thread, but segment readers of one searcher may be shared by a refreshed
        # one: a lock keeps the LRU bookkeeping consistent.
        self.lock = threading.Lock()
        self.terms: OrderedDict[tuple[str, bytes], Postings] = OrderedDict()
        self.values: OrderedDict[tuple[str, bytes], list[Any]] = OrderedDict()
        self.facets: dict[str, FacetColumn] = {}
        self.lengths: dict[str, np.ndarray] = {}
        self.numbers: dict[str, np.ndarray] = {}

    def remembered(self, lru: OrderedDict[Any, Any], key: Any, load: Callable[[], Any], limit: int) -> Any:
        """Return ``lru[key]``, loading it (outside the lock: reads are slow) and evicting the
        least recently used entry beyond ``limit``."""
        with self.lock:
            found = lru.get(key)
            if found is not None:
                lru.move_to_end(key)
                return found
        found = load()
        with self.lock:
            lru[key] = found
            while len(lru) > limit:
                lru.popitem(last=False)
        return found


#: Segment caches by segment id: a segment's postings and columns never change once written, and
#: ``Index.searcher()`` opens new readers for unchanged segments after every commit, so keying on
#: the segment (not the reader) keeps the caches warm across commits.  Bounded: merged-away
#: segments fall out.
SEGMENT_CACHES = 64
_caches: OrderedDict[Any, _SegmentCache] = OrderedDict()
_by_reader: weakref.WeakKeyDictionary[IndexReader, _SegmentCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(reader: IndexReader) -> _SegmentCache:
    cache = _by_reader.get(reader)
    if cache is not None:
        return cache
    segment = reader.segment()
    # Any other reader (not a whoosh segment) gets a cache of its own, dropped with it.
    key = (segment.segment_id(), reader.doc_count_all()) if segment is not None else None
    with _caches_lock:
        cache = _caches.get(key) if key is not None else None
        if cache is None:
            cache = _SegmentCache()
            if key is not None:
                _caches[key] = cache
                while len(_caches) > SEGMENT_CACHES:
                    _caches.popitem(last=False)
        elif key is not None:
            _caches.move_to_end(key)
        _by_reader[reader] = cache
    return cache


def query_mask(searcher: Searcher, q: wq.Query, memo: dict[int, Mask] | None = None) -> Mask:
    """Return the documents of the atomic ``searcher`` that ``q`` matches (deleted ones left out).

    ``memo`` receives, by ``id()`` of each query node evaluated, the node's mask; it is exact on the
    documents the whole query matches, which is what scoring needs (``docsearch.engine.whoosh.ranking``).
    """
    reader = searcher.reader()
    mask = _mask(searcher, reader, q, None, memo if memo is not None else {})
    if reader.has_deletions():
        mask = mask & ~deleted_mask(reader)
    return mask


_deleted: weakref.WeakKeyDictionary[IndexReader, Mask] = weakref.WeakKeyDictionary()


def deleted_mask(reader: IndexReader) -> Mask:
    """Return the segment's deleted documents as a mask (cached per reader: deletions grow)."""
    mask = _deleted.get(reader)
    if mask is None:
        mask = np.zeros(reader.doc_count_all(), dtype=bool)
        deleted = getattr(reader, "deleted_docs_set", None)  # SegmentReader keeps the set
        if deleted is None:
            deleted = [n for n in range(reader.doc_count_all()) if reader.is_deleted(n)]
        mask[list(deleted)] = True
        _deleted[reader] = mask
    return mask


def _mask(searcher: Searcher, reader: IndexReader, q: wq.Query, within: Mask | None, memo: dict) -> Mask:
    result = _evaluate(searcher, reader, q, within, memo)
    memo[id(q)] = result
    return result


def _evaluate(searcher: Searcher, reader: IndexReader, q: wq.Query, within: Mask | None, memo: dict) -> Mask:
    n = reader.doc_count_all()
    kind = type(q)
    if kind is wq.Term:
        docs = term_postings(reader, q.fieldname, q.text).mask(n)
        return docs if within is None else within & docs
    if kind is wq.And:
        for sub in sorted(q.subqueries, key=lambda s: _cost(reader, s)):
            within = _mask(searcher, reader, sub, within, memo)
            if not within.any():
                return np.zeros(n, dtype=bool)
        return within if within is not None else np.zeros(n, dtype=bool)
    if kind is wq.Or:
        found = np.zeros(n, dtype=bool)
        for sub in q.subqueries:
            found |= _mask(searcher, reader, sub, within, memo)
        return found
    if kind is wq.AndNot:
        positive = _mask(searcher, reader, q.a, within, memo)
        if not positive.any():
            return positive
        return positive & ~_mask(searcher, reader, q.b, positive, memo)
    if kind is wq.NullQuery.__class__:
        return np.zeros(n, dtype=bool)
    if kind is wq.Phrase:
        # Only documents holding every word can hold the phrase: whoosh checks positions on those.
        for word in q.words:
            docs = term_postings(reader, q.fieldname, word).mask(n)
            within = docs if within is None else within & docs
        if not within.any():
            return within
        found = _phrase_mask(reader, q, within)
        if found is not None:
            return found
    return _matcher_mask(searcher, q, within, n)


def _cost(reader: IndexReader, q: wq.Query) -> tuple[int, int]:
    # Narrowest first: a short posting list makes every later intersection cheap; queries checked
    # by a whoosh matcher (phrases, ranges) come last, when the fewest candidates are left.
    if type(q) is wq.Term:
        try:
            return (0, reader.doc_frequency(q.fieldname, q.text))
        except (TermNotFound, ValueError):
            return (0, 0)
    if type(q) in _COMPOUND and all(type(leaf) is wq.Term for leaf in q.leaves()):
        return (1, 0)
    return (2, 0)


def _matcher_mask(searcher: Searcher, q: wq.Query, within: Mask | None, n: int) -> Mask:
    """Documents of ``q`` by its whoosh matcher, visiting only ``within`` when given."""
    found = np.zeros(n, dtype=bool)
    matcher = q.matcher(searcher)
    if within is None:
        if matcher.is_active():
            found[list(matcher.all_ids())] = True
        return found
    candidates = np.flatnonzero(within).tolist()
    found[[candidates[i] for i in matched_positions(matcher, candidates)]] = True
    return found


def matched_positions(matcher: Any, docnums: list[int]) -> Iterator[int]:
    """Yield the index ``i`` of each ``docnums[i]`` (ascending) that whoosh's ``matcher`` matches,
    leaving the matcher on it (for its score); skips ahead instead of visiting every match."""
    for i, docnum in enumerate(docnums):
        if not matcher.is_active():
            return
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                return
        if matcher.id() == docnum:
            yield i


def _phrase_mask(reader: IndexReader, q: wq.Phrase, within: Mask) -> Mask | None:
    """The documents of ``within`` (which all hold every word) where the words stand consecutively.

    whoosh's ``Phrase`` (a ``SpanNear2`` with slop 1) accepts word ``i`` at position ``p + i`` and
    nothing else; the same check as one intersection of (document, ``position − i``) keys.
    ``None`` when the field has no positions or the phrase has a slop (whoosh's matcher decides).
    """
    field = reader.schema[q.fieldname]
    if q.slop != 1 or not field.format.supports("positions"):
        return None
    decode = field.format.decode_positions
    docs = np.flatnonzero(within)
    starts: np.ndarray | None = None
    for i, word in enumerate(q.words):
        postings = term_postings(reader, q.fieldname, word)
        values = term_values(reader, q.fieldname, word)
        decoded: dict[bytes, list[int]] = {}  # most values are one position, repeated across documents
        rows: list[int] = []
        positions: list[int] = []
        for row, value in enumerate(map(values.__getitem__, np.searchsorted(postings.ids, docs).tolist())):
            found = decoded.get(value)
            if found is None:
                found = decoded[value] = decode(value)
            rows.extend([row] * len(found))
            positions.extend(found)
        start = np.array(positions, dtype=np.int64) - i
        keys = (np.array(rows, dtype=np.int64) << 32) | np.where(start >= 0, start, 0)
        keys = keys[start >= 0]
        keys = _sorted_unique(keys)
        starts = keys if starts is None else _intersect(starts, keys)
        if not len(starts):
            break
    mask = np.zeros(len(within), dtype=bool)
    if starts is not None and len(starts):
        mask[docs[starts >> 32]] = True
    return mask


# Plain sorts and searches rather than np.unique/np.intersect1d, whose first call imports numpy
# modules lazily (over 10 ms, paid by a user's query).
def _sorted_unique(values: np.ndarray) -> np.ndarray:
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of sorted ``a`` that are in sorted ``b``."""
    if not len(a) or not len(b):
        return a[:0]
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return a[b[at] == a]


def term_values(reader: IndexReader, fieldname: str, text: Any) -> list[Any]:
    """Return a term's posting values (encoded positions), aligned with ``term_postings().ids``.

    Only phrases read them; a few terms are cached per segment.
    """
    btext = reader.schema[fieldname].to_bytes(text)
    cache = _cache(reader)
    load = functools.partial(_read_values, reader, fieldname, btext)
    return cache.remembered(cache.values, (fieldname, btext), load, VALUES_CACHE_SIZE)


def _read_values(reader: IndexReader, fieldname: str, btext: bytes) -> list[Any]:
    terms = getattr(reader, "_terms", None)
    postfile = getattr(terms, "_postfile", None)
    if postfile is None:  # not a whoosh3 segment: ask whoosh
        if (fieldname, btext) not in reader:
            return []
        m = reader.postings(fieldname, btext)
        values = []
        while m.is_active():
            values.append(m.value())
            m.next()
        return values
    try:
        info = terms.term_info(fieldname, btext)
    except (TermNotFound, KeyError):
        return []
    if info.is_inlined():
        return list(info.inlined_postings()[2])
    offset, length = info.extent()
    if isinstance(length, tuple):
        (length,) = length
    data = postfile.get(offset, length)
    values: list[Any] = []
    stream = io.BytesIO(data)
    pos = 4
    while True:
        (size,) = unpack_int(data[pos : pos + 4])
        end = pos + 4 + abs(size)
        stream.seek(pos + 4)
        info = pickle.load(stream)  # noqa: S301 - our own index file, read as whoosh reads it
        body = data[stream.tell() : end]
        if info[3]:
            body = zlib.decompress(body)
        values.extend(pickle.loads(body)[2])  # noqa: S301 - as above
        if size < 0:
            return values
        pos = end


def term_postings(reader: IndexReader, fieldname: str, text: Any) -> Postings:
    """Return a term's postings in the segment (deleted documents included), cached per segment."""
    if fieldname not in reader.schema:
        return _empty()
    try:
        btext = reader.schema[fieldname].to_bytes(text)
    except ValueError:
        return _empty()
    cache = _cache(reader)
    load = functools.partial(_read_postings, reader, fieldname, btext)
    return cache.remembered(cache.terms, (fieldname, btext), load, TERM_CACHE_SIZE)


def _read_postings(reader: IndexReader, fieldname: str, btext: bytes) -> Postings:
    terms = getattr(reader, "_terms", None)
    postfile = getattr(terms, "_postfile", None)
    if postfile is None:  # not a whoosh3 segment: ask whoosh
        if (fieldname, btext) not in reader:
            return _empty()
        m = reader.postings(fieldname, btext)
        ids, weights = [], []
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
        return Postings(np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64))
    try:
        info = terms.term_info(fieldname, btext)
    except (TermNotFound, KeyError):
        return _empty()
    if info.is_inlined():
        ids, weights, _ = info.inlined_postings()
        return Postings(np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64))
    offset, length = info.extent()
    if isinstance(length, tuple):  # whoosh's W3TermInfo.from_bytes leaves struct.unpack's tuple
        (length,) = length
    return _decode_blocks(postfile.get(offset, length))


def _decode_blocks(data: bytes) -> Postings:
    """Decode every block of one posting list (the layout of ``W3PostingsWriter._write_block``)."""
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    stream = io.BytesIO(data)
    pos = 4  # after the block-list magic
    while True:
        (size,) = unpack_int(data[pos : pos + 4])
        end = pos + 4 + abs(size)
        stream.seek(pos + 4)
        info = pickle.load(stream)  # noqa: S301 - our own index file, read as whoosh reads it
        count = info[0]
        deltas, block_weights = _ids_and_weights(data[stream.tell() : end], bool(info[3]), count)
        ids.append(np.cumsum(np.array(deltas, dtype=np.int64)))
        if block_weights is None:  # whoosh leaves out weights that are all 1.0, or all one value
            weights.append(np.ones(count, dtype=np.float64))
        elif isinstance(block_weights, float):
            weights.append(np.full(count, block_weights, dtype=np.float64))
        else:
            weights.append(np.array(block_weights, dtype=np.float64))
        if size < 0:  # the last block
            return Postings(np.concatenate(ids), np.concatenate(weights))
        pos = end


#: Where a block's values start: each new bytes value is pickled (protocol 2) as ``_codecs.encode``.
_VALUES_START = b"c_codecs\nencode\n"


def _ids_and_weights(stored: bytes, compressed: bool, count: int) -> tuple[Any, Any]:
    """Unpickle a block's (ids, weights) without its values (positions, packed frequencies).

    In a block of whoosh's writer (pickle protocol 2), unpickling the values costs most of the time
    (a ``_codecs.encode`` call per posting) and neither matching nor scoring needs them, so only the
    start of the block is decompressed, the pickle is cut where the values start and closed as a
    2-tuple.  A cut that does not give ``count`` ids falls back to the whole pickle.  The rebuild
    writer's blocks (protocol 3, ``bulkwriter.PICKLE_PROTOCOL``) hold values as plain bytes, which
    unpickle fast: they are read whole.
    """
    body, whole = _head(stored, count) if compressed else (stored, True)
    cut = body.find(_VALUES_START) if body[1:2] == b"\x02" else -1
    if cut > 0:
        # More than 3 values are a MARK ... TUPLE; up to 3, TUPLE1-3 after the items.
        head = body[: cut - 1] if count > 3 and body[cut - 1] == 0x28 else body[:cut]
        try:
            ids, weights = pickle.loads(head + b"\x86.")  # noqa: S301 - our own index file
        except Exception:  # noqa: S110 - an unexpected layout: the whole pickle below
            pass
        else:
            if len(ids) == count and (weights is None or isinstance(weights, float) or len(weights) == count):
                return ids, weights
    if not whole:
        body = zlib.decompress(stored)
    ids, weights, _ = pickle.loads(body)  # noqa: S301 - as above
    return ids, weights


def _head(stored: bytes, count: int) -> tuple[bytes, bool]:
    """Decompress ``stored`` until the values start, or wholly if it is not protocol 2; and whether
    all of it was decompressed."""
    inflater = zlib.decompressobj()
    # Ids take 2-5 bytes each and weights (when stored) 9: usually one step reaches the values.
    step = 14 * count + 64
    body = inflater.decompress(stored, step)
    if body[1:2] != b"\x02":
        return body + inflater.decompress(inflater.unconsumed_tail), True
    while inflater.unconsumed_tail and body.find(_VALUES_START, max(0, len(body) - step - 16)) < 0:
        body += inflater.decompress(inflater.unconsumed_tail, step)
    return body, not inflater.unconsumed_tail


def facet_column(reader: IndexReader, fieldname: str) -> FacetColumn:
    """Return the column of ``fieldname`` as codes per document (cached per segment)."""
    cache = _cache(reader)
    column = cache.facets.get(fieldname)
    if column is None:
        creader = reader.column_reader(fieldname)
        raw = [creader.sort_key(n) for n in range(reader.doc_count_all())]
        index: dict[Any, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in raw), dtype=np.int32, count=len(raw))
        column = cache.facets[fieldname] = FacetColumn(codes, list(index))
    return column


def facet_counts(reader: IndexReader, fieldname: str, mask: Mask) -> dict[Any, int]:
    """Return how many of the documents in ``mask`` hold each raw column value of ``fieldname``."""
    column = facet_column(reader, fieldname)
    counts = np.bincount(column.codes[mask], minlength=len(column.values))
    return {column.values[i]: int(counts[i]) for i in np.flatnonzero(counts).tolist()}


def field_lengths(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Return the (whoosh-rounded) length of ``fieldname`` in each document, as BM25F reads it."""
    cache = _cache(reader)
    lengths = cache.lengths.get(fieldname)
    if lengths is None:
        n = reader.doc_count_all()
        perdoc = getattr(reader, "_perdoc", None)
        creader = None
        if perdoc is not None and hasattr(perdoc, "_cached_reader"):
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

            creader = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        codes = _raw_numbers(creader, n) if creader is not None else None
        if codes is not None:
            lengths = _BYTE_LENGTHS[codes]
        else:
            lengths = np.array(
                [reader.doc_field_length(d, fieldname) or 0 for d in range(n)], dtype=np.float64
            )
        lengths.flags.writeable = False
        cache.lengths[fieldname] = lengths
    return lengths


def numeric_column(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Return the sort keys of a numeric column (``date``) by document number (cached per segment)."""
    cache = _cache(reader)
    numbers = cache.numbers.get(fieldname)
    if numbers is None:
        n = reader.doc_count_all()
        creader = reader.column_reader(fieldname, translate=False)  # sort keys, not field values
        numbers = _raw_numbers(creader, n)
        if numbers is None:
            numbers = np.array([creader.sort_key(d) for d in range(n)])
        numbers.flags.writeable = False
        cache.numbers[fieldname] = numbers
    return numbers


def _raw_numbers(creader: Any, n: int) -> np.ndarray | None:
    """Read a whoosh ``NumericColumn`` file slice in one go (``None`` for any other column reader)."""
    if type(creader) is not NumericColumn.Reader or creader._reverse:
        return None
    dtype = np.dtype(">" + creader._typecode)
    stored = min(creader._count, n)
    values = np.full(n, creader._default, dtype=dtype.newbyteorder("="))
    if stored:
        raw = creader._dbfile.get(creader._basepos, stored * dtype.itemsize)
        values[:stored] = np.frombuffer(raw, dtype=dtype)
    return values
