"""Literal matches first: synonyms, acronym expansions and okurigana spellings widen recall but never
outrank a document that contains the query as written; okurigana joins only curated spellings."""

from __future__ import annotations

from whoosh.filedb.filestore import RamStorage

from docsearch.engine import IndexEntry, entry_key
from docsearch.engine.whoosh.index import document_fields, get_schema
from docsearch.engine.whoosh.matching import run_query
from docsearch.engine.whoosh.queries import literal_queries, parse_user_query
from docsearch.query import clause_forms, split_user_query
from docsearch.synonyms import get_synonyms

FIELDS = {"title": 2.0, "body": 1.0}


def make_searcher(docs: dict[str, tuple[str, str]]):
    """The production schema in memory; docs maps a name to (title, body)."""
    ix = RamStorage().create_index(get_schema())
    names = {}
    with ix.writer() as w:
        for number, (name, (title, body)) in enumerate(docs.items(), start=1):
            names[entry_key("document", number)] = name
            entry = IndexEntry(type="document", object_id=number, title=title, body=body, acl=["all"])
            w.add_document(**document_fields(entry))
    return ix.searcher(), names


def ranked(docs: dict[str, tuple[str, str]], text: str) -> list[str]:
    """The names of the matches of text, best first, as the search API ranks them."""
    searcher, names = make_searcher(docs)
    found = run_query(
        searcher,
        parse_user_query(text, FIELDS),
        {"all"},
        limit=50,
        literal=literal_queries(text, FIELDS),
    )
    return [names[key] for key, _, _ in found.page]


def _expansion_heavy(word: str, n: int = 6) -> dict[str, tuple[str, str]]:
    # Documents dense with the expansion, in title and body: BM25 alone ranks them first.
    return {f"exp{i}": (f"{word}の推進", f"{word}を進める。{word}の計画。{word}") for i in range(n)}


def test_acronym_query_returns_documents_with_the_acronym_before_its_expansion():
    docs = _expansion_heavy("デジタルトランスフォーメーション")
    docs["dx1"] = ("庁内会議の記録", "議題のひとつとしてDXに触れた。ほかに予算と人事の報告があった。")
    docs["dx2"] = ("広報誌の原稿", "今月号の特集は子育て支援。巻末にDXの紹介を載せる。")
    result = ranked(docs, "DX")
    assert set(result[:2]) == {"dx1", "dx2"}
    assert len(result) == 8  # the expansion still widens recall


def test_expansion_query_returns_documents_with_the_expansion_before_the_acronym():
    docs = {f"ict{i}": ("ICTの活用", "ICTを使う。ICT機器。ICT") for i in range(5)}
    docs["full"] = ("会議録", "情報通信技術の説明が少しあった。")
    assert ranked(docs, "情報通信技術")[0] == "full"


def test_synonym_never_outranks_the_word_as_written():
    docs = _expansion_heavy("マイナンバーカード")
    docs["written"] = ("窓口だより", "個人番号カードの交付は本庁舎1階で行います。")
    result = ranked(docs, "個人番号カード")
    assert result[0] == "written" and len(result) == 7


def test_every_word_as_written_ranks_above_some_words_as_written():
    docs = {
        "one": ("DX推進", "デジタルトランスフォーメーションの推進。DX推進。推進体制。"),
        "both": ("会議", "人工知能の研究とDXの話。"),
        "none": (
            "人工知能とデジタルトランスフォーメーション",
            "人工知能。デジタルトランスフォーメーション。",
        ),
    }
    assert ranked(docs, "DX 人工知能")[0] == "both"


def test_okurigana_spelling_as_written_ranks_first():
    docs = {f"short{i}": ("取扱規程", "取扱規程。取扱の基準。取扱") for i in range(5)}
    docs["written"] = ("会議録", "個人情報の取り扱いについて説明した。")
    result = ranked(docs, "取り扱い")
    assert result[0] == "written" and len(result) == 6


def test_curated_okurigana_spellings_find_each_other():
    docs = {
        "a": ("", "個人情報の取り扱い"),
        "b": ("", "取扱い注意"),
        "c": ("", "取扱規程"),
        "d": ("", "取得"),
    }
    for text in ("取り扱い", "取扱い", "取扱"):
        assert set(ranked(docs, text)) == {"a", "b", "c"}, text


def test_okurigana_is_not_stripped_in_general_so_teate_is_not_teate_allowance():
    docs = {
        "treatment": ("救護訓練", "負傷者の手当てを学ぶ。"),
        "allowance": ("給与規程", "通勤手当の支給について。"),
    }
    assert ranked(docs, "手当て") == ["treatment"]
    # 手当 (allowance) is not a spelling of 手当て; it is merely a substring of it.
    assert "手当" not in clause_forms(split_user_query("手当て")[0][0], get_synonyms())


def test_words_not_in_the_curated_list_are_not_joined_across_kana():
    docs = {"written": ("", "預金の引出"), "kana": ("", "机の引き出しを整理する")}
    assert ranked(docs, "引出") == ["written"]


def test_query_without_other_spellings_has_no_literal_tier():
    assert literal_queries("予算 教育", FIELDS) == []
    assert len(literal_queries("DX 予算", FIELDS)) == 2
