"""Route templates: validation, export and approver resolution (no database)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from approvals.routes import (
    Directory,
    Person,
    RouteTemplateError,
    UnresolvableApprover,
    parse_template,
    resolve_route,
    template_to_json,
)

EXAMPLE: dict[str, Any] = {
    "key": "general",
    "name": "一般文書",
    "number_format": "榛{dept_prefix}第{n}号",
    "number_at": "decision",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {"kind": "consult", "mode": "all", "approvers": [{"department": "02", "title": "課長"}]},
        {"kind": "circulate", "approvers": [{"department": "07", "title": "課長"}]},
        {
            "kind": "decide",
            "authority": [
                {"max_amount": 500000, "approver": {"relation": "department_head"}},
                {"max_amount": 5000000, "approver": {"title": "副村長"}},
                {"approver": {"title": "村長"}},
            ],
        },
    ],
}


def P(id: int, username: str, dept: str | None, title: str | None) -> Person:
    names = {"01": "総務課", "02": "企画財政課", "07": "会計課"}
    return Person(id, username, username.capitalize(), dept, names.get(dept or ""), title)


SONCHO = P(1, "soncho", None, "村長")
FUKU = P(2, "fuku", None, "副村長")
SOMU_KACHO = P(10, "somu_kacho", "01", "課長")
SOMU_KAKARICHO = P(11, "somu_kakaricho", "01", "係長")
SOMU_SHUJI = P(12, "somu_shuji", "01", "主事")
KIKAKU_KACHO = P(20, "kikaku_kacho", "02", "課長")
KIKAKU_SHUJI = P(21, "kikaku_shuji", "02", "主事")  # 企画財政課 has no 係長
KAIKEI_KACHO = P(70, "kaikei_kacho", "07", "課長")


@dataclass
class FakeDirectory:
    """A village directory: 係長/課長 found by title, as a configured implementation would."""

    people: list[Person] = field(
        default_factory=lambda: [
            SONCHO,
            FUKU,
            SOMU_KACHO,
            SOMU_KAKARICHO,
            SOMU_SHUJI,
            KIKAKU_KACHO,
            KIKAKU_SHUJI,
            KAIKEI_KACHO,
        ]
    )

    def _in(self, code: str | None, title: str) -> list[Person]:
        return [p for p in self.people if p.department_code == code and p.title == title]

    def section_chief_of(self, person: Person) -> Person | None:
        found = self._in(person.department_code, "係長")
        return found[0] if found else None

    def department_head_of(self, person: Person) -> Person | None:
        found = self._in(person.department_code, "課長")
        return found[0] if found else None

    def by_title(self, title: str) -> list[Person]:
        return [p for p in self.people if p.title == title]

    def by_department_title(self, code: str, title: str) -> list[Person]:
        return self._in(code, title)

    def by_username(self, username: str) -> Person | None:
        return next((p for p in self.people if p.username == username), None)


DIRECTORY: Directory = FakeDirectory()


def template(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"key": "t", "name": "テスト", "steps": steps, **extra}


def decide(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "decide", "authority": list(rules) or [{"approver": {"title": "村長"}}]}


def user(name: str) -> dict[str, str]:
    return {"user": name}


# -- parsing ------------------------------------------------------------------------------------


def test_example_template_parses_and_exports_unchanged():
    """Does the issue's example survive parse → export byte for byte?"""
    parsed = parse_template(copy.deepcopy(EXAMPLE))
    assert template_to_json(parsed) == EXAMPLE
    assert parse_template(template_to_json(parsed)) == parsed


def test_extensions_round_trip():
    """Do ids, optional steps, labels and consult mode any round-trip?"""
    data = template(
        [
            {"kind": "review", "id": "kakari", "approver": {"relation": "section_chief"}, "optional": True},
            {"kind": "consult", "mode": "any", "approvers": [{"title": "課長"}, user("fuku")]},
            decide(
                {"max_amount": 0, "approver": user("fuku"), "label": "副村長専決"},
                {"approver": user("soncho")},
            ),
        ],
        number_format="{fiscal_year}-{era_year}-{dept_prefix}{n:04d}",
        number_at="submission",
    )
    parsed = parse_template(data)
    assert parse_template(template_to_json(parsed)) == parsed
    assert template_to_json(parsed)["steps"][0] == data["steps"][0]


