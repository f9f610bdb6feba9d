"""What the user typed as whoosh queries over the bigram and unigram fields (``index.get_schema``).

The syntax, the forms searched for each word (synonyms, curated okurigana spellings) and the abuse
limits are the engine-neutral ``docsearch.query``; here each form's terms (``analyzer.word_terms``)
become whoosh ``Term``/``Phrase`` queries.  An unquoted word is an AND of bigram-field terms (every
overlapping bigram, plus boundary tokens where letters/digits touch Japanese: 令和8 → 和8), answered
by intersecting posting lists without reading positions; only a one-character word reads the
unigram field; a quoted phrase is a ``Phrase`` over bigram positions.  Each word is matched within
one field at a time (title OR body), with the caller's boosts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from whoosh import query as wq

from docsearch.analyzer import UNIGRAM_SUFFIX, WordTerms, word_terms
from docsearch.query import (
    MAX_CHARS,
    MAX_CLAUSES,
    MAX_TERMS,
    EmptyQuery,
    QueryTooComplex,
    clause_forms,
    split_user_query,
)
from docsearch.synonyms import SynonymTable, get_synonyms


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
