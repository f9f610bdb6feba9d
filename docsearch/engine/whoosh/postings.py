"""The whoosh fields of a Japanese text and the postings one text gives them, computed column-wise.

``text_fields(name)`` defines the bigram field and the unigram field of ``docsearch.analyzer``;
their formats (``BigramPositions``, ``CharFrequency``) turn a text into *columns*: the terms, their
frequencies, weights and encoded values (whoosh's ``Positions`` / ``Frequency`` encodings).  Both
whoosh's writer (through ``word_values``) and the rebuild writer (``docsearch.engine.whoosh.bulkwriter``) read
them.

Speed: analysing text was about half of a rebuild's time, most of it one Python step per bigram
(a tuple, a sort of tuples, a count).  The columns are computed per text instead: the pairs of
Japanese characters as one numpy array of code-point pairs (grouped by a sort in C, decoded to
strings once per distinct term), and only the few words, word/kanji boundaries and hyphen joins
in Python with the analyzer's rules.  ``analyzer.bigram_tokens`` remains the
definition of the bigram field: tests/docsearch/test_postings.py checks that the columns equal its
tokens for every passage of the corpus and for edge cases.
"""

from __future__ import annotations

import functools
import operator
import pickle
import re
from collections import Counter
from operator import itemgetter

import numpy as np
from whoosh.fields import TEXT, FieldType
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from docsearch.analyzer import (
    UNIGRAM_SUFFIX,
    JapaneseBigramTokenizer,
    JapaneseUnigramTokenizer,
    bigram_tokens,
    hyphen_linked,
    normalize_cached,
)
from docsearch.engine.whoosh import version
from docsearch.variants import CJK

#: Postings of one text in columns: terms, frequencies, weights, encoded values (same length each).
Columns = tuple[list[str], list[int], list[float], list[bytes]]

#: A word of letters or digits: group 2 of ``analyzer.TOKEN_RE`` on its own.
_WORD_RE = re.compile(rf"[^\W_{CJK}]+")
_PAIR_RE = re.compile("..", re.S)
# Two code points in one integer key (code points have 21 bits).
_SHIFT = np.uint64(21)
_LOW = np.uint64((1 << 21) - 1)


@functools.cache
def _cjk_mask() -> np.ndarray:
    """One flag per Unicode code point: is it in the analyzer's Japanese class (``CJK``)?

    Built from the same regular-expression class as ``TOKEN_RE``, so the two cannot disagree.
    """
    everything = "".join(map(chr, range(0x110000)))
    mask = np.zeros(0x110000, dtype=bool)
    for m in re.finditer(f"[{CJK}]+", everything):
        mask[m.start() : m.end()] = True
    return mask


def _code_points(s: str) -> np.ndarray:
    # surrogatepass: a lone surrogate (from a badly decoded file) is a code point like any other.
    return np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _decode(code_points: np.ndarray) -> str:
    return code_points.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")


#: Positions whose single-position encoding is kept (``_SinglePosition``): a page of text holds a
#: few thousand; one huge extracted text must not leave millions of entries for the process's life.
CACHED_POSITIONS = 65536


class _SinglePosition(dict[int, bytes]):
    """``Positions.encode([pos])`` per position, computed once: most bigrams occur once per text."""

    def __missing__(self, pos: int) -> bytes:
        value = _encode_positions([pos])
        if pos < CACHED_POSITIONS:
            self[pos] = value
        return value


class _PackedCount(dict[int, bytes]):
    """``pack_uint(n)`` per count, computed once."""

    def __missing__(self, n: int) -> bytes:
        value = self[n] = pack_uint(n)
        return value


_SINGLE_POSITION = _SinglePosition()
_PACKED_COUNT = _PackedCount()


class _FloatCount(dict[int, float]):
    def __missing__(self, n: int) -> float:
        value = self[n] = float(n)
        return value


_FLOAT_COUNT = _FloatCount()


def _weights(freqs: list[int], field_boost: float) -> list[float]:
    # float(n) objects repeat; the bulk writer keeps one reference per posting, not one float each.
    if field_boost == 1.0:
        return list(map(_FLOAT_COUNT.__getitem__, freqs))
    return [n * field_boost for n in freqs]