def test_defaults_for_optional_keys():
    """Do number_format, number_at and consult mode get documented defaults?"""
    parsed = parse_template(template([{"kind": "consult", "approvers": [user("fuku")]}, decide()]))
    assert parsed.number_format == "{dept_prefix}第{n}号"
    assert parsed.number_at == "decision"
    assert parsed.steps[0].mode == "all"


def test_default_labels_derive_from_selector():
    """Is the 決裁区分 derived when a rule has no label?"""
    parsed = parse_template(EXAMPLE)
    labels = [r.effective_label for r in parsed.steps[-1].authority]
    assert labels == ["課長専決", "副村長決裁", "村長決裁"]
    rules = (
        parse_template(
            template(
                [
                    decide(
                        {"max_amount": 1, "approver": {"relation": "section_chief"}}, {"approver": user("x")}
                    )
                ]
            )
        )
        .steps[0]
        .authority
    )
    assert [r.effective_label for r in rules] == ["係長専決", "決裁"]


def test_thirty_steps_is_the_limit():
    """Are 30 steps accepted and 31 refused?"""
    review = {"kind": "review", "approver": user("fuku")}
    parse_template(template([review] * 29 + [decide()]))
    with pytest.raises(RouteTemplateError) as err:
        parse_template(template([review] * 30 + [decide()]))
    assert err.value.path == "steps"


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    elif isinstance(target, list) and path[-1] == len(target):
        target.append(value)
    else:
        target[path[-1]] = value
    return data


_DELETE = object()
AUTH = ["steps", 3, "authority"]

