"""Query syntax, abuse limits and snippets, against a real whoosh index in RAM."""

from __future__ import annotations

import time

import pytest
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import RamStorage

from docsearch.engine.whoosh.postings import field_values, text_fields
from docsearch.engine.whoosh.queries import parse_user_query
from docsearch.query import EmptyQuery, QueryTooComplex, highlight_terms, split_user_query
from docsearch.snippet import snippet

DOCS = {
    "budget": ("令和8年度予算書", "教育費と土木費の予算を計上する。"),
    "settle": ("令和7年度決算書", "決算の認定を議会に求める。"),
    "privacy": ("個人情報の保護に関する規程", "個人情報の保護のため、情報公開の例外とする。"),
    "open": ("情報公開条例", "公開する情報の範囲を定める。廃止された条例を除く。"),
    "mixed": ("会議録", "情報と公開について議論した。"),
}


@pytest.fixture(scope="module")
def ix():
    schema = Schema(id=ID(stored=True, unique=True), **text_fields("title"), **text_fields("body"))
    index = RamStorage().create_index(schema)
    with index.writer() as w:
        for doc_id, (title, body) in DOCS.items():
            w.add_document(id=doc_id, **field_values("title", title), **field_values("body", body))
    return index


def ids(ix, user_query: str) -> set[str]:
    q = parse_user_query(user_query, {"title": 2.0, "body": 1.0})
    with ix.searcher() as s:
        return {hit["id"] for hit in s.search(q, limit=None)}


def test_query_typed_without_spaces_matches_as_a_whole(ix):
    assert ids(ix, "令和8年度予算") == {"budget"}
    assert ids(ix, "個人情報の保護") == {"privacy"}


def test_space_separated_words_must_all_occur(ix):
    assert ids(ix, "予算 教育費") == {"budget"}
    assert ids(ix, "予算 議会") == set()


def test_words_may_occur_in_different_fields(ix):
    assert ids(ix, "決算書 認定") == {"settle"}


def test_title_matches_rank_above_body_matches(ix):
    q = parse_user_query("情報公開", {"title": 2.0, "body": 1.0})
    with ix.searcher() as s:
        assert [hit["id"] for hit in s.search(q)][0] == "open"


def test_quoted_phrase_requires_adjacent_text(ix):
    assert ids(ix, "情報 公開") == {"privacy", "open", "mixed"}
    assert ids(ix, '"情報公開"') == {"privacy", "open"}


def test_minus_excludes_documents_with_the_word(ix):
    assert ids(ix, "情報公開 -廃止") == {"privacy"}
    assert ids(ix, '条例 -"廃止された"') == set()


def test_or_between_terms_finds_either(ix):
    assert ids(ix, "予算書 OR 決算書") == {"budget", "settle"}
    assert ids(ix, "令和 予算書 OR 決算書") == {"budget", "settle"}


def test_or_binds_tighter_than_and():
    groups = split_user_query("a b OR c -d")
    assert [[c.text for c in g] for g in groups] == [["a"], ["b", "c"], ["d"]]
    assert groups[-1][0].negated


def test_full_width_quotes_and_minus_work_like_ascii(ix):
    assert ids(ix, "＂情報公開＂ －廃止") == {"privacy"}


def test_asterisk_is_not_a_wildcard(ix):
    with pytest.raises(EmptyQuery) as err:
        parse_user_query("*", ["body"])
    assert "検索語" in err.value.message_ja
    assert ids(ix, "予算*") == ids(ix, "予算")


def test_only_excluded_words_is_refused_with_a_japanese_message():
    with pytest.raises(EmptyQuery, match="除外"):
        parse_user_query("-予算", ["body"])


def test_ten_thousand_character_query_is_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(QueryTooComplex, match="長すぎます"):
        parse_user_query("予" * 10_000, ["body"])
    assert time.perf_counter() - started < 0.5


def test_thousands_of_ors_are_refused():
    with pytest.raises(QueryTooComplex):
        parse_user_query(" OR ".join(["予算"] * 3000), ["body"], max_chars=100_000)


def test_long_word_over_term_limit_is_refused():
    with pytest.raises(QueryTooComplex, match="複雑"):
        parse_user_query("".join(chr(0x4E00 + i) for i in range(200)), ["title", "body"])


def test_letter_with_asterisk_becomes_a_bounded_single_term_query():
    q = parse_user_query("a*", ["body"])
    assert list(q.iter_all_terms()) == [("body", "a")]


def test_highlight_terms_include_synonyms_and_skip_exclusions():
    terms = highlight_terms("マイナンバーカード 取り扱い -廃止")
    assert "個人番号カード" in terms and "取扱" in terms and "廃止" not in terms


def test_snippet_marks_japanese_matches_in_the_original_text():
    html = snippet("令和８年度予算書を取り扱い規程により管理する。", "予算 取扱")
    assert "<mark>予算</mark>" in html and "<mark>取り扱い</mark>" in html


def test_snippet_escapes_markup_in_the_text():
    html = snippet('<script>alert("x")</script>予算&決算', "予算")
    assert "<script>" not in html
    assert html == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<mark>予算</mark>&amp;決算"


def test_snippet_is_cut_around_the_first_match_with_ellipses():
    text = "あ" * 200 + "予算" + "い" * 200
    html = snippet(text, "予算", length=40)
    assert html.startswith("…") and html.endswith("…") and "<mark>予算</mark>" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) <= 42


def test_snippet_without_match_or_with_rejected_query_is_plain_escaped_text():
    assert snippet("a<b", "*") == "a&lt;b"
    assert snippet("a<b", "x" * 10_000) == "a&lt;b"
