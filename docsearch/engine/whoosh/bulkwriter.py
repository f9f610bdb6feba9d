"""A fast whoosh writer for full rebuilds: postings kept in memory, segments written block by block.

whoosh's ``SegmentWriter`` sends every posting through a pool that pickles it to temporary files,
merges the runs with ``heapq.merge`` and reads each posting's field length back from the length
column before the codec adds it one call at a time.  Our documents give ~725 postings each, so a
rebuild ran at ~70 documents/s.  A rebuild only adds, so this writer keeps each field's postings in
a dict of flat lists (term → [docnum, weight, value, docnum, …]: one C-level ``+=`` per posting),
knows the field lengths it computed, and at commit writes each term's posting blocks itself with
C-level slicing, ``pickle`` and ``zlib``, in the block layout of whoosh's ``W3PostingsWriter``
(see ``_posting_blocks``; the data is pickled with ``PICKLE_PROTOCOL``).  Stored fields, lengths
and sort columns go through whoosh's own per-document writer, and the segment and TOC are
committed by ``SegmentWriter``, so the result is an ordinary whoosh index: ``open_dir``,
searching, ``update_document`` and ``delete_by_term`` of the normal writer work on it afterwards.

Memory: about ``BYTES_PER_POSTING`` per posting; past ``limitmb`` the writer closes its segment and
starts another (more segments: slightly slower queries until whoosh merges them on later commits).
Several processes (``procs``) each build their own segments; see ``docsearch.engine.whoosh.bulkparallel``.
"""

from __future__ import annotations

import operator
import zlib
from array import array
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from itertools import repeat
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo
from whoosh.fields import FieldType
from whoosh.index import Index
from whoosh.system import emptybytes, pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

#: Postings per block in the segments a rebuild writes.  whoosh's writer uses 128; readers take
#: any size.  A search reads a term's whole posting list (docsearch.engine.whoosh.docsets), and per-block work
#: (zlib, pickle, array views) dominated the first read of a common term: 1,024 cut it severalfold.
BLOCK_LIMIT = 1024

#: zlib level of the posting blocks a rebuild writes (whoosh's writer: 3).  Readers only ask whether
#: a block is compressed; level 1 compresses these pickled integer lists nearly as well, faster.
COMPRESSION = 1

#: Pickle protocol of the posting blocks a rebuild writes (whoosh's writer: 2).  Protocol 2 pickles
#: each bytes value (a posting's encoded positions) as a ``_codecs.encode`` call on a string;
#: protocol 3 as plain bytes: 4x faster to pickle, a third smaller after zlib, faster to read.
#: Readers just unpickle; ``docsets`` reads protocol-2 blocks (the normal writer's) without values.
PICKLE_PROTOCOL = 3

#: Measured memory per in-memory posting (list slots, shared values): what ``limitmb`` is divided by.
BYTES_PER_POSTING = 40