BAD_TEMPLATES = {
    "not an object": ([], "$"),
    "missing key": (_mutate(["key"], _DELETE), "key"),
    "missing name": (_mutate(["name"], _DELETE), "name"),
    "missing steps": (_mutate(["steps"], _DELETE), "steps"),
    "unknown top-level key": (_mutate(["colour"], "red"), "colour"),
    "key with capitals": (_mutate(["key"], "General"), "key"),
    "key too long": (_mutate(["key"], "a" * 41), "key"),
    "key not a string": (_mutate(["key"], 7), "key"),
    "name too long": (_mutate(["name"], "文" * 101), "name"),
    "name blank": (_mutate(["name"], "  "), "name"),
    "steps empty": (_mutate(["steps"], []), "steps"),
    "steps not a list": (_mutate(["steps"], {}), "steps"),
    "step not an object": (_mutate(["steps", 0], "review"), "steps[0]"),
    "unknown step kind": (_mutate(["steps", 0, "kind"], "approve"), "steps[0].kind"),
    "unknown step key": (_mutate(["steps", 0, "colour"], 1), "steps[0].colour"),
    "optional on decide": (_mutate(["steps", 3, "optional"], True), "steps[3].optional"),
    "review without approver": (_mutate(["steps", 0, "approver"], _DELETE), "steps[0].approver"),
    "unknown selector": (_mutate(["steps", 0, "approver"], {"role": "boss"}), "steps[0].approver"),
    "selector with two shapes": (
        _mutate(["steps", 0, "approver"], {"relation": "section_chief", "title": "課長"}),
        "steps[0].approver",
    ),
    "department without title": (
        _mutate(["steps", 0, "approver"], {"department": "02"}),
        "steps[0].approver",
    ),
    "selector not an object": (_mutate(["steps", 0, "approver"], "課長"), "steps[0].approver"),
    "unknown relation": (
        _mutate(["steps", 0, "approver"], {"relation": "mayor"}),
        "steps[0].approver.relation",
    ),
    "empty title": (_mutate(["steps", 0, "approver"], {"title": ""}), "steps[0].approver.title"),
    "title too long": (_mutate(["steps", 0, "approver"], {"title": "長" * 65}), "steps[0].approver.title"),
    "user not a string": (_mutate(["steps", 0, "approver"], {"user": 5}), "steps[0].approver.user"),
    "consult mode": (_mutate(["steps", 1, "mode"], "most"), "steps[1].mode"),
    "empty approvers": (_mutate(["steps", 1, "approvers"], []), "steps[1].approvers"),
    "approvers missing": (_mutate(["steps", 2, "approvers"], _DELETE), "steps[2].approvers"),
    "approvers not a list": (_mutate(["steps", 2, "approvers"], user("x")), "steps[2].approvers"),
    "duplicate selector in a group": (
        _mutate(["steps", 1, "approvers"], [user("a"), user("a")]),
        "steps[1].approvers[1]",
    ),
    "no decide": (_mutate(["steps", 3], {"kind": "review", "approver": user("x")}), "steps"),
    "decide not last": (_mutate(["steps", 4], {"kind": "review", "approver": user("x")}), "steps[3]"),
    "two decides": (_mutate(["steps", 0], decide()), "steps[3]"),
    "authority empty": (_mutate(AUTH, []), "steps[3].authority"),
    "authority missing": (_mutate(AUTH, _DELETE), "steps[3].authority"),
    "rule not an object": (_mutate([*AUTH, 0], 5), "steps[3].authority[0]"),
    "rule without approver": (_mutate([*AUTH, 0, "approver"], _DELETE), "steps[3].authority[0].approver"),
    "rule unknown key": (_mutate([*AUTH, 0, "amount"], 1), "steps[3].authority[0].amount"),
    "rules out of order": (_mutate([*AUTH, 1, "max_amount"], 400000), "steps[3].authority[1].max_amount"),
    "rules with equal bounds": (
        _mutate([*AUTH, 1, "max_amount"], 500000),
        "steps[3].authority[1].max_amount",
    ),
    "no catch-all": (_mutate([*AUTH, 2, "max_amount"], 9000000), "steps[3].authority[2]"),
    "catch-all not last": (_mutate([*AUTH, 0, "max_amount"], _DELETE), "steps[3].authority[0].max_amount"),
    "negative max_amount": (_mutate([*AUTH, 0, "max_amount"], -1), "steps[3].authority[0].max_amount"),
    "float max_amount": (_mutate([*AUTH, 0, "max_amount"], 1.5), "steps[3].authority[0].max_amount"),
    "bool max_amount": (_mutate([*AUTH, 0, "max_amount"], True), "steps[3].authority[0].max_amount"),
    "label too long": (_mutate([*AUTH, 0, "label"], "専" * 41), "steps[3].authority[0].label"),
    "number_format without n": (_mutate(["number_format"], "榛{dept_prefix}第号"), "number_format"),
    "number_format unknown placeholder": (_mutate(["number_format"], "{year}-{n}"), "number_format"),
    "number_format positional": (_mutate(["number_format"], "{}-{n}"), "number_format"),
    "number_format attribute": (_mutate(["number_format"], "{n.real}"), "number_format"),
    "number_format conversion": (_mutate(["number_format"], "{n!r}"), "number_format"),
    "number_format spec on prefix": (_mutate(["number_format"], "{dept_prefix:>3}{n}"), "number_format"),
    "number_format bad spec": (_mutate(["number_format"], "{n:q}"), "number_format"),
    "number_format unbalanced": (_mutate(["number_format"], "{n"), "number_format"),
    "number_format not a string": (_mutate(["number_format"], 5), "number_format"),
    "number_at": (_mutate(["number_at"], "approval"), "number_at"),
    "duplicate step ids": (
        template([{"kind": "review", "id": "a", "approver": user("x")}, {**decide(), "id": "a"}]),
        "steps[1].id",
    ),
    "bad step id": (template([{**decide(), "id": "第一"}]), "steps[0].id"),
    "optional not bool": (
        template([{"kind": "review", "approver": user("x"), "optional": "yes"}, decide()]),
        "steps[0].optional",
    ),
}


@pytest.mark.parametrize("data,path", BAD_TEMPLATES.values(), ids=BAD_TEMPLATES.keys())
def test_bad_template_is_rejected_with_a_japanese_message_and_path(data, path):
    """Is every malformed template refused, pointing at the offending value?"""
    with pytest.raises(RouteTemplateError) as err:
        parse_template(data)
    assert err.value.path == path
    assert any("\u3040" <= ch <= "\u9fff" for ch in err.value.message_ja)


# -- resolution ---------------------------------------------------------------------------------


def resolve(data: dict[str, Any], drafter: Person = SOMU_SHUJI, amount: int | None = None):
    return resolve_route(parse_template(data), drafter, amount, DIRECTORY)


def ids(step) -> list[int]:
    return [p.id for p in step.active]


def test_example_resolves_for_a_shuji():
    """Does a 主事's route go 係長 → 企画財政課長 (合議) → 会計課長 (供覧) → 課長専決?"""
    steps = resolve(EXAMPLE)
    assert [ids(s) for s in steps] == [[11], [20], [70], [10]]
    assert [s.kind for s in steps] == ["review", "consult", "circulate", "decide"]
    assert steps[1].mode == "all"
    assert steps[3].label == "課長専決"
    assert not any(s.skipped for s in steps)


