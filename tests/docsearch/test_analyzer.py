"""Japanese analysis: normalisation, bigram/unigram findability and spelling variants, on a real index."""

from __future__ import annotations

import os
import unicodedata

import pytest
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import FileStorage

from docsearch.analyzer import (
    bigram_tokens,
    normalize,
    normalize_with_offsets,
    unigram_counts,
)
from docsearch.engine.whoosh.postings import field_values, text_fields
from docsearch.engine.whoosh.queries import parse_user_query
from docsearch.synonyms import SynonymTable, get_synonyms, load_synonyms
from docsearch.variants import ITAIJI


def make_index(tmp_path, docs: dict[str, str], *, phrase: bool = True):
    """A real whoosh index on disk with a title-less body field per document."""
    schema = Schema(id=ID(stored=True, unique=True), **text_fields("body", stored=True, phrase=phrase))
    tmp_path.mkdir(parents=True, exist_ok=True)
    ix = FileStorage(str(tmp_path)).create_index(schema)
    with ix.writer() as w:
        for doc_id, body in docs.items():
            w.add_document(id=doc_id, **field_values("body", body))
    return ix


def search_ids(ix, user_query: str, **kwargs) -> set[str]:
    with ix.searcher() as s:
        return {hit["id"] for hit in s.search(parse_user_query(user_query, ["body"], **kwargs), limit=None)}


# --- normalisation ------------------------------------------------------------------------------
def test_full_width_latin_and_digits_fold_to_ascii():
    assert normalize("ＤＸ推進　２０２６年") == "dx推進 2026年"


def test_half_width_katakana_folds_to_full_width_including_voiced_marks():
    assert normalize("ｶﾀｶﾅ ﾃﾞｼﾞﾀﾙ") == "カタカナデジタル"


def test_case_is_folded():
    assert normalize("LGWAN and Ict") == "lgwan and ict"


def test_spaced_out_capitals_from_pdf_extraction_become_one_word():
    assert normalize("近年、I C T の進展") == "近年、ict の進展"


def test_whitespace_inside_japanese_text_is_removed_but_kept_between_latin_words():
    assert normalize("地域社会\nの利便性 digital plan") == "地域社会の利便性 digital plan"


def test_offset_map_points_back_to_the_original_characters():
    text = "ｻｰﾊﾞｰ室のＤＸ"
    norm, spans = normalize_with_offsets(text)
    assert norm == normalize(text) == "サーバ室のdx"
    assert text[spans[0][0] : spans[2][1]] == "ｻｰﾊﾞ"
    assert text[spans[-2][0] : spans[-1][1]] == "ＤＸ"


# --- tokens -------------------------------------------------------------------------------------
def test_japanese_runs_become_overlapping_bigrams_and_latin_digits_whole_words():
    terms = [t for t, _ in bigram_tokens("令和8年度予算書とDX")]
    assert terms[:8] == ["令和", "和8", "8", "8年", "年度", "度予", "予算", "算書"]
    assert "dx" in terms and "とd" not in terms


def test_unigram_field_counts_every_japanese_character():
    assert unigram_counts("村の村長、課") == {"村": 2, "の": 1, "長": 1, "課": 1}


def test_search_for_a_kanji_pair_inside_a_compound_finds_the_document(tmp_path):
    ix = make_index(tmp_path, {"1": "令和8年度予算書", "2": "決算の報告"})
    assert search_ids(ix, "予算") == {"1"}


def test_single_character_query_finds_documents_containing_it(tmp_path):
    ix = make_index(tmp_path, {"1": "榛東村の計画", "2": "総務課", "3": "議会"})
    assert search_ids(ix, "村") == {"1"}
    assert search_ids(ix, "課") == {"2"}


def test_full_width_query_finds_half_width_text_and_back(tmp_path):
    ix = make_index(tmp_path, {"1": "DX推進計画", "2": "ﾏｲﾅﾝﾊﾞｰ", "3": "計画"})
    assert search_ids(ix, "ＤＸ") == {"1"}
    assert search_ids(ix, "マイナンバー") == {"2"}


def test_query_in_other_case_finds_acronym(tmp_path):
    ix = make_index(tmp_path, {"1": "LGWAN接続系", "2": "インターネット接続系"})
    assert search_ids(ix, "lgwan") == {"1"}


def test_numbers_match_whole_numbers_in_full_or_half_width(tmp_path):
    ix = make_index(tmp_path, {"1": "２０２６年度", "2": "2025年度", "3": "第100条", "4": "第1000条"})
    assert search_ids(ix, "2026") == {"1"}
    assert search_ids(ix, "第100条") == {"3"}


def test_digits_next_to_kanji_must_be_adjacent(tmp_path):
    ix = make_index(tmp_path, {"1": "令和8年度予算", "2": "令和7年度予算、8年後"})
    assert search_ids(ix, "令和8年度予算") == {"1"}


# --- variants -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("サーバー", "サーバ室"),
        ("サーバ", "サーバー"),
        ("コンピューター", "コンピュータ"),
        ("ユーザ", "ユーザーの"),
    ],
)
def test_long_vowel_mark_at_word_end_is_optional(tmp_path, query, text):
    ix = make_index(tmp_path, {"1": text, "2": "サービス"})
    assert search_ids(ix, query) == {"1"}


def test_long_vowel_mark_is_kept_for_short_words():
    assert normalize("キー") == "キー"
    assert normalize("サーバー") == "サーバ"


@pytest.mark.parametrize("query", ["取り扱い", "取扱い", "取扱"])
def test_okurigana_variants_find_each_other(tmp_path, query):
    ix = make_index(tmp_path, {"1": "個人情報の取り扱い", "2": "取扱い注意", "3": "取扱規程", "4": "取得"})
    assert search_ids(ix, query) == {"1", "2", "3"}


