"""Parse what a user types in the search box into a whoosh query over Japanese text fields.

Syntax (Google-like, forgiving; there are no syntax errors):

* ``令和8年度予算`` – words need no spaces; each word must occur (in any one of the fields).
* ``予算 教育`` – several words: all must occur (AND).
* ``"情報公開"`` – quotes (also “ ”) for an exact phrase: no synonyms, no okurigana folding, and a
  whoosh ``Phrase`` over bigram positions when the index stores positions.
* ``-廃止`` / ``-"…"`` – exclude documents containing the word or phrase.
* ``予算 OR 決算`` – either word; OR binds tighter than the implicit AND (``a b OR c`` = a AND (b OR c)).
* ``*`` and ``?`` are not wildcards: like other punctuation they are ignored.

Query plan (why it is fast): an unquoted word becomes an AND of bigram-field terms – every
overlapping bigram, plus boundary tokens where letters/digits touch Japanese (令和8 → 和8) – which
whoosh answers by intersecting posting lists with skipping, without reading positions.  Overlapping
bigrams make false positives rare.  Only a one-character word reads the unigram field.  Synonyms
(``docsearch.synonyms``) and the curated okurigana spellings (``docsearch.okurigana``: 取り扱い →
also 取扱い, 取扱) widen each word; each word is matched within one field at a time (title OR
body), with the caller's boosts.

Literal matches first: the spelling as typed is the first form of every word, and
``literal_queries`` returns, per word, the query of that spelling alone.  The ranking
(``docsearch.engine``'s search) puts documents that contain more words as written before those
found only through a synonym or another okurigana spelling, whatever their BM25 scores.

Abuse limits: a query longer than ``max_chars``, with more than ``max_clauses`` words, or expanding
to more than ``max_terms`` index terms raises ``QueryTooComplex`` before any search work is done;
the check on the length comes first, so every input is handled in bounded time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from whoosh import query as wq

from docsearch.analyzer import UNIGRAM_SUFFIX, WordTerms, normalize, word_terms
from docsearch.okurigana import get_okurigana
from docsearch.synonyms import SynonymTable, get_synonyms

MAX_CHARS = 500
MAX_CLAUSES = 32
MAX_TERMS = 256

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "＂": '"'})
_LEX_RE = re.compile(r'(-?)"([^"]*)(?:"|$)|([^\s"]+)')
_OR_WORDS = frozenset({"OR", "|", "||"})
_PIECE_RE = re.compile(r"[^\W_]+")  # letters, digits and Japanese: what the index can match


class QueryError(ValueError):
    """A query that cannot be searched; ``message_ja`` is shown to the user as is."""

    def __init__(self, message_ja: str) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja


class QueryTooComplex(QueryError):
    """The query is too long or has too many words or terms (abuse limit)."""


class EmptyQuery(QueryError):
    """Nothing searchable is left (empty, only ``*``/punctuation, or only excluded words)."""


@dataclass(frozen=True)
class Clause:
    """One word or quoted phrase of the user's query, as typed (after NFKC)."""

    text: str
    phrase: bool = False
    negated: bool = False


def split_user_query(
    text: str, *, max_chars: int = MAX_CHARS, max_clauses: int = MAX_CLAUSES
) -> list[list[Clause]]:
    """Return the query as an AND of OR-groups of clauses; negated clauses are groups of their own.

    Raises ``QueryTooComplex`` for more than ``max_chars`` characters or ``max_clauses`` clauses.
    """
    if len(text) > max_chars:
        raise QueryTooComplex(
            f"検索語が長すぎます（{len(text):,}文字）。{max_chars:,}文字以内にしてください。"
        )
    s = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    groups: list[list[Clause]] = []
    pending_or = False
    count = 0
    for m in _LEX_RE.finditer(s):
        minus, quoted, bare = m.groups()
        if bare is not None:
            if bare in _OR_WORDS:
                pending_or = bool(groups) and not groups[-1][0].negated
                continue
            negated = bare.startswith("-") and len(bare) > 1
            clause = Clause(bare.lstrip("-") if negated else bare, False, negated)
            if not clause.text:
                continue
        else:
            clause = Clause(quoted, True, bool(minus))
        count += 1
        if count > max_clauses:
            raise QueryTooComplex(f"検索語が多すぎます。{max_clauses}語以内にしてください。")
        if pending_or and not clause.negated:
            groups[-1].append(clause)
        else:
            groups.append([clause])
        pending_or = False
    return groups


def clause_forms(clause: Clause, synonyms: SynonymTable) -> list[str]:
    """Return the normalised spellings searched for a clause: as typed first, then its synonyms and
    the curated okurigana spellings of each (never a spelling made by stripping kana)."""
    norm = normalize(clause.text)
    if clause.phrase:
        return [norm]
    okurigana = get_okurigana()
    forms = [form for alt in synonyms.expand(norm) for form in okurigana.expand(alt)]
    return list(dict.fromkeys(forms))


def _field_query(terms: WordTerms, field: str, boost: float, phrase: bool) -> wq.Query:
    parts: list[wq.Query] = []
    seen: set[str] = set()
    if not phrase:
        # A word touching Japanese (dx in dx推進) is implied by its boundary token (dx推); leaving it
        # out spares the intersection one posting list, often a long one (8, 2026).
        seen.update(t for seg in terms.segments for t in seg if t.isascii() and _covered(t, terms.extra))
    for seg in terms.segments:
        if phrase and len(seg) > 1:
            parts.append(wq.Phrase(field, list(seg), boost=boost))
            continue
        for t in seg:
            if t not in seen:
                seen.add(t)
                parts.append(wq.Term(field, t, boost=boost))
    for t in terms.extra:
        if t not in seen:
            seen.add(t)
            parts.append(wq.Term(field, t, boost=boost))
    parts.extend(wq.Term(field + UNIGRAM_SUFFIX, u, boost=boost) for u in terms.unigrams)
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _covered(word: str, extra: tuple[str, ...]) -> bool:
    return any(e != word and (e.startswith(word) or e.endswith(word)) and not e.isascii() for e in extra)