def _encode_positions(poslist: list[int]) -> bytes:
    """``Positions.encode`` (count, then the pickled position deltas) with C-level deltas."""
    n = len(poslist)
    if n == 2:  # the commonest repeat; unpacking is cheaper than slicing twice
        first, second = poslist
        deltas = [first, second - first]
    else:
        deltas = [poslist[0], *map(operator.sub, poslist[1:], poslist[:-1])]
    return _PACKED_COUNT[n] + pickle.dumps(deltas, 2)


def _position_values(groups: list[int], counts: list[int], positions: list[int]) -> list[bytes]:
    """The encoded positions of each term: ``positions[groups[j] : groups[j] + counts[j]]``."""
    values = list(map(_SINGLE_POSITION.__getitem__, map(positions.__getitem__, groups)))
    for j, n in enumerate(counts):
        if n > 1:
            start = groups[j]
            values[j] = _encode_positions(positions[start : start + n])
    return values


def bigram_position_columns(s: str) -> tuple[list[str], list[int], list[bytes]]:
    """Return the terms, frequencies and encoded positions of the bigram field for normalised ``s``.

    The same postings as ``bigram_tokens(s, normalized=True)`` (see the module docstring).  A
    position counts the bigrams and words before it; boundaries and hyphen joins take the
    position of their word, as in ``bigram_tokens``.
    """
    cp = _code_points(s)
    japanese = _cjk_mask()[cp]
    pair_starts = np.flatnonzero(japanese[:-1] & japanese[1:])  # one bigram per pair, in text order
    words = list(_WORD_RE.finditer(s))
    if words:
        word_starts = np.fromiter((m.start() for m in words), dtype=np.int64, count=len(words))
        pair_positions = np.arange(len(pair_starts)) + np.searchsorted(word_starts, pair_starts)
        word_positions = (np.arange(len(words)) + np.searchsorted(pair_starts, word_starts)).tolist()
    else:
        pair_positions = np.arange(len(pair_starts))
        word_positions = []
    codes = (cp[pair_starts].astype(np.uint64) << _SHIFT) | cp[pair_starts + 1]
    terms: list[str] = []
    freqs: list[int] = []
    values: list[bytes] = []
    if len(codes):
        order = np.lexsort((pair_positions, codes))  # by term, then position
        codes = codes[order]
        first = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
        counts = np.diff(np.append(first, len(codes)))
        distinct = codes[first]
        pairs = np.empty((len(distinct), 2), dtype=np.uint32)
        pairs[:, 0] = distinct >> _SHIFT
        pairs[:, 1] = distinct & _LOW
        terms = _PAIR_RE.findall(_decode(pairs))
        freqs = counts.tolist()
        values = _position_values(first.tolist(), freqs, pair_positions[order].tolist())
    if words:
        _add_word_columns(s, words, word_positions, terms, freqs, values)
    return terms, freqs, values


def _add_word_columns(
    s: str,
    words: list[re.Match[str]],
    positions: list[int],
    terms: list[str],
    freqs: list[int],
    values: list[bytes],
) -> None:
    """Append the postings of words and of what ``bigram_tokens`` derives from them.

    Beside the word itself: the boundary with a Japanese character on either side (令和8年 → 和8,
    8年) at the word's position, and the joined form of hyphenated words (wi-fi → wifi).  None of
    these can equal a bigram of two Japanese characters.
    """
    found: dict[str, list[int]] = {}
    mask = _cjk_mask()
    chain = ""
    previous: re.Match[str] | None = None
    for m, pos in zip(words, positions, strict=True):
        word = m.group()
        start, end = m.span()
        if start and mask[ord(s[start - 1])]:
            found.setdefault(s[start - 1] + word, []).append(pos)
        if previous is not None and hyphen_linked(s, previous.group(), previous.end(), word, start):
            chain = (chain or previous.group()) + word
            found.setdefault(chain, []).append(pos)
        else:
            chain = ""
        found.setdefault(word, []).append(pos)
        if end < len(s) and mask[ord(s[end])]:
            found.setdefault(word + s[end], []).append(pos)
        previous = m
    for term, poslist in found.items():
        terms.append(term)
        freqs.append(len(poslist))
        values.append(_SINGLE_POSITION[poslist[0]] if len(poslist) == 1 else _encode_positions(poslist))


