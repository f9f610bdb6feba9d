"""課・係 rules (workspace.departments): add, rename, prefix, move a 係, 廃止/再開 refused while in use,
人事異動 preview and 適用 — each with its audit entry, and nothing changed when refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from approvals import service
from chat import channels
from chat.models import Channel, Member
from tests.approvals import test_service_support as support
from workspace import db, departments, directory
from workspace.departments import DepartmentError
from workspace.models import AuditEntry, Department

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


def _audits(action: str) -> list[AuditEntry]:
    with db.read_session() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def _dept(code: str) -> Department:
    db.session().expire_all()
    found = directory.get_department(code)
    assert found is not None
    return found


def _refused(
    call: Any, field: str | None = None, status: int = 422, code: str | None = None
) -> DepartmentError:
    with pytest.raises(DepartmentError) as caught:
        call()
    error = caught.value
    assert error.status == status, error.message
    if field is not None:
        assert error.extra.get("field") == field
    if code is not None:
        assert error.code == code
    return error


def test_add_a_department_and_a_section_with_audit(village: dict[str, Any]) -> None:
    departments.add("03", "住民課", actor="admin")
    departments.add("0301", "戸籍係", actor="admin", parent_code="03", prefix="戸")
    assert _dept("03").prefix == "住" and _dept("03").parent_id is None
    assert _dept("0301").parent.code == "03" and _dept("0301").prefix == "戸"
    entries = _audits("department.create")
    assert [e.target for e in entries] == ["03", "0301"]
    assert entries[1].actor == "admin"
    assert entries[1].detail["before"] is None
    assert entries[1].detail["after"] == {
        "name": "戸籍係",
        "prefix": "戸",
        "parent_code": "03",
        "active": True,
    }


def test_add_refuses_bad_input_and_changes_nothing(village: dict[str, Any]) -> None:
    _refused(lambda: departments.add("01", "重複課", actor="admin"), "code", code="code_taken")
    _refused(lambda: departments.add("a b", "住民課", actor="admin"), "code")
    _refused(lambda: departments.add("03", "  ", actor="admin"), "name")
    _refused(
        lambda: departments.add("03", "住民課", actor="admin", parent_code="0101"),
        "parent_code",
        code="section_under_section",
    )
    _refused(lambda: departments.add("03", "住民課", actor="admin", parent_code="99"), "parent_code")
    # 総 is 総務課's: a second 課 with it would share its 文書番号 sequence.
    _refused(lambda: departments.add("03", "総合政策課", actor="admin"), "prefix", code="prefix_taken")
    _refused(lambda: departments.add("03", "住民課", actor="admin", prefix="123456789"), "prefix")
    assert directory.get_department("03") is None
    assert _audits("department.create") == []


def test_rename_and_prefix_are_audited_with_before_and_after(village: dict[str, Any]) -> None:
    departments.update("02", {"name": "企画課", "prefix": "企財"}, actor="admin")
    assert _dept("02").name == "企画課" and _dept("02").prefix == "企財"
    [entry] = _audits("department.update")
    assert entry.detail["before"] == {
        "name": "企画財政課",
        "prefix": "企",
        "parent_code": None,
        "active": True,
    }
    assert entry.detail["after"] == {"name": "企画課", "prefix": "企財", "parent_code": None, "active": True}
    assert [e.detail for e in _audits("department.prefix")] == [
        {"prefix": "企財"}
    ]  # directory.set_department_prefix
    departments.update("02", {"name": "企画課", "prefix": "企財"}, actor="admin")  # no change, no entry
    assert len(_audits("department.update")) == 1


def test_a_section_moves_to_another_department_with_its_people(village: dict[str, Any]) -> None:
    departments.update("0101", {"parent_code": "02"}, actor="admin")
    assert _dept("0101").parent.code == "02"
    yamada = directory.get_user("yamada")
    assert yamada.department.code == "02" and yamada.section.code == "0101"
    [entry] = _audits("department.update")
    assert entry.detail["before"]["parent_code"] == "01" and entry.detail["after"]["parent_code"] == "02"
    assert entry.detail["people"] == ["suzuki", "yamada"]
    # chat followed the people: yamada is now in 企画財政課's channel, not 総務課's
    names = {
        c.name
        for c in db.session().scalars(
            select(Channel).join(Member, Member.channel_id == Channel.id).where(Member.user_id == yamada.id)
        )
    }
    assert names == {"企画財政課"}


def test_moves_that_make_a_cycle_or_a_section_under_a_section_are_refused(village: dict[str, Any]) -> None:
    departments.add("0201", "財政係", actor="admin", parent_code="02")
    _refused(
        lambda: departments.update("0101", {"parent_code": "0201"}, actor="admin"),
        "parent_code",
        code="section_under_section",
    )
    _refused(
        lambda: departments.update("0101", {"parent_code": "0101"}, actor="admin"),
        "parent_code",
        code="cycle",
    )
    _refused(
        lambda: departments.update("01", {"parent_code": "0101"}, actor="admin"), "parent_code", code="cycle"
    )
    _refused(
        lambda: departments.update("02", {"parent_code": "01"}, actor="admin"),
        "parent_code",
        code="department_not_movable",
    )
    _refused(lambda: departments.update("0101", {"parent_code": None}, actor="admin"), "parent_code")
    assert _dept("0101").parent.code == "01" and _dept("02").parent_id is None
    assert _audits("department.update") == []


def test_a_refused_part_leaves_the_other_parts_unchanged(village: dict[str, Any]) -> None:
    _refused(lambda: departments.update("0101", {"name": "新しい名前", "parent_code": "0101"}, actor="admin"))
    assert _dept("0101").name == "総務係"


def test_deactivation_is_refused_while_people_or_sections_belong(village: dict[str, Any]) -> None:
    error = _refused(
        lambda: departments.update("01", {"active": False}, actor="admin"), status=409, code="in_use"
    )
    assert "在籍している職員が4人います" in error.extra["reasons"]
    assert "廃止されていない係が1つあります" in error.extra["reasons"]
    assert error.message.startswith("総務課は廃止できません。")
    error = _refused(lambda: departments.update("0101", {"active": False}, actor="admin"), status=409)
    assert error.extra["reasons"] == ["在籍している職員が2人います"]
    assert _dept("01").active and _dept("0101").active


def test_deactivation_is_refused_while_open_requests_belong(org: dict[str, Any]) -> None:
    departments.add("05", "会計課", actor="admin")
    directory.add_local_user("kaikei", "会計 花子", "x-PASSWORD-1", department_code="05", title="主事")
    service.create(directory.get_user("kaikei"), {"route": "general", "title": "下書き"})
    directory.set_active("kaikei", False, actor="admin")
    error = _refused(lambda: departments.update("05", {"active": False}, actor="admin"), status=409)
    assert error.extra["reasons"] == ["処理中の決裁（下書き・回議中・差戻しを含む）が1件あります"]


def test_deactivate_and_reactivate_with_audit(village: dict[str, Any]) -> None:
    departments.add("03", "住民課", actor="admin")
    departments.add("0301", "戸籍係", actor="admin", parent_code="03")
    departments.update("0301", {"active": False}, actor="admin")
    departments.update("03", {"active": False}, actor="admin")
    assert not _dept("03").active
    assert "03" not in [d.code for d in directory.list_departments(include_sections=True)]
    _refused(
        lambda: departments.update("0301", {"active": True}, actor="admin"), "active", code="inactive_parent"
    )
    departments.update("03", {"active": True}, actor="admin")
    assert _dept("03").active and not _dept("0301").active
    details = [
        (e.target, e.detail["before"]["active"], e.detail["after"]["active"])
        for e in _audits("department.update")
    ]
    assert details == [("0301", True, False), ("03", True, False), ("03", False, True)]


def test_ldap_backend_changes_only_the_prefix(app: Any, village: dict[str, Any]) -> None:
    app.config["DIRECTORY"] = "ldap"
    _refused(lambda: departments.add("03", "住民課", actor="admin"), status=409, code="directory_managed")
    _refused(
        lambda: departments.update("01", {"name": "総務部"}, actor="admin"),
        status=409,
        code="directory_managed",
    )
    departments.update("01", {"prefix": "総務", "name": "総務課"}, actor="admin")
    assert _dept("01").prefix == "総務"


def test_transfer_preview_names_channels_and_requests(org: dict[str, Any]) -> None:
    yamada = directory.get_user("yamada")
    channels.sync_department_membership(yamada)
    service.create(yamada, {"route": "general", "title": "備品購入の下書き"})
    service.create(yamada, {"route": "general", "title": "回議中の起案", "submit": True})
    preview = departments.transfer_preview("yamada", "02")
    assert preview["from"] == "総務課 › 総務係" and preview["to"] == "企画財政課"
    assert preview["applicable"] and not preview["unchanged"]
    found = {c["heading"]: c for c in preview["consequences"]}
    assert found["参加するチャンネル"]["items"] == ["#企画財政課"]
    assert found["退出するチャンネル"]["items"] == ["#総務課"]
    draft = found["ルートが決まり直す下書きの決裁（1件）"]
    assert draft["items"] == [
        "備品購入の下書き — 新しい所属ではルートが決まりません"
        "（起案者の係長に該当する職員が見つかりません。）"
    ]
    assert "企画財政課" in draft["note"]
    assert found["起案済みの決裁（1件）"]["items"] == ["回議中の起案"]
    # with a 係長 in 企画財政課 the draft's new route names the new 係長 and 課長
    directory.add_local_user("zaisei", "財田 係長", "x-PASSWORD-1", department_code="02", title="係長")
    found = {c["heading"]: c for c in departments.transfer_preview("yamada", "02")["consequences"]}
    routes = found["ルートが決まり直す下書きの決裁（1件）"]["items"]
    assert routes == ["備品購入の下書き — 新しいルート：回議 財田 係長 → 決裁 企田 三郎"]
    # suzuki (係長) waits on the submitted one: the frozen route keeps him
    suzuki = {c["heading"]: c for c in departments.transfer_preview("suzuki", "02")["consequences"]}
    assert suzuki["この人の決裁待ち（1件）"]["items"] == ["回議中の起案"]
    assert _audits("department.transfer") == [] and directory.get_user("yamada").department.code == "01"


def test_transfer_preview_within_the_department_keeps_the_channel(village: dict[str, Any]) -> None:
    channels.sync_department_membership(directory.get_user("sato"))
    preview = departments.transfer_preview("sato", "0101")
    assert preview["to"] == "総務課 › 総務係"
    chat = [c for c in preview["consequences"] if "チャンネル" in c["heading"]]
    assert chat == [
        {"heading": "チャンネル", "items": [], "note": "参加している課のチャンネルは変わりません。"}
    ]
    assert departments.transfer_preview("yamada", "0101")["unchanged"]


def test_transfer_preview_refuses_unknown_people_and_units(village: dict[str, Any]) -> None:
    _refused(lambda: departments.transfer_preview("nobody", "02"), "person")
    _refused(lambda: departments.transfer_preview("yamada", "99"), "unit")
    _refused(lambda: departments.transfer_preview("yamada", None), "unit")


def test_transfer_applies_to_a_section_with_audit_and_channels(village: dict[str, Any]) -> None:
    departments.add("0201", "財政係", actor="admin", parent_code="02")
    tanaka = directory.get_user("tanaka")
    channels.sync_department_membership(directory.get_user("yamada"))
    departments.transfer("yamada", "0201", actor="admin")
    yamada = directory.get_user("yamada")
    assert yamada.department.code == "02" and yamada.section.code == "0201"
    [entry] = _audits("department.transfer")
    assert entry.actor == "admin" and entry.target == "yamada"
    assert entry.detail == {
        "before": {"department": "01", "section": "0101"},
        "after": {"department": "02", "section": "0201"},
    }
    assert len(_audits("user.update")) >= 1  # directory.update_local_user's own entry
    channel = db.session().scalar(select(Channel).where(Channel.name == "企画財政課"))
    assert yamada.id in channels.member_ids(channel.id) and tanaka.id in channels.member_ids(channel.id)
    _refused(lambda: departments.transfer("yamada", "0201", actor="admin"), "unit")


def test_transfer_is_refused_on_the_ldap_backend(app: Any, village: dict[str, Any]) -> None:
    app.config["DIRECTORY"] = "ldap"
    preview = departments.transfer_preview("yamada", "02")
    assert not preview["applicable"] and preview["directory_managed"]
    _refused(
        lambda: departments.transfer("yamada", "02", actor="admin"), status=409, code="directory_managed"
    )
    assert directory.get_user("yamada").department.code == "01"


@pytest.mark.parametrize("value", ["総務\u202e課", "総務\x00課", "総務\t課"])
def test_a_hostile_name_is_refused_by_the_shared_text_rule(village: dict[str, Any], value: str) -> None:
    _refused(lambda: departments.add("09", value, actor="admin"), "name")
    _refused(lambda: departments.update("01", {"name": value}, actor="admin"), "name")
    assert directory.get_department("09") is None and _dept("01").name == "総務課"
