"""Japanese text analysis for the whoosh index: normalisation, bigrams, unigrams and words.

Design
------
whoosh's default analyzer splits on non-word characters, so a whole Japanese sentence becomes one
token and a search for 予算 misses 令和8年度予算書 (the blind spot of paperless-ngx's whoosh-era index).
Japanese has no spaces, so we index overlapping *character n-grams* instead of words:

1. ``normalize`` folds what should compare equal: Unicode NFKC (ＤＸ = DX, ｶﾀｶﾅ = カタカナ, ② = 2),
   spaced-out capitals from PDF extraction (``I C T`` = ICT), case folding, whitespace between two
   Japanese characters (line wraps inside a word), and the spelling variants of
   ``docsearch.variants`` (旧字体, long-vowel marks, katakana spellings, counters).
2. The text is cut into runs of Han/Hiragana/Katakana and runs of other letters or digits (words).
   Each logical text field ``name`` is indexed into two whoosh fields (see ``text_fields``):

   * ``name`` – the *bigram field*: every overlapping character bigram of a Japanese run (予算書 →
     予算, 算書), every word (dx, 2026), a *boundary* token where a word touches a Japanese run
     (令和8年度 → 和8, 8年; 第100条 → 第100, 100条) and the joined form of hyphenated words
     (wi-fi → wifi).  No okurigana is skipped: 取り扱い and 取扱 are joined at query time, from the
     curated list of ``docsearch.okurigana``, never by stripping kana.  Bigrams and words take consecutive
     positions (extra tokens reuse a neighbour's position), so a quoted phrase can be matched
     exactly as a whoosh ``Phrase`` over bigram positions.
   * ``name_uni`` – the *unigram field*: each Japanese character with its frequency, no positions.
     Only a query that is a single character (村, 課) reads it.  Keeping unigrams out of the bigram
     field keeps the bigram posting lists short and lets multi-character queries be answered as an
     AND of bigram terms, which is far cheaper than a phrase query over huge posting lists.

This module defines the terms (``bigram_tokens``, ``unigram_counts``, ``word_terms``).  The whoosh
fields and the fast column-wise computation of a text's postings for indexing are in
``docsearch.engine.whoosh.postings``; the last normalised value is cached (``normalize_cached``) so the bigram
and unigram fields of one text normalise it once.  The tokenizer classes are whoosh
``Tokenizer``s (so ``field.process_text`` works), but they are not used for indexing.  Character
offsets are not tracked in the index; highlighting uses ``docsearch.snippet``, which re-normalises
the stored text with an offset map.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from whoosh.analysis import Token, Tokenizer

from docsearch.variants import CHAR_TABLE, CJK, REGEX_FOLDS

#: Suffix of the unigram field that ``text_fields(name)`` creates beside the bigram field.
UNIGRAM_SUFFIX = "_uni"

# Capital letters spaced out by PDF extraction ("I C T", "D X") are one word.
_SPACED_CAPS_RE = re.compile(r"(?<![A-Za-z])[A-Z](?: [A-Z])+(?![A-Za-z])")
_CJK_SPACE_RE = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
#: Group 1: a run of Japanese characters; group 2: a word of other letters/digits.
TOKEN_RE = re.compile(rf"([{CJK}]+)|([^\W_{CJK}]+)")
_NON_CJK_RE = re.compile(rf"[^{CJK}]+")
_TABLE_CHARS_RE = re.compile("[" + "".join(map(re.escape, map(chr, CHAR_TABLE))) + "]")
_LETTER_START_RE = re.compile(r"[^\W\d_]")
# One NFKC unit: a character with the (half-width or combining) voiced marks that follow it.
_CHUNK_RE = re.compile(r".[\uff9e\uff9f\u3099\u309a\u0300-\u036f]*", re.S)


def _join_spaced_caps(m: re.Match[str]) -> str:
    return m.group().replace(" ", "")


def normalize(text: str) -> str:
    """Return ``text`` in the folded form that is indexed and searched (see the module docstring)."""
    s = unicodedata.normalize("NFKC", text)
    s = _SPACED_CAPS_RE.sub(_join_spaced_caps, s)
    s = s.casefold()
    if _TABLE_CHARS_RE.search(s):  # rare; a search is far cheaper than translating every text
        s = s.translate(CHAR_TABLE)
    s = _CJK_SPACE_RE.sub("", s)
    for pattern, repl, triggers in REGEX_FOLDS:
        if any(c in s for c in triggers):
            s = pattern.sub(repl, s)  # type: ignore[call-overload]
    return s


_last_normalized: tuple[str, str] = ("", "")


def normalize_cached(text: str) -> str:
    # The bigram and unigram fields of a document receive the same string one after the other.
    global _last_normalized
    last = _last_normalized
    if text is last[0] or text == last[0]:
        return last[1]
    result = normalize(text)
    _last_normalized = (text, result)
    return result


def _sub_tracked(
    pattern: re.Pattern[str], repl: object, s: str, spans: list[tuple[int, int]]
) -> tuple[str, list[tuple[int, int]]]:
    """``re.sub`` that also rewrites the per-character source spans."""
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    last = 0
    for m in pattern.finditer(s):
        a, b = m.span()
        out.append(s[last:a])
        out_spans.extend(spans[last:a])
        r = repl if isinstance(repl, str) else repl(m)  # type: ignore[operator]
        if len(r) == b - a:
            out_spans.extend(spans[a:b])
        elif r:
            whole = (spans[a][0], spans[b - 1][1])
            out_spans.extend([whole] * len(r))
        out.append(r)
        last = b
    out.append(s[last:])
    out_spans.extend(spans[last:])
    return "".join(out), out_spans


def normalize_with_offsets(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Return ``(normalize(text), spans)`` where ``spans[i]`` is the ``(start, end)`` in ``text`` of
    the source of normalised character ``i``.  Slower than ``normalize``; used for snippets."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _CHUNK_RE.finditer(text):
        for c in unicodedata.normalize("NFKC", m.group()):
            chars.append(c)
            spans.append(m.span())
    s, spans = _sub_tracked(_SPACED_CAPS_RE, _join_spaced_caps, "".join(chars), spans)
    chars, new_spans = [], []
    for c, span in zip(s, spans, strict=True):
        folded = c.casefold().translate(CHAR_TABLE)
        chars.append(folded)
        new_spans.extend([span] * len(folded))
    s, spans = _sub_tracked(_CJK_SPACE_RE, "", "".join(chars), new_spans)
    for pattern, repl, _triggers in REGEX_FOLDS:
        s, spans = _sub_tracked(pattern, repl, s, spans)
    return s, spans


def bigram_tokens(text: str, *, normalized: bool = False) -> list[tuple[str, int]]:
    """Return the ``(term, position)`` pairs of the bigram field for ``text``.

    Positions are those a phrase query relies on: consecutive for bigrams and words, shared by the
    extra boundary and hyphen-join tokens.  Single-character runs yield no bigram.
    """
    s = text if normalized else normalize_cached(text)
    out: list[tuple[str, int]] = []
    append = out.append
    pos = 0
    prev_end = -1
    prev_run: str | None = None
    prev_word: str | None = None
    chain = ""  # hyphenated words so far (wi-fi → wifi)
    for m in TOKEN_RE.finditer(s):
        run, word = m.groups()
        start = m.start()
        if run is not None:
            if start == prev_end and prev_word is not None:
                append((prev_word + run[0], pos - 1))
            n = len(run)
            if n > 1:
                out.extend(zip(map(str.__add__, run[:-1], run[1:]), range(pos, pos + n - 1), strict=True))
                pos += n - 1
            prev_run, prev_word, chain = run, None, ""
        else:
            if start == prev_end and prev_run is not None:
                append((prev_run[-1] + word, pos))
            if prev_word is not None and hyphen_linked(s, prev_word, prev_end, word, start):
                chain = (chain or prev_word) + word
                append((chain, pos))
            else:
                chain = ""
            append((word, pos))
            pos += 1
            prev_run, prev_word = None, word
        prev_end = m.end()
    return out


def unigram_counts(text: str, *, normalized: bool = False) -> Counter[str]:
    """Return how often each Japanese character occurs in ``text`` (the unigram field's postings)."""
    s = text if normalized else normalize_cached(text)
    return Counter(_NON_CJK_RE.sub("", s))


@dataclass(frozen=True)
class WordTerms:
    """The index terms that one query word (no spaces) must match, in bigram and unigram fields.

    ``segments`` are runs of bigram-field terms at consecutive positions (a phrase query may join
    each segment); ``extra`` are further bigram-field terms (boundaries, hyphen joins); ``unigrams``
    are isolated single Japanese characters, looked up in the unigram field.
    """

    segments: tuple[tuple[str, ...], ...] = ()
    extra: tuple[str, ...] = ()
    unigrams: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the word contains nothing searchable (only punctuation or ``*``)."""
        return not (self.segments or self.extra or self.unigrams)


def hyphen_linked(s: str, left: str, left_end: int, right: str, right_start: int) -> bool:
    # Only letter-initial words are joined, so 1-2 (a range) never becomes 12.
    return (
        s[left_end:right_start] == "-"
        and _LETTER_START_RE.match(left) is not None
        and _LETTER_START_RE.match(right) is not None
    )


def word_terms(normalized_word: str) -> WordTerms:
    """Return the ``WordTerms`` of an already normalised query word (see ``normalize``).

    Word terms mirror ``bigram_tokens``.  A hyphenated
    word (wi-fi) becomes its joined form (wifi), which the index holds for both spellings.
    """
    s = normalized_word
    ms = list(TOKEN_RE.finditer(s))
    linked = [
        ms[i].group(2) is not None
        and ms[i + 1].group(2) is not None
        and hyphen_linked(s, ms[i].group(2), ms[i].end(), ms[i + 1].group(2), ms[i + 1].start())
        for i in range(len(ms) - 1)
    ]
    segments: list[list[str]] = [[]]
    extra: list[str] = []
    unigrams: list[str] = []
    chain = ""
    for i, m in enumerate(ms):
        run, word = m.groups()
        prev = ms[i - 1] if i else None
        touches_prev = prev is not None and prev.end() == m.start()
        touches_next = i + 1 < len(ms) and ms[i + 1].start() == m.end()
        if run is not None:
            if touches_prev and prev is not None and prev.group(2) is not None:
                extra.append(prev.group(2) + run[0])
            if len(run) > 1:
                segments[-1].extend(map(str.__add__, run[:-1], run[1:]))
            elif not (touches_prev or touches_next):
                unigrams.append(run)
            continue
        if touches_prev and prev is not None and prev.group(1) is not None:
            extra.append(prev.group(1)[-1] + word)
        in_chain = (i > 0 and linked[i - 1]) or (i < len(linked) and linked[i])
        if not in_chain:
            segments[-1].append(word)
            continue
        chain += word
        if not (i < len(linked) and linked[i]):  # the chain ends here
            extra.append(chain)
            chain = ""
            segments.append([])
    segs = tuple(tuple(seg) for seg in segments if seg)
    return WordTerms(segs, tuple(dict.fromkeys(extra)), tuple(dict.fromkeys(unigrams)))


# --- whoosh integration -------------------------------------------------------------------------
class JapaneseBigramTokenizer(Tokenizer):
    """whoosh tokenizer yielding the bigram-field tokens of ``bigram_tokens`` (no char offsets)."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos in bigram_tokens(value):
            t.text, t.boost, t.stopped = text, 1.0, False
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = t.endchar = start_char
            yield t


class JapaneseUnigramTokenizer(Tokenizer):
    """whoosh tokenizer yielding each Japanese character of the normalised text once per occurrence."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, c in enumerate(_NON_CJK_RE.sub("", normalize_cached(value))):
            t.text, t.boost, t.stopped = c, 1.0, False
            if positions:
                t.pos = start_pos + i
            if chars:
                t.startchar = t.endchar = start_char
            yield t