def unigram_frequency_columns(s: str) -> tuple[list[str], list[int]]:
    """Return each Japanese character of normalised ``s`` and how often it occurs."""
    cp = _code_points(s)
    chars, counts = np.unique(cp[_cjk_mask()[cp]], return_counts=True)
    return list(_decode(chars)), counts.tolist()


# --- whoosh field formats ---------------------------------------------------------------------------
class _ColumnsFormat:
    """Mixin: ``word_values`` from ``columns`` (whoosh's writer); the bulk writer reads ``columns``."""

    field_boost: float

    def columns(self, value: str) -> Columns:  # pragma: no cover - every format defines it
        raise NotImplementedError

    def word_values(self, value, analyzer, **kwargs):  # type: ignore[no-untyped-def]
        # Off the fast path (another whoosh release), whoosh encodes the analyzer's tokens itself.
        if not isinstance(value, str) or not version.fast_path():
            return super().word_values(value, analyzer, **kwargs)  # type: ignore[misc]
        return zip(*self.columns(value), strict=True)


class BigramPositions(_ColumnsFormat, Positions):
    """Positions format of the bigram field: postings from ``bigram_position_columns``."""

    def columns(self, value: str) -> Columns:
        """Return the bigram field's postings of ``value`` (positions ascending per term)."""
        terms, freqs, values = bigram_position_columns(normalize_cached(value))
        return terms, freqs, _weights(freqs, self.field_boost), values


class BigramFrequency(_ColumnsFormat, Frequency):
    """Frequency format for a bigram field without phrase support (smaller, faster to build)."""

    def columns(self, value: str) -> Columns:
        """Return the bigram field's postings of ``value`` (frequencies only)."""
        counts = Counter(map(itemgetter(0), bigram_tokens(value)))
        freqs = list(counts.values())
        return (
            list(counts),
            freqs,
            _weights(freqs, self.field_boost),
            list(map(_PACKED_COUNT.__getitem__, freqs)),
        )


class CharFrequency(_ColumnsFormat, Frequency):
    """Frequency format of the unigram field: postings from ``unigram_frequency_columns``."""

    def columns(self, value: str) -> Columns:
        """Return the unigram field's postings of ``value``."""
        terms, freqs = unigram_frequency_columns(normalize_cached(value))
        return terms, freqs, _weights(freqs, self.field_boost), list(map(_PACKED_COUNT.__getitem__, freqs))


def text_fields(
    name: str, *, stored: bool = False, phrase: bool = True, field_boost: float = 1.0
) -> dict[str, FieldType]:
    """Return the whoosh field definitions for one logical Japanese text field ``name``.

    ``{name: bigram field, name + "_uni": unigram field}``; give both the same text when adding a
    document (``field_values``).  ``phrase=True`` stores bigram
    positions so quoted phrases are exact (``Phrase``); with ``phrase=False`` the index is smaller
    and quoted phrases fall back to an AND of their terms (pass ``phrase=False`` to the query
    parser too).  ``stored`` stores the original text on the bigram field (for snippets).
    """
    bigram = TEXT(analyzer=JapaneseBigramTokenizer(), phrase=phrase, stored=stored, field_boost=field_boost)
    bigram.format = (BigramPositions if phrase else BigramFrequency)(field_boost=field_boost)
    unigram = TEXT(analyzer=JapaneseUnigramTokenizer(), phrase=False, field_boost=field_boost)
    unigram.format = CharFrequency(field_boost=field_boost)
    return {name: bigram, name + UNIGRAM_SUFFIX: unigram}


def field_values(name: str, text: str) -> dict[str, str]:
    """Return the ``add_document`` keyword arguments that index ``text`` into logical field ``name``.

    Both whoosh fields of ``text_fields(name)`` need the same text:
    ``writer.add_document(id=…, **field_values("body", body))``.
    """
    return {name: text, name + UNIGRAM_SUFFIX: text}
