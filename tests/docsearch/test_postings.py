"""The column-wise postings (engine.whoosh.postings) equal the analyzer's token-by-token definition."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from docsearch.analyzer import bigram_tokens, normalize, unigram_counts
from docsearch.engine.whoosh.postings import (
    BigramPositions,
    CharFrequency,
    _encode_positions,
    bigram_position_columns,
    unigram_frequency_columns,
)
from tests.docsearch.synthetic import entries

# Every kind of character the analyzer treats differently: kanji (one outside the BMP), okurigana
# and particles, katakana and the long-vowel mark, Latin letters, digits, hyphens, underscores,
# spaces, punctuation, iteration marks, and a lone surrogate from a badly decoded file.
ALPHABET = [
    *"取扱申込書予算村課報保護情𠮷々〆〇",
    *"りいしみのをはがにと",
    *"サーバデジタルヴ",
    *"abcxyzABC",
    *"0123456789",
    "-",
    "_",
    " ",
    "、",
    "。",
    "・",
    "\ud800",
]

EDGE_CASES = [
    "",
    "村",
    "予算",
    "令和8年度予算書",
    "第100条の2",
    "取り扱い取扱い取扱",  # bridges repeat a bigram found later in the text
    "取扱取り扱い",  # ... and earlier
    "申し込み書の取り扱い",
    "Wi-Fi wifi wi-fi-6 1-2 a-b-c",
    "DX推進 dx推進 ICT化",
    "x予y算z",
    "予算予算の予算",
    "あ" * 600,  # positions past 255: another integer width in the pickle
    "a1" + "b2" * 300,
    "𠮷野家の𠮷",
    "\ud800予算\ud800",
    "予、、算",  # no two Japanese characters side by side: no bigram
]


def reference_bigram_columns(s: str) -> list[tuple[str, int, bytes]]:
    """The bigram field's postings as (term, frequency, encoded positions), from ``bigram_tokens``."""
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for term, pos in bigram_tokens(s, normalized=True):
        positions[term].append(pos)
    return sorted((term, len(p), _encode_positions(sorted(p))) for term, p in positions.items())


def fast_bigram_columns(s: str) -> list[tuple[str, int, bytes]]:
    return sorted(zip(*bigram_position_columns(s), strict=True))


def random_texts(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, 80))) for _ in range(count)]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_bigram_columns_equal_the_tokens_on_edge_cases(text: str) -> None:
    """Do words, boundaries, hyphen joins, bridges and long texts give bigram_tokens' postings"""
    s = normalize(text)
    assert fast_bigram_columns(s) == reference_bigram_columns(s)


def test_bigram_columns_equal_the_tokens_on_random_mixed_script_text() -> None:
    """Does every random mix of scripts give exactly bigram_tokens' postings"""
    texts = random_texts(3000)
    assert sum(len(bigram_tokens(t, normalized=True)) for t in texts) > 50_000  # the test sees postings
    for text in texts:
        assert fast_bigram_columns(text) == reference_bigram_columns(text), text


def test_unigram_columns_equal_the_character_counts() -> None:
    """Does the unigram field count each Japanese character, as unigram_counts does"""
    for text in [*EDGE_CASES, *random_texts(1000, seed=9)]:
        s = normalize(text)
        terms, freqs = unigram_frequency_columns(s)
        assert dict(zip(terms, freqs, strict=True)) == unigram_counts(s, normalized=True)
        assert len(terms) == len(set(terms))


def test_field_formats_normalise_and_match_the_reference_on_index_entries() -> None:
    """Do the whoosh formats give the reference postings of whole documents, weights included"""
    bigram = BigramPositions(field_boost=2.0)
    unigram = CharFrequency()
    for entry in entries(200):
        for text in (entry.title, entry.body):
            terms, freqs, weights, values = bigram.columns(text)
            assert weights == [2.0 * n for n in freqs]
            assert sorted(zip(terms, freqs, values, strict=True)) == reference_bigram_columns(normalize(text))
            terms, freqs, weights, _values = unigram.columns(text)
            assert dict(zip(terms, freqs, strict=True)) == unigram_counts(text)
            assert weights == [float(n) for n in freqs]


def test_position_cache_stays_bounded_by_a_huge_text() -> None:
    """Does a text with more positions than the cache keeps get every position right, the cache
    staying bounded"""
    from docsearch.engine.whoosh import postings

    rng = random.Random(3)
    kanji = [chr(c) for c in range(0x4E00, 0x9FA0)]
    text = "".join(rng.choices(kanji, k=postings.CACHED_POSITIONS + 5000))  # nearly every bigram once
    assert fast_bigram_columns(text) == reference_bigram_columns(text)
    assert max(postings._SINGLE_POSITION) < postings.CACHED_POSITIONS
