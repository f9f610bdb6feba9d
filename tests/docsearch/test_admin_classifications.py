"""管理 › 文書分類, the service (docsearch.classifications): add, rename, 保存年限, retire or delete,
restore, and the CSV import (dry run, then apply) and export — every rule, with its audit entries."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from docsearch import classifications, registry
from docsearch.classification_csv import CsvProblem
from docsearch.errors import DocumentError
from docsearch.models import Classification
from tests.conftest import PASSWORD
from workspace import db, directory
from workspace.errors import ServiceError
from workspace.models import AuditEntry

TABLE = (
    "コード,大分類,中分類,小分類,保存年限\n"
    "01,総務,,,\n"
    "0101,総務,文書・法規,,\n"
    "010101,総務,文書・法規,例規・条例,永年\n"
    "010102,総務,文書・法規,文書管理,10\n"
    "0102,総務,人事,,\n"
    "010201,総務,人事,職員研修,3\n"
)


@pytest.fixture
def clerk(village: dict[str, Any]) -> Any:
    """A records-staff account (role records only)."""
    user = directory.add_local_user(
        "kiroku", "記録 文子", PASSWORD, department_code="01", section_code="0101", roles=("records",)
    )
    db.session().commit()
    return user


@pytest.fixture
def table(clerk: Any) -> None:
    classifications.apply(clerk, TABLE.encode())


def _codes() -> dict[str, tuple[str, int | None]]:
    db.session().commit()
    rows = db.session().execute(select(Classification).order_by(Classification.code)).scalars()
    return {c.code: (c.label, c.default_retention_years) for c in rows}


def _audit(action: str) -> list[AuditEntry]:
    db.session().commit()
    return list(
        db.session()
        .execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        .scalars()
    )


def _register(user: Any, code: str) -> Any:
    fields = {
        "title": "例規集",
        "department_code": "01",
        "fiscal_year": "2025",
        "visibility": "internal",
        "classification": code,
    }
    doc = registry.register(user, fields, io.BytesIO(b"reiki"), "reiki.txt")
    db.session().commit()
    return doc


# --- one entry at a time -----------------------------------------------------------------------


def test_add_a_major_middle_and_minor_with_audit(clerk: Any) -> None:
    classifications.add(clerk, parent=None, code="09", name="会計", retention_years="10")
    classifications.add(clerk, parent="09", code="0901", name="出納", retention_years="permanent")
    classifications.add(clerk, parent="0901", code="090101", name="支出命令", retention_years="5")
    assert _codes() == {
        "09": ("会計", 10),
        "0901": ("会計 › 出納", None),
        "090101": ("会計 › 出納 › 支出命令", 5),
    }
    created = _audit("classification.create")
    assert [e.target for e in created] == [
        "classification:09",
        "classification:0901",
        "classification:090101",
    ]
    assert created[-1].actor == "kiroku"
    assert created[-1].detail == {
        "before": None,
        "after": {"major": "会計", "middle": "出納", "minor": "支出命令", "retention_years": 5},
    }


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        (
            {"parent": None, "code": "01", "name": "別の総務", "retention_years": "10"},
            "code",
            "すでに使われて",
        ),
        ({"parent": None, "code": "01 x", "name": "x", "retention_years": "10"}, "code", "半角の英数字"),
        ({"parent": None, "code": "new", "name": "x", "retention_years": "10"}, "code", "コードに使えません"),
        (
            {"parent": "0101", "code": "010199", "name": "文書管理", "retention_years": "10"},
            "name",
            "すでにあります",
        ),
        ({"parent": "0101", "code": "010199", "name": "", "retention_years": "10"}, "name", "名前を入力"),
        (
            {"parent": "0101", "code": "010199", "name": "公印", "retention_years": "7"},
            "retention_years",
            "7",
        ),
        ({"parent": "010101", "code": "01010101", "name": "公印", "retention_years": "1"}, "parent", "上位"),
    ],
)
def test_add_refuses_bad_input_next_to_its_field_and_changes_nothing(
    clerk: Any, table: None, kwargs: dict[str, Any], field: str, words: str
) -> None:
    before = _codes()
    entries = len(_audit("classification.create"))
    with pytest.raises(ServiceError) as refused:
        classifications.add(clerk, **kwargs)
    assert refused.value.status == 422 and refused.value.extra["field"] == field
    assert words in refused.value.message
    assert _codes() == before and len(_audit("classification.create")) == entries


def test_a_clerk_without_the_role_is_refused(village: dict[str, Any], table: None) -> None:
    with pytest.raises(ServiceError) as refused:
        classifications.add(village["yamada"], parent=None, code="09", name="会計", retention_years="10")
    assert refused.value.status == 403
    with pytest.raises(ServiceError):
        classifications.apply(village["yamada"], TABLE.encode())
    assert "09" not in _codes()


def test_rename_a_middle_renames_it_under_it_and_the_retention_is_audited(clerk: Any, table: None) -> None:
    classifications.update(clerk, "0101", name="文書・例規", retention_years="permanent")
    classifications.update(clerk, "010102", name="文書管理", retention_years="5")
    codes = _codes()
    assert codes["0101"] == ("総務 › 文書・例規", None)
    assert codes["010101"] == ("総務 › 文書・例規 › 例規・条例", None)
    assert codes["010102"] == ("総務 › 文書・例規 › 文書管理", 5)
    updates = _audit("classification.update")
    assert (
        updates[0].detail["before"]["middle"] == "文書・法規"
        and updates[0].detail["after"]["middle"] == "文書・例規"
    )
    assert (
        updates[1].detail["before"]["retention_years"] == 10
        and updates[1].detail["after"]["retention_years"] == 5
    )


def test_rename_to_a_sibling_name_is_refused(clerk: Any, table: None) -> None:
    with pytest.raises(ServiceError) as refused:
        classifications.update(clerk, "0102", name="文書・法規", retention_years="permanent")
    assert refused.value.extra["field"] == "name" and _codes()["0102"] == ("総務 › 人事", None)


def test_a_retention_change_keeps_registered_documents_as_they_are(clerk: Any, table: None) -> None:
    doc = _register(clerk, "010102")
    assert doc.retention_years == 10
    classifications.update(clerk, "010102", name="文書管理", retention_years="1")
    db.session().refresh(doc)
    assert doc.retention_years == 10
    assert _register(clerk, "010102").retention_years == 1


def test_unused_entry_is_deleted_and_one_in_use_is_retired(clerk: Any, table: None) -> None:
    _register(clerk, "010101")
    assert classifications.retire(clerk, "010102") == "deleted"
    assert "010102" not in _codes()
    assert classifications.retire(clerk, "010101") == "retired"
    assert "010101" in _codes() and classifications.is_retired("010101")
    assert [e.target for e in _audit("classification.delete")] == ["classification:010102"]
    retired = _audit("classification.retire")
    assert retired[0].detail["before"]["state"] == "使用中" and retired[0].detail["after"]["state"] == "廃止"
    # A retired entry is not offered, and a new document cannot be filed under it …
    with pytest.raises(DocumentError) as refused:
        _register(clerk, "010101")
    assert refused.value.status == 422 and "廃止" in refused.value.message
    # … and its heading, with only retired entries under it, is retired too rather than deleted.
    assert classifications.retire(clerk, "0101") == "retired"
    classifications.restore(clerk, "0101")
    classifications.restore(clerk, "010101")
    assert not classifications.is_retired("010101")
    assert _register(clerk, "010101").classification.code == "010101"
    assert len(_audit("classification.restore")) == 2


def test_a_heading_with_entries_in_use_under_it_is_refused(clerk: Any, table: None) -> None:
    with pytest.raises(ServiceError) as refused:
        classifications.retire(clerk, "0101")
    assert refused.value.status == 409 and "例規・条例" in refused.value.message
    assert "0101" in _codes() and not _audit("classification.retire")


def test_restore_under_a_retired_heading_is_refused(clerk: Any, table: None) -> None:
    _register(clerk, "010201")
    classifications.retire(clerk, "010201")
    classifications.retire(clerk, "0102")
    with pytest.raises(ServiceError) as refused:
        classifications.restore(clerk, "010201")
    assert refused.value.status == 409 and classifications.is_retired("010201")


def test_a_code_deleted_and_added_again_is_not_retired(clerk: Any, table: None) -> None:
    _register(clerk, "010102")
    classifications.retire(clerk, "010201")  # deleted
    classifications.add(clerk, parent="0102", code="010201", name="職員研修", retention_years="3")
    assert not classifications.is_retired("010201")


# --- the CSV: dry run, apply, export ------------------------------------------------------------


def test_dry_run_lists_what_changes_and_writes_nothing(clerk: Any, table: None) -> None:
    _register(clerk, "010201")
    new = (
        "code,major,middle,minor,retention_years\n"
        "01,総務,,,\n"
        "0101,総務,文書・法規,,\n"
        "010101,総務,文書・法規,例規・条例,永年\n"
        "010102,総務,文書・法規,文書の管理,5\n"
        "010103,総務,文書・法規,公印,10年\n"
    )
    before = _codes()
    result = classifications.plan(new.encode())
    assert _codes() == before
    body = result.as_dict()
    assert (body["added"], body["changed"], body["removed"]) == (1, 1, 2)
    assert (
        body["rows"]["added"][0]["code"] == "010103" and body["rows"]["added"][0]["retention_label"] == "10年"
    )
    changed = body["rows"]["changed"][0]
    assert changed["code"] == "010102" and changed["before"]["label"] == "総務 › 文書・法規 › 文書管理"
    assert changed["label"] == "総務 › 文書・法規 › 文書の管理" and changed["retention_label"] == "5年"
    removed = {r["code"]: r["outcome"] for r in body["rows"]["removed"]}
    assert removed == {"0102": "廃止", "010201": "廃止"}  # in use: kept, retired; its heading with it
    assert body["applied"] is False


def test_apply_changes_the_table_and_audits_every_row(clerk: Any, table: None) -> None:
    _register(clerk, "010201")
    new = TABLE.replace("文書管理,10", "文書管理,30").replace(
        "0102,総務,人事,,\n010201,総務,人事,職員研修,3\n", ""
    )
    new += "0103,総務,防災,,\n010301,総務,防災,防災訓練,3\n"
    result = classifications.apply(clerk, new.encode())
    assert (len(result.added), len(result.changed), len(result.removed)) == (2, 1, 2)
    codes = _codes()
    assert codes["010102"][1] == 30 and codes["010301"] == ("総務 › 防災 › 防災訓練", 3)
    assert classifications.retired_codes() == {"0102", "010201"}
    entry = _audit("classification.import")[-1]
    assert entry.actor == "kiroku" and entry.detail["rows"] == 6
    assert entry.detail["changed"][0]["before"]["retention_years"] == 10
    assert entry.detail["changed"][0]["after"]["retention_years"] == 30
    # The same file again changes nothing: the retired entries stay as they are.
    again = classifications.plan(new.encode())
    assert (again.added, again.changed, again.removed) == ([], [], [])


def test_an_unused_entry_left_out_is_deleted(clerk: Any, table: None) -> None:
    new = TABLE.replace("010201,総務,人事,職員研修,3\n", "").replace("0102,総務,人事,,\n", "")
    classifications.apply(clerk, new.encode())
    assert "0102" not in _codes() and "010201" not in _codes()
    assert not classifications.retired_codes()


def test_shift_jis_is_detected(clerk: Any, table: None) -> None:
    sjis = TABLE.replace("職員研修,3", "職員研修・①,5").encode("cp932")
    result = classifications.apply(clerk, sjis)
    assert [r["label"] for r in result.changed] == ["総務 › 人事 › 職員研修・①"]
    assert _codes()["010201"] == ("総務 › 人事 › 職員研修・①", 5)


def test_a_preview_that_no_longer_matches_is_not_applied(clerk: Any, table: None) -> None:
    new = TABLE.replace("文書管理,10", "文書管理,30").encode()
    preview = classifications.plan(new)
    classifications.update(clerk, "010102", name="文書管理", retention_years="30")
    with pytest.raises(ServiceError) as stale:
        classifications.apply(clerk, new, expected=preview.digest)
    assert stale.value.status == 409
    ok = classifications.plan(TABLE.replace("文書管理,10", "文書管理,5").encode())
    classifications.apply(clerk, TABLE.replace("文書管理,10", "文書管理,5").encode(), expected=ok.digest)
    assert _codes()["010102"][1] == 5


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            TABLE + '010103,総務,文書・法規,"公印,10\n010104,総務,文書・法規,公報,5\n',
            "8行目: CSVの形式が正しくありません",
        ),
        (TABLE.replace("職員研修,3", "職員研修,7"), "7行目: 保存年限「7」は使えません"),
        (TABLE + "010102,総務,文書・法規,公印,10\n", "8行目: コード「010102」が5行目と重複しています"),
        (
            TABLE + "010401,総務,財産,公用車,5\n",
            "8行目: 小分類「総務 › 財産 › 公用車」の中分類「財産」の行がありません",
        ),
        (TABLE + "0201,企画,統計,,\n", "8行目: 中分類「企画 › 統計」の大分類「企画」の行がありません"),
        (TABLE + "010103,総務,文書・法規,公印,10,余分\n", "8行目: 列の数が見出し行より多く"),
        (TABLE + "010103,総務,,公印,10\n", "8行目: 小分類には中分類の名前も必要です"),
        ("コード,名前\n01,総務\n", "1行目: 列「名前」は使えません"),
        ("01,総務,,,\n", "1行目"),
        ("", "ファイルが空です"),
        ("コード,大分類\n", "分類の行が1件もありません"),
    ],
)
def test_a_bad_file_names_the_line_and_changes_nothing(
    clerk: Any, table: None, text: str, words: str
) -> None:
    before = _codes()
    imports = len(_audit("classification.import"))
    for attempt in (
        lambda: classifications.plan(text.encode()),
        lambda: classifications.apply(clerk, text.encode()),
    ):
        with pytest.raises(CsvProblem) as refused:
            attempt()
        assert refused.value.status == 422 and words in refused.value.message, refused.value.message
    assert _codes() == before and len(_audit("classification.import")) == imports


def test_a_file_in_neither_encoding_is_refused(clerk: Any, table: None) -> None:
    with pytest.raises(CsvProblem) as refused:
        classifications.plan(b"\x81\xff\xfe,\x80\n")
    assert "UTF-8 か Shift_JIS" in refused.value.message


def test_export_utf8_with_bom_and_shift_jis_round_trip(clerk: Any, table: None) -> None:
    _register(clerk, "010201")
    classifications.retire(clerk, "010201")
    data = classifications.export_csv("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "コード,大分類,中分類,小分類,保存年限,状態"
    assert "010101,総務,文書・法規,例規・条例,永年," in text and "0101,総務,文書・法規,,," in text
    assert "010201,総務,人事,職員研修,3,廃止" in text
    sjis = classifications.export_csv("shift_jis")
    assert sjis.decode("cp932") == text
    for exported in (data, sjis):
        again = classifications.plan(exported)
        assert (again.added, again.changed, again.removed) == ([], [], [])


def test_shift_jis_export_refuses_a_name_it_cannot_hold(clerk: Any, table: None) -> None:
    classifications.update(clerk, "010201", name="𠮷田文書", retention_years="3")
    with pytest.raises(ServiceError) as refused:
        classifications.export_csv("shift_jis")
    assert refused.value.status == 422 and "𠮷" in refused.value.message
    assert "𠮷田文書" in classifications.export_csv("utf-8").decode("utf-8-sig")


def test_the_command_previews_and_replaces(app: Any, clerk: Any, table: None, tmp_path: Any) -> None:
    path = tmp_path / "bunrui.csv"
    path.write_text(TABLE.replace("0102,総務,人事,,\n010201,総務,人事,職員研修,3\n", ""), encoding="utf-8")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["classifications", "import", "--replace", "--dry-run", str(path)])
    assert dry.exit_code == 0 and "would add 0, changed 0, removed 2" in dry.output
    assert "0102" in _codes()
    merged = runner.invoke(args=["classifications", "import", str(path)])
    assert merged.exit_code == 0 and "removed 0" in merged.output and "0102" in _codes()
    done = runner.invoke(args=["classifications", "import", "--replace", str(path)])
    assert done.exit_code == 0 and "removed 2" in done.output and "0102" not in _codes()
    assert _audit("classification.import")[-1].actor == "cli"
    assert db.session().execute(select(func.count(Classification.id))).scalar() == 4