def _count_leaves(q: wq.Query) -> int:
    if isinstance(q, wq.Phrase):
        return len(q.words)
    if isinstance(q, wq.CompoundQuery):
        return sum(_count_leaves(sub) for sub in q.subqueries)
    return 1


def _any(queries: list[wq.Query]) -> wq.Query:
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def parse_user_query(
    text: str,
    fields: Sequence[str] | Mapping[str, float],
    *,
    max_terms: int = MAX_TERMS,
    max_chars: int = MAX_CHARS,
    max_clauses: int = MAX_CLAUSES,
    phrase: bool = True,
    synonyms: SynonymTable | None = None,
) -> wq.Query:
    """Return the whoosh query for what the user typed, over logical text ``fields``.

    ``fields`` are logical names made with ``analyzer.text_fields`` (the bigram field ``name`` and
    the unigram field ``name + "_uni"`` are both used), optionally mapped to boosts.  ``phrase=False``
    turns quoted phrases into ANDs (for an index built with ``text_fields(..., phrase=False)``).
    ``synonyms`` defaults to the bundled list (``synonyms.get_synonyms()``).

    Raises ``QueryTooComplex`` (abuse limits) or ``EmptyQuery`` (nothing to search for); both carry a
    Japanese ``message_ja`` for the user.
    """
    positive, negative = _groups(text, fields, max_terms, max_chars, max_clauses, phrase, synonyms, False)
    if not positive:
        if negative:
            raise EmptyQuery("除外する語（-）だけでは検索できません。探したい語も入力してください。")
        raise EmptyQuery("検索語を入力してください。")
    result = positive[0] if len(positive) == 1 else wq.And(positive)
    if negative:
        result = wq.AndNot(result, _any(negative))
    return result


def literal_queries(
    text: str,
    fields: Sequence[str] | Mapping[str, float],
    *,
    max_chars: int = MAX_CHARS,
    max_clauses: int = MAX_CLAUSES,
    phrase: bool = True,
    synonyms: SynonymTable | None = None,
) -> list[wq.Query]:
    """Return, per positive word (or OR-group) of the query, the query of its spelling as typed.

    Empty when no word has another spelling (a synonym or an okurigana form): then every match
    contains the query as written and there is nothing to rank first.  Call it after
    ``parse_user_query`` accepted the text (the same limits apply; it raises the same errors).
    """
    table = synonyms if synonyms is not None else get_synonyms()
    groups = split_user_query(text, max_chars=max_chars, max_clauses=max_clauses)
    widened = any(
        len(clause_forms(clause, table)) > 1 for group in groups if not group[0].negated for clause in group
    )
    if not widened:
        return []
    positive, _ = _groups(text, fields, MAX_TERMS * 4, max_chars, max_clauses, phrase, table, True)
    return positive


def _groups(
    text: str,
    fields: Sequence[str] | Mapping[str, float],
    max_terms: int,
    max_chars: int,
    max_clauses: int,
    phrase: bool,
    synonyms: SynonymTable | None,
    as_typed: bool,
) -> tuple[list[wq.Query], list[wq.Query]]:
    """Return the positive and the negative group queries; ``as_typed`` keeps only the first form."""
    boosts = dict(fields) if isinstance(fields, Mapping) else dict.fromkeys(fields, 1.0)
    if not boosts:
        raise ValueError("parse_user_query needs at least one field")
    table = synonyms if synonyms is not None else get_synonyms()
    positive: list[wq.Query] = []
    negative: list[wq.Query] = []
    leaves = 0
    for group in split_user_query(text, max_chars=max_chars, max_clauses=max_clauses):
        alternatives: list[wq.Query] = []
        for clause in group:
            forms = clause_forms(clause, table)
            for form in forms[:1] if as_typed else forms:
                terms = word_terms(form)
                if terms.empty:
                    continue  # e.g. "*" or "?": punctuation only
                exact = phrase and clause.phrase
                per_field = [_field_query(terms, name, boost, exact) for name, boost in boosts.items()]
                alternatives.append(_any(per_field))
                leaves += sum(_count_leaves(q) for q in per_field)
                if leaves > max_terms:
                    raise QueryTooComplex("検索条件が複雑すぎます。語の数や長さを減らしてください。")
        if alternatives:
            (negative if group[0].negated else positive).append(_any(alternatives))
    return positive, negative


def highlight_terms(
    text: str, *, synonyms: SynonymTable | None = None, max_chars: int = MAX_CHARS
) -> list[str]:
    """Return the normalised pieces of text a snippet should mark for this query, longest first.

    Pieces are the runs of letters, digits and Japanese in each positive word or phrase, in its
    synonyms and in its curated okurigana spellings.  Excluded words are not marked.  Returns
    ``[]`` for a query that cannot be parsed (never raises).
    """
    table = synonyms if synonyms is not None else get_synonyms()
    try:
        groups = split_user_query(text, max_chars=max_chars)
    except QueryError:
        return []
    pieces: dict[str, None] = {}
    for group in groups:
        for clause in group:
            if clause.negated:
                continue
            for form in clause_forms(clause, table):
                for piece in _PIECE_RE.findall(form):
                    pieces[piece] = None
    return sorted(pieces, key=len, reverse=True)