def test_okurigana_folding_works_inside_longer_compounds(tmp_path):
    ix = make_index(tmp_path, {"1": "申し込み書を提出", "2": "申込書", "3": "申請書"})
    assert search_ids(ix, "申込書") == {"1", "2"}
    assert search_ids(ix, "申し込み書") == {"1", "2"}


def test_no_kana_is_skipped_when_indexing():
    """Is 取り扱い indexed only as written (no 取扱 bridge), so that only curated spellings join?"""
    assert "報保" not in [t for t, _ in bigram_tokens("個人情報の保護")]
    assert "取扱" not in [t for t, _ in bigram_tokens("個人情報の取り扱い")]
    assert "引出" not in [t for t, _ in bigram_tokens("預金の引き出し")]


@pytest.mark.parametrize(
    ("old", "new"), [("國", "国"), ("學", "学"), ("區", "区"), ("縣", "県"), ("廣", "広"), ("澤", "沢")]
)
def test_old_kanji_forms_fold_to_new_forms(old, new):
    assert normalize(old) == new


@pytest.mark.parametrize("name", ["渡邊", "渡邉", "渡辺"])
def test_variant_family_names_find_each_other(tmp_path, name):
    ix = make_index(tmp_path, {"1": "担当 渡辺", "2": "担当 髙﨑", "3": "担当 齋藤"})
    assert search_ids(ix, name) == {"1"}
    assert search_ids(ix, "高崎") == {"2"}
    assert search_ids(ix, "斎藤") == search_ids(ix, "齊藤") == {"3"}


def test_itaiji_table_maps_to_characters_that_are_not_folded_again():
    assert all(new not in ITAIJI for new in ITAIJI.values())
    assert all(unicodedata.normalize("NFKC", old) == old for old in ITAIJI)


def test_katakana_spelling_variants_fold(tmp_path):
    docs = {"1": "ウィルス対策", "2": "ヴァイオリン教室", "3": "デジタル・トランスフォーメーション"}
    ix = make_index(tmp_path, docs)
    assert search_ids(ix, "ウイルス") == {"1"}
    assert search_ids(ix, "バイオリン") == {"2"}
    assert search_ids(ix, "デジタルトランスフォーメーション") == {"3"}


def test_counter_spellings_after_numerals_fold():
    assert normalize("3ヶ月") == normalize("3カ月") == normalize("3か月") == normalize("3箇月")


def test_hyphenated_latin_word_matches_joined_spelling(tmp_path):
    ix = make_index(tmp_path, {"1": "Wi-Fi環境", "2": "WiFi環境", "3": "無線"})
    assert search_ids(ix, "wifi") == {"1", "2"}
    assert search_ids(ix, "Wi-Fi") == {"1", "2"}


# --- synonyms -----------------------------------------------------------------------------------
def test_synonyms_match_in_both_directions(tmp_path):
    ix = make_index(tmp_path, {"1": "マイナンバーカードの交付", "2": "個人番号カードを提示", "3": "カード"})
    assert search_ids(ix, "マイナンバーカード") == {"1", "2"}
    assert search_ids(ix, "個人番号カード") == {"1", "2"}


def test_synonyms_file_from_a_configured_path_is_used_and_reloaded(tmp_path):
    path = tmp_path / "synonyms.txt"
    path.write_text("# 職員用\n公用車、庁用車\n", encoding="utf-8")
    ix = make_index(tmp_path / "ix", {"1": "庁用車の予約", "2": "公用車の予約", "3": "自家用車"})
    assert search_ids(ix, "公用車", synonyms=load_synonyms(path)) == {"1", "2"}
    assert search_ids(ix, "公用車", synonyms=SynonymTable([])) == {"2"}
    first = get_synonyms(path)
    path.write_text("公用車, 自家用車\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime, as an edit would give
    assert get_synonyms(path) is not first
    assert search_ids(ix, "公用車", synonyms=get_synonyms(path)) == {"2", "3"}


def test_bundled_synonym_file_parses_into_groups():
    table = load_synonyms()
    assert ("マイナンバーカード", "個人番号カード") in table.groups
    assert table.expand("dx推進") == ["dx推進", "デジタルトランスフォーメーション推進"]
    assert table.expand("mail") == ["mail"]  # ai inside a Latin word is not the acronym AI


def test_index_without_positions_still_finds_compounds_and_phrases(tmp_path):
    ix = make_index(tmp_path, {"1": "令和8年度予算書", "2": "予算"}, phrase=False)
    assert search_ids(ix, "予算", phrase=False) == {"1", "2"}
    assert search_ids(ix, '"年度予算"', phrase=False) == {"1"}


@pytest.mark.parametrize(
    "text",
    [
        "予算予算の予算",
        "住民基本台帳の取り扱い、住民基本台帳法",
        "DX推進 dx推進 Wi-Fi wifi 2026年 2026年",
        "あ" * 600,  # positions past 255: another integer width in the pickle
    ],
)
def test_bigram_postings_are_whooshs_positions_encoding(text: str) -> None:
    """Are the bigram field's values whoosh's Positions encoding of the tokenizer's positions"""
    from whoosh.formats import Positions

    from docsearch.analyzer import JapaneseBigramTokenizer
    from docsearch.engine.whoosh.postings import BigramPositions

    fmt = BigramPositions()
    expected = sorted(Positions.word_values(fmt, text, JapaneseBigramTokenizer()))
    terms, freqs, weights, values = fmt.columns(text)
    assert sorted(zip(terms, freqs, weights, values, strict=True)) == expected