@pytest.mark.parametrize(
    "amount,decider,label",
    [
        (None, 10, "課長専決"),
        (0, 10, "課長専決"),
        (500000, 10, "課長専決"),
        (500001, 2, "副村長決裁"),
        (5000000, 2, "副村長決裁"),
        (5000001, 1, "村長決裁"),
        (10**12, 1, "村長決裁"),
    ],
)
def test_authority_rule_is_chosen_by_amount(amount, decider, label):
    """Does the first rule whose max_amount covers the amount decide, at each boundary?"""
    step = resolve(EXAMPLE, amount=amount)[-1]
    assert ids(step) == [decider]
    assert step.label == label


def test_negative_amount_is_refused():
    """Is a negative amount a ValueError rather than a silent 課長専決?"""
    with pytest.raises(ValueError):
        resolve(EXAMPLE, amount=-1)


def test_missing_section_chief_is_unresolvable_at_submission():
    """Does a 課 without 係長 make the section_chief step fail clearly, with its index?"""
    with pytest.raises(UnresolvableApprover) as err:
        resolve(EXAMPLE, drafter=KIKAKU_SHUJI)
    assert err.value.step_index == 0
    assert "係長" in err.value.message_ja


def test_optional_step_with_vacant_post_is_skipped():
    """Is an optional review with nobody to fill it skipped as vacant?"""
    data = copy.deepcopy(EXAMPLE)
    data["steps"][0]["optional"] = True
    steps = resolve(data, drafter=KIKAKU_SHUJI)
    assert steps[0].skipped == "vacant"
    assert steps[0].approvers == ()


def test_single_selector_matching_several_people_is_unresolvable():
    """Is a review by {"title": "課長"} (three 課長) refused instead of picking one?"""
    data = template([{"kind": "review", "approver": {"title": "課長"}}, decide()])
    with pytest.raises(UnresolvableApprover) as err:
        resolve(data)
    assert err.value.step_index == 0
    assert "3人" in err.value.message_ja


def test_group_selector_expands_to_everyone_with_the_title():
    """Does a 供覧 to {"title": "課長"} reach every 課長 once, minus nobody?"""
    data = template([{"kind": "circulate", "approvers": [{"title": "課長"}, user("kaikei_kacho")]}, decide()])
    assert ids(resolve(data)[0]) == [10, 20, 70]


@pytest.mark.parametrize(
    "selector",
    [{"title": "教育長"}, {"department": "09", "title": "課長"}, {"user": "nobody"}],
)
def test_group_member_resolving_to_nobody_is_unresolvable(selector):
    """Does a 合議 member who does not exist fail at submission?"""
    data = template([{"kind": "consult", "approvers": [user("fuku"), selector]}, decide()])
    with pytest.raises(UnresolvableApprover) as err:
        resolve(data)
    assert err.value.step_index == 0


def test_unresolvable_decider_names_the_decide_step():
    """Is a decider who does not exist reported on the decide step?"""
    with pytest.raises(UnresolvableApprover) as err:
        resolve(template([decide({"approver": {"title": "教育長"}})]))
    assert err.value.step_index == 0


def test_drafter_on_his_own_route_is_skipped():
    """Is the 係長 who drafts skipped on the section_chief step?"""
    steps = resolve(EXAMPLE, drafter=SOMU_KAKARICHO)
    assert steps[0].skipped == "drafter"
    assert steps[0].approvers[0].skipped == "drafter"
    assert ids(steps[3]) == [10]


def test_same_person_twice_in_a_row_is_skipped_as_duplicate():
    """Is the second of two consecutive steps resolving to the same person skipped?"""
    data = template(
        [
            {"kind": "review", "approver": {"relation": "department_head"}},
            {"kind": "circulate", "approvers": [user("kaikei_kacho")]},
            {"kind": "review", "approver": user("somu_kacho")},
            decide({"approver": user("soncho")}),
        ]
    )
    steps = resolve(data)
    assert steps[0].skipped is None
    assert steps[2].skipped == "duplicate"


def test_same_person_not_consecutive_is_kept():
    """Does someone on two non-adjacent steps act on both?"""
    data = template(
        [
            {"kind": "review", "approver": user("somu_kacho")},
            {"kind": "review", "approver": user("fuku")},
            {"kind": "review", "approver": user("somu_kacho")},
            decide({"approver": user("soncho")}),
        ]
    )
    assert [s.skipped for s in resolve(data)] == [None, None, None, None]