class BulkSegmentWriter(SegmentWriter):
    """``SegmentWriter`` for adding many documents at once (no ``update_document``, no deletions).

    ``limitmb`` bounds the postings held in memory; when exceeded, the documents so far become a
    finished segment and a new one is started.  ``commit`` adds the new segments to the index
    without merging.
    """

    def __init__(
        self,
        ix: Index,
        *,
        limitmb: int = 256,
        timeout: float = 0.0,
        _lk: bool = True,
        blocklimit: int | None = None,
    ) -> None:
        codec = W3Codec(blocklimit=blocklimit or BLOCK_LIMIT, compression=COMPRESSION)
        super().__init__(ix, limitmb=limitmb, timeout=timeout, _lk=_lk, codec=codec)
        if not isinstance(self.codec, W3Codec) or self.codec._inlinelimit > 1:
            self._finish()  # release the lock before refusing
            raise TypeError("BulkSegmentWriter writes whoosh3 posting blocks only (no inlining)")
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                self._finish()
                raise TypeError(f"BulkSegmentWriter does not write term vectors or spelling ({name})")
        self._max_postings = max(1, limitmb * 1024 * 1024 // BYTES_PER_POSTING)
        self._finished: list[Any] = []
        self._reset_postings()

    def _reset_postings(self) -> None:
        #: field name → term (str from a ``columns`` format, else bytes) → flat posting list
        self._terms: dict[str, defaultdict[str | bytes, list[Any]]] = {}
        #: field name → one length byte per document (0: no length), as whoosh's length column holds it
        self._lengths: dict[str, bytearray] = {}
        self._postings = 0

    def add_document(self, **fields: Any) -> None:
        """Add one document (the same keyword arguments as ``IndexWriter.add_document``)."""
        self._check_state()
        if any(name.startswith("_") for name in fields):
            raise ValueError("BulkSegmentWriter does not take boosts or _stored_ values")
        names = sorted(fields)
        self._check_fields(self.schema, names)
        perdoc = self.perdocwriter
        docnum = self.docnum
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is not None:
                    self._add_field(name, self.schema[name], value, docnum)
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1
        if self._postings >= self._max_postings:
            self._start_next_segment()

    def add_documents(self, documents: Iterable[dict[str, Any]]) -> None:
        """Add each dict of field values as a document."""
        for fields in documents:
            self.add_document(**fields)

    def _add_field(self, name: str, field: FieldType, value: Any, docnum: int) -> None:
        length = 0
        if field.indexed:
            terms = self._terms.get(name)
            if terms is None:
                terms = self._terms[name] = defaultdict(list)
            columns = getattr(field.format, "columns", None)
            if columns is not None and isinstance(value, str) and type(field).index is FieldType.index:
                words, freqs, weights, values = columns(value)
            else:
                words, freqs, weights, values = _field_columns(field, value)
            # One C-level pass: terms[word] += (docnum, weight, value) for every posting.
            deque(map(list.__iadd__, map(terms.__getitem__, words), zip(repeat(docnum), weights, values)), 0)
            self._postings += len(words)
            if field.scorable:
                length = sum(freqs)
            if length:
                lengths = self._lengths.get(name)
                if lengths is None:
                    lengths = self._lengths[name] = bytearray()
                if len(lengths) < docnum:
                    lengths.extend(bytes(docnum - len(lengths)))
                lengths.append(_length_byte(length))
        self.perdocwriter.add_field(name, field, value if field.stored else None, length)
        column = field.column_type
        if column:
            self.perdocwriter.add_column_value(name, column, field.to_column_value(value))

    # --- writing the segment --------------------------------------------------------------------

    def _flush_segment(self) -> None:
        """Write the in-memory postings (replaces the pool → ``add_postings`` path of whoosh)."""
        self.perdocwriter.close()
        writer = self.fieldwriter
        for name in sorted(self._terms):
            terms = self._terms[name]
            if not terms:
                continue
            field = self.schema[name]
            writer.start_field(name, field)
            lengths = bytes(self._lengths.get(name, b"")).ljust(self.docnum, b"\0")
            _write_field(writer, field, terms, lengths, self.codec)
            writer.finish_field()
        writer.close()
        self._reset_postings()

    def _start_next_segment(self) -> None:
        self._finished.append(self._finalize_segment())
        codec = self.codec
        self.newsegment = codec.new_segment(self.storage, self.indexname)
        self.perdocwriter = codec.per_document_writer(self.storage, self.newsegment)
        self.fieldwriter = codec.field_writer(self.storage, self.newsegment)
        self.docnum = self.docbase = 0
        self._added = False

    def finish_segments(self) -> list[Any]:
        """Write the current segment and return every segment this writer made (no TOC written).

        A helper process hands these to the process that holds the lock, which commits them.
        """
        self._check_state()
        if self._added:
            self._finished.append(self._finalize_segment())
            self._added = False
        else:
            self._close_segment()  # a segment started but never given a document is not kept
        segments, self._finished = self._finished, []
        return segments

    def commit(self, **_ignored: Any) -> None:
        """Add this writer's segments to the index without merging (``merge`` etc. are ignored)."""
        self.commit_segments(self.finish_segments())

    def commit_segments(self, segments: list[Any]) -> None:
        """Commit ``segments`` (made by ``finish_segments`` here or in helpers) after the existing ones."""
        self._check_state()
        self._commit_toc([*self.segments, *segments])
        self._finish()


def _field_columns(field: FieldType, value: Any) -> tuple[list[Any], list[int], list[float], list[bytes]]:
    """The postings of a field without a ``columns`` format, from whoosh's ``index`` (UTF-8 terms)."""
    items = list(field.index(value))
    if not items:
        return [], [], [], []
    words, freqs, weights, values = map(list, zip(*items, strict=True))
    return words, freqs, weights, values


# whoosh's length byte for every length a field of ours has (bisect per field per document is slow).
_LENGTH_TABLE = bytes(length_to_byte(n) for n in range(65536))


def _length_byte(length: int) -> int:
    return _LENGTH_TABLE[length] if length < len(_LENGTH_TABLE) else length_to_byte(length)


def _write_field(
    writer: Any, field: FieldType, terms: dict[str | bytes, list[Any]], lengths: bytes, codec: W3Codec
) -> None:
    """Write every term of one field: posting blocks to the postings file, term infos to the table."""
    postfile = writer._postfile
    table = writer._tindex
    prefix = pack_ushort(writer._fieldid)
    fixed = field.format.fixed_value_size()
    encoded = sorted((t if isinstance(t, bytes) else t.encode("utf-8"), p) for t, p in terms.items())
    for btext, postings in encoded:
        info = W3TermInfo()
        start = postfile.tell()
        data = b"".join(_posting_blocks(postings, lengths, fixed, codec, info))
        postfile.write(data)
        info.set_extent(start, len(data))
        table.add(prefix + btext, info.to_bytes())


def _posting_blocks(
    postings: list[Any], lengths: bytes, fixed: int | None, codec: W3Codec, info: W3TermInfo
) -> Iterator[bytes]:
    """Yield the bytes of one term's posting list as ``W3PostingsWriter`` writes them; fill ``info``.

    Per block of ``blocklimit`` postings: a length (negative for the last block), the pickled block
    info (count, last id, max weight, compression, min and max length byte) and the zlib-compressed
    pickle (``PICKLE_PROTOCOL``) of (delta-encoded ids, weights, values), each minified the way
    whoosh minifies them.
    """
    ids = postings[0::3]
    weights = postings[1::3]
    values = postings[2::3]
    count = len(ids)
    limit = codec._blocklimit
    comp = codec._compression
    length_of = lengths.__getitem__
    total_weight = 0.0
    min_len = 0
    max_len = 0
    max_weight = 0
    yield WHOOSH3_HEADER_MAGIC
    for start in range(0, count, limit):
        end = min(start + limit, count)
        block_ids = ids[start:end]
        block_weights = array("f", weights[start:end])
        block_lengths = bytes(map(length_of, block_ids))
        nonzero = block_lengths.replace(b"\0", b"")
        low = min(nonzero) if nonzero else 0
        high = max(block_lengths)
        top = max(0, max(weights[start:end]))
        total_weight += sum(block_weights)
        if low and (not min_len or low < min_len):
            min_len = low
        max_len = max(max_len, high)
        max_weight = max(max_weight, top)
        deltas = tuple(map(operator.sub, block_ids, [0, *block_ids[:-1]]))
        n = end - start
        if block_weights.count(1.0) == n:
            mini_weights: Any = None
        elif block_weights.count(block_weights[0]) == n:
            mini_weights = block_weights[0]
        else:
            mini_weights = tuple(block_weights)
        block_values = values[start:end]
        if None in block_values:  # whoosh's add_postings turns a missing value into b""
            block_values = [emptybytes if v is None else v for v in block_values]
        if fixed is None or fixed < 0:
            mini_values: Any = tuple(block_values)
        elif fixed == 0:
            mini_values = None
        else:
            mini_values = emptybytes.join(block_values)
        data = dumps((deltas, mini_weights, mini_values), PICKLE_PROTOCOL)
        if comp:
            data = zlib.compress(data, comp)
        head = dumps((n, block_ids[-1], top, comp, low, high), 2)
        size = len(head) + len(data)
        yield pack_int(-size if end == count else size)
        yield head
        yield data
    info._weight = total_weight
    info._df = count
    info._minlength = byte_to_length(min_len) if min_len else None
    info._maxlength = byte_to_length(max_len)
    info._maxweight = max_weight
    info._minid = ids[0]
    info._maxid = ids[-1]