def test_decider_who_just_reviewed_acts_once_as_decider():
    """With 課長 review then 課長専決, is the review skipped rather than the decision?"""
    data = template(
        [
            {"kind": "review", "approver": {"relation": "section_chief"}},
            {"kind": "review", "approver": {"relation": "department_head"}},
            decide(
                {"max_amount": 500000, "approver": {"relation": "department_head"}},
                {"approver": user("soncho")},
            ),
        ]
    )
    steps = resolve(data, amount=1000)
    assert steps[1].skipped == "duplicate"
    assert steps[2].skipped is None and ids(steps[2]) == [10]
    steps = resolve(data, amount=600000)
    assert steps[1].skipped is None and ids(steps[2]) == [1]


def test_decider_who_is_the_drafter_escalates_to_the_next_rule():
    """Does a 課長 drafting a 課長専決 matter go up to 副村長?"""
    step = resolve(EXAMPLE, drafter=SOMU_KACHO, amount=100)[-1]
    assert ids(step) == [2]
    assert step.label == "副村長決裁"


def test_drafter_who_is_the_top_decider_is_unresolvable():
    """Does the 村長 drafting a matter only he can decide fail clearly?"""
    data = template([decide({"approver": {"title": "村長"}})])
    with pytest.raises(UnresolvableApprover) as err:
        resolve(data, drafter=SONCHO)
    assert "起案者本人" in err.value.message_ja


def test_consult_group_drops_drafter_and_duplicates_member_by_member():
    """Are the drafter and the previous approver removed from a 合議 group, leaving the rest?"""
    data = template(
        [
            {"kind": "review", "approver": user("fuku")},
            {"kind": "consult", "approvers": [user("somu_shuji"), user("fuku"), user("kikaku_kacho")]},
            decide({"approver": user("soncho")}),
        ]
    )
    step = resolve(data)[1]
    assert [a.skipped for a in step.approvers] == ["drafter", "duplicate", None]
    assert step.skipped is None and ids(step) == [20]


def test_consult_group_left_empty_is_skipped():
    """Is a 合議 group whose only member is the drafter skipped as a whole?"""
    data = template([{"kind": "consult", "approvers": [user("somu_shuji")]}, decide()])
    assert resolve(data)[0].skipped == "drafter"
    data = template(
        [
            {"kind": "review", "approver": user("fuku")},
            {"kind": "consult", "approvers": [user("somu_shuji"), user("fuku")]},
            {"kind": "review", "approver": user("fuku")},
            decide({"approver": user("soncho")}),
        ]
    )
    steps = resolve(data)
    assert steps[1].skipped == "duplicate"
    assert steps[2].skipped == "duplicate"  # still the same person as the last step that acted


def test_member_after_consult_group_is_duplicate_of_the_group():
    """Is a review by someone who was just in the 合議 group skipped?"""
    data = template(
        [
            {"kind": "consult", "mode": "any", "approvers": [user("fuku"), user("kikaku_kacho")]},
            {"kind": "review", "approver": user("kikaku_kacho")},
            decide({"approver": user("soncho")}),
        ]
    )
    assert resolve(data)[1].skipped == "duplicate"


def test_decider_in_preceding_consult_group_is_removed_from_the_group():
    """Does the decider leave the 合議 group just before him, so he acts once?"""
    data = template(
        [
            {"kind": "consult", "approvers": [user("fuku"), user("kikaku_kacho")]},
            decide({"approver": user("fuku")}),
        ]
    )
    steps = resolve(data)
    assert [a.skipped for a in steps[0].approvers] == ["duplicate", None]
    assert ids(steps[1]) == [2]


def test_circulate_readers_only_lose_the_drafter():
    """Are 供覧 readers kept even if they just approved, and the drafter removed?"""
    data = template(
        [
            {"kind": "review", "approver": user("fuku")},
            {"kind": "circulate", "approvers": [user("fuku"), user("somu_shuji")]},
            decide({"approver": user("soncho")}),
        ]
    )
    step = resolve(data)[1]
    assert [a.skipped for a in step.approvers] == [None, "drafter"]


def test_relations_are_left_to_the_directory():
    """Does a directory that calls its 係長 「主査」 still resolve section_chief (no title strings here)?"""

    class ShusaDirectory(FakeDirectory):
        def section_chief_of(self, person: Person) -> Person | None:
            return KIKAKU_KACHO

    steps = resolve_route(parse_template(EXAMPLE), SOMU_SHUJI, None, ShusaDirectory())
    assert ids(steps[0]) == [20]
    assert steps[1].skipped == "duplicate"
