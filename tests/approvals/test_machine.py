"""The approval state machine: every action from every state, then one test per rule."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from approvals import effects as fx
from approvals.machine import (
    ACTIONS,
    ActionConflict,
    InvalidAction,
    NotOnRoute,
    Transition,
    allowed_actions,
    apply,
    attach_route,
)
from approvals.resolution import Person, ResolvedApprover, ResolvedStep
from approvals.routes import UnresolvableApprover, parse_template, resolve_route
from approvals.state import (
    FINISHED,
    RequestState,
    current_step,
    invariant_violations,
    new_request,
    pending_user_ids,
    post_review_user_ids,
    step_status,
)
from tests.approvals.test_routes import EXAMPLE, SOMU_KAKARICHO, FakeDirectory

JST = timezone(timedelta(hours=9))
T0 = datetime(2026, 11, 26, 9, 30, tzinfo=JST)

DRAFTER, REVIEWER, CONSULT_A, CONSULT_B, READER, DECIDER = 1, 2, 3, 4, 5, 6
DEPUTY, OUTSIDER = 50, 99


def person(uid: int) -> Person:
    return Person(uid, f"u{uid}", f"職員{uid}", "01", "総務課", "主事")


def rstep(
    index: int, kind: str, users: list[int], mode: str | None = None, skipped: str | None = None, **kw: Any
):
    reasons = kw.get("reasons", {})
    approvers = tuple(ResolvedApprover(person(u), reasons.get(u)) for u in users)
    label = "課長専決" if kind == "decide" else None
    return ResolvedStep(index, kind, approvers, mode=mode, label=label, skipped=skipped)


# 回議 → 合議 (all) → 供覧 → 決裁
ROUTE = [
    rstep(0, "review", [REVIEWER]),
    rstep(1, "consult", [CONSULT_A, CONSULT_B], mode="all"),
    rstep(2, "circulate", [READER]),
    rstep(3, "decide", [DECIDER]),
]


def draft(route: list[ResolvedStep] = ROUTE, number_at: str = "decision") -> RequestState:
    return attach_route(new_request(DRAFTER, number_at), route)


class Run:
    """Apply actions in turn, checking the invariants after each, one minute apart."""

    def __init__(self, state: RequestState) -> None:
        self.state = state
        self.last: Transition | None = None

    def do(self, action: str, actor: int, options: dict[str, Any] | None = None, **kw: Any) -> Run:
        kw = {**(options or {}), **kw}
        before = self.state.version
        at = T0 + timedelta(minutes=len(self.state.history))
        self.last = apply(self.state, action, actor, at=at, **kw)
        self.state = self.last.state
        assert self.state.version == before + 1
        assert self.state.history[-1].action == action
        assert invariant_violations(self.state) == []
        return self

    @property
    def effects(self) -> tuple[fx.Effect, ...]:
        assert self.last is not None
        return self.last.effects


def run(*actions: tuple[Any, ...], route: list[ResolvedStep] = ROUTE) -> Run:
    r = Run(draft(route))
    for action, actor, *rest in actions:
        r.do(action, actor, **(rest[0] if rest else {}))
    return r


def slot_statuses(state: RequestState) -> list[list[str]]:
    return [[s.status for s in step.slots] for step in state.steps]


# -- every action from every state --------------------------------------------------------------

SUBMIT = ("submit", DRAFTER)
SCENARIOS: dict[str, list[tuple[Any, ...]]] = {
    "draft": [],
    "at_review": [SUBMIT],
    "at_consult": [SUBMIT, ("approve", REVIEWER)],
    "at_consult_open": [SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A)],
    "at_decide": [SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B)],
    "at_decide_owing_post_review": [
        SUBMIT,
        ("deputy_approve", DEPUTY, {"absences": {REVIEWER: DEPUTY}}),
        ("approve", CONSULT_A),
        ("approve", CONSULT_B),
    ],
    "sent_back": [SUBMIT, ("send_back", REVIEWER)],
    "approved": [
        SUBMIT,
        ("approve", REVIEWER),
        ("approve", CONSULT_A),
        ("approve", CONSULT_B),
        ("approve", DECIDER),
    ],
    "rejected": [SUBMIT, ("reject", REVIEWER)],
    "withdrawn": [SUBMIT, ("withdraw", DRAFTER)],
}
STATUS_OF = {
    "draft": "draft",
    "sent_back": "sent_back",
    "approved": "approved",
    "rejected": "rejected",
    "withdrawn": "withdrawn",
}

C = ActionConflict


def ok(status: str, current: int | None = None, pending: set[int] | frozenset[int] = frozenset()):
    return ("ok", status, current, frozenset(pending))


IN = "in_progress"
# (scenario, action) → (actor, absences, expected). The deputy stands in for whoever is pending.
TABLE: dict[tuple[str, str], tuple[int, dict[int, int], Any]] = {}


def row(scenario: str, pending_absent: int, **expected: tuple[int, Any]) -> None:
    for action, (actor, outcome) in expected.items():
        absences = {pending_absent: DEPUTY} if action == "deputy_approve" else {}
        TABLE[(scenario, action)] = (actor, absences, outcome)


row(
    "draft",
    REVIEWER,
    submit=(DRAFTER, ok(IN, 0, {REVIEWER})),
    approve=(REVIEWER, C),
    send_back=(REVIEWER, C),
    reject=(REVIEWER, C),
    pull_back=(DRAFTER, C),
    withdraw=(DRAFTER, C),
    resubmit=(DRAFTER, C),
    deputy_approve=(DEPUTY, C),
    acknowledge=(REVIEWER, C),
    pull_up=(DECIDER, C),
    read=(READER, C),
)
row(
    "at_review",
    REVIEWER,
    submit=(DRAFTER, C),
    approve=(REVIEWER, ok(IN, 1, {CONSULT_A, CONSULT_B})),
    send_back=(REVIEWER, ok("sent_back")),
    reject=(REVIEWER, ok("rejected")),
    pull_back=(DRAFTER, ok("sent_back")),
    withdraw=(DRAFTER, ok("withdrawn")),
    resubmit=(DRAFTER, C),
    deputy_approve=(DEPUTY, ok(IN, 1, {CONSULT_A, CONSULT_B})),
    acknowledge=(REVIEWER, C),
    pull_up=(DECIDER, ok(IN, 1, {CONSULT_A, CONSULT_B})),
    read=(READER, C),
)
row(
    "at_consult",
    CONSULT_A,
    submit=(DRAFTER, C),
    approve=(CONSULT_A, ok(IN, 1, {CONSULT_B})),
    send_back=(CONSULT_A, ok("sent_back")),
    reject=(CONSULT_A, ok("rejected")),
    pull_back=(REVIEWER, ok(IN, 0, {REVIEWER})),
    withdraw=(DRAFTER, ok("withdrawn")),
    resubmit=(DRAFTER, C),
    deputy_approve=(DEPUTY, ok(IN, 1, {CONSULT_B})),
    acknowledge=(REVIEWER, C),
    pull_up=(DECIDER, C),
    read=(READER, C),
)
row(
    "at_consult_open",
    CONSULT_B,
    submit=(DRAFTER, C),
    approve=(CONSULT_B, ok(IN, 3, {DECIDER})),
    send_back=(CONSULT_B, ok("sent_back")),
    reject=(CONSULT_B, ok("rejected")),
    pull_back=(CONSULT_A, ok(IN, 1, {CONSULT_A, CONSULT_B})),
    withdraw=(DRAFTER, ok("withdrawn")),
    resubmit=(DRAFTER, C),
    deputy_approve=(DEPUTY, ok(IN, 3, {DECIDER})),
    acknowledge=(REVIEWER, C),
    pull_up=(DECIDER, C),
    read=(READER, C),
)
for name in ("at_decide", "at_decide_owing_post_review"):
    row(
        name,
        DECIDER,
        submit=(DRAFTER, C),
        approve=(DECIDER, ok("approved")),
        send_back=(DECIDER, ok("sent_back")),
        reject=(DECIDER, ok("rejected")),
        pull_back=(CONSULT_B, ok(IN, 1, {CONSULT_B})),
        withdraw=(DRAFTER, ok("withdrawn")),
        resubmit=(DRAFTER, C),
        deputy_approve=(DEPUTY, ok("approved")),
        acknowledge=(REVIEWER, ok(IN, 3, {DECIDER}) if name.endswith("review") else C),
        pull_up=(DECIDER, C),
        read=(READER, ok(IN, 3, {DECIDER})),
    )
row(
    "sent_back",
    REVIEWER,
    submit=(DRAFTER, C),
    approve=(REVIEWER, C),
    send_back=(REVIEWER, C),
    reject=(REVIEWER, C),
    pull_back=(DRAFTER, C),
    withdraw=(DRAFTER, ok("withdrawn")),
    resubmit=(DRAFTER, ok(IN, 0, {REVIEWER})),
    deputy_approve=(DEPUTY, C),
    acknowledge=(REVIEWER, C),
    pull_up=(DECIDER, C),
    read=(READER, C),
)
for name in ("approved", "rejected", "withdrawn"):
    row(
        name,
        DECIDER,
        submit=(DRAFTER, C),
        approve=(DECIDER, C),
        send_back=(DECIDER, C),
        reject=(DECIDER, C),
        pull_back=(DECIDER, C),
        withdraw=(DRAFTER, C),
        resubmit=(DRAFTER, C),
        deputy_approve=(DEPUTY, C),
        acknowledge=(REVIEWER, C),
        pull_up=(DECIDER, C),
        # 供覧 readers may still mark read after the decision; they were never notified otherwise.
        read=(READER, ok("approved") if name == "approved" else C),
    )


def test_table_covers_every_action_from_every_scenario():
    """Does the table name an expectation for each (scenario, action) pair?"""
    assert set(TABLE) == {(s, a) for s in SCENARIOS for a in ACTIONS}


@pytest.mark.parametrize("scenario,action", sorted(TABLE), ids=[f"{s}-{a}" for s, a in sorted(TABLE)])
def test_every_action_from_every_state(scenario, action):
    """Does each action from each state give the documented result or the documented error?"""
    actor, absences, expected = TABLE[(scenario, action)]
    before = run(*SCENARIOS[scenario]).state
    snapshot = json.dumps(before.to_dict(), sort_keys=True)
    if expected is C:
        with pytest.raises(ActionConflict) as err:
            apply(before, action, actor, at=T0 + timedelta(hours=1), absences=absences)
        assert err.value.state == before and err.value.message_ja
        assert action not in allowed_actions(before, actor, absences)
    else:
        _, status, current, pending = expected
        result = apply(before, action, actor, at=T0 + timedelta(hours=1), absences=absences).state
        assert (result.status, result.current, pending_user_ids(result)) == (status, current, pending)
        assert result.version == before.version + 1
        assert result.history[-1].actor_id == actor
        assert invariant_violations(result) == []
        assert action in allowed_actions(before, actor, absences)
    assert json.dumps(before.to_dict(), sort_keys=True) == snapshot  # the input is never mutated


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("action", ACTIONS)
def test_outsider_gets_not_on_route_for_every_action(scenario, action):
    """Is someone never on the route refused (403) whatever the state and action?"""
    state = run(*SCENARIOS[scenario]).state
    with pytest.raises(NotOnRoute):
        apply(state, action, OUTSIDER, at=T0, absences={DEPUTY: OUTSIDER})


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_unknown_action_is_invalid_in_every_state(scenario):
    """Is an unknown action name a 422 in every state?"""
    with pytest.raises(InvalidAction):
        apply(run(*SCENARIOS[scenario]).state, "stamp", DRAFTER, at=T0)


def test_scenarios_reach_the_statuses_they_claim():
    """Are the table's starting states what their names say?"""
    for name, actions in SCENARIOS.items():
        state = run(*actions).state
        assert state.status == STATUS_OF.get(name, IN)


# -- one test per rule --------------------------------------------------------------------------


def test_submit_assigns_first_step_and_freezes_nothing_else():
    """Does submission put the request in the first approver's inbox only?"""
    r = run(SUBMIT)
    assert r.effects == (fx.Assigned((REVIEWER,), 0),)
    assert slot_statuses(r.state) == [["pending"], ["waiting", "waiting"], ["waiting"], ["waiting"]]
    assert current_step(r.state).index == 0


def test_submit_without_route_is_invalid():
    """Is submitting a draft with no frozen route a 422, not a stuck request?"""
    with pytest.raises(InvalidAction):
        apply(new_request(DRAFTER), "submit", DRAFTER, at=T0)


def test_route_cannot_change_after_submission():
    """Is the route frozen at 起案?"""
    with pytest.raises(ActionConflict):
        attach_route(run(SUBMIT).state, ROUTE)
    with pytest.raises(InvalidAction):
        attach_route(new_request(DRAFTER), ROUTE[:-1])


def test_only_the_drafter_submits():
    """Is an approver on the route refused when submitting someone else's draft?"""
    with pytest.raises(ActionConflict, match="起案者"):
        apply(draft(), "submit", REVIEWER, at=T0)


def test_consult_all_waits_for_every_member():
    """Does a 合議 'all' group stay open until every member agrees?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_B))
    assert r.state.current == 1 and pending_user_ids(r.state) == {CONSULT_A}
    assert step_status(r.state.steps[1]) == "pending"
    r.do("approve", CONSULT_A)
    assert r.state.current == 3
    assert step_status(r.state.steps[1]) == "done"


def test_consult_any_settles_on_first_agreement():
    """Does one agreement settle a 合議 'any' group and clear the others' inboxes?"""
    route = [*ROUTE]
    route[1] = rstep(1, "consult", [CONSULT_A, CONSULT_B], mode="any")
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_B), route=route)
    assert r.state.current == 3
    assert slot_statuses(r.state)[1] == ["not_needed", "approved"]
    assert fx.Unassigned((CONSULT_A,), 1) in r.effects
    with pytest.raises(ActionConflict, match="処理済み"):
        apply(r.state, "approve", CONSULT_A, at=T0)


def test_consult_any_pull_back_reopens_the_group():
    """After 引戻し of the settling vote, are all 'any' members pending again?"""
    route = [*ROUTE]
    route[1] = rstep(1, "consult", [CONSULT_A, CONSULT_B], mode="any")
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_B), ("pull_back", CONSULT_B), route=route)
    assert pending_user_ids(r.state) == {CONSULT_A, CONSULT_B}
    assert r.effects[-1] == fx.Assigned((CONSULT_A, CONSULT_B), 1)


def test_circulate_notifies_readers_and_never_blocks():
    """Are 供覧 readers notified as the flow passes, without the flow waiting for them?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B))
    assert r.effects == (fx.Circulated((READER,), 2), fx.Assigned((DECIDER,), 3))
    assert READER not in pending_user_ids(r.state)
    assert step_status(r.state.steps[2]) == "done"
    r.do("read", READER)
    assert r.state.steps[2].slots[0].status == "read"
    with pytest.raises(ActionConflict):
        apply(r.state, "read", READER, at=T0)
    r.do("approve", DECIDER)
    assert r.state.status == "approved"


def test_reader_cannot_approve():
    """Is a 供覧 reader trying to approve a conflict, not an outsider?"""
    state = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B)).state
    with pytest.raises(ActionConflict):
        apply(state, "approve", READER, at=T0)


def test_send_back_to_earlier_step_resets_later_steps():
    """Does 差戻し to step 0 make it pending again and reset every later step?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B))
    r.do("send_back", DECIDER, {"to_step": 0, "comment": "金額を確認してください"})
    assert r.state.status == IN and r.state.current == 0
    assert slot_statuses(r.state) == [["pending"], ["waiting", "waiting"], ["waiting"], ["waiting"]]
    assert r.effects == (fx.SentBack(0), fx.Assigned((REVIEWER,), 0))  # the sender's own item needs no notice
    assert r.state.history[-1].to_step == 0 and r.state.history[-1].comment == "金額を確認してください"


def test_send_back_to_middle_step_keeps_earlier_approvals():
    """Does 差戻し to the 合議 keep the review's approval?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B))
    r.do("send_back", DECIDER, to_step=1)
    assert slot_statuses(r.state) == [["approved"], ["pending", "pending"], ["waiting"], ["waiting"]]


def test_send_back_by_group_member_clears_the_other_members():
    """When one 合議 member sends back, does the other member's item disappear?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("send_back", CONSULT_A, {"to_step": 0}))
    assert fx.Unassigned((CONSULT_B,), 1) in r.effects
    assert pending_user_ids(r.state) == {REVIEWER}


@pytest.mark.parametrize("to_step", [2, 3, 4, -1, True, "0"])
def test_send_back_to_a_bad_step_is_invalid(to_step):
    """Is 差戻し to a later, current, circulate or nonsense step a 422?"""
    state = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B)).state
    with pytest.raises(InvalidAction):
        apply(state, "send_back", DECIDER, at=T0, to_step=to_step)


def test_send_back_to_a_skipped_step_is_invalid():
    """Is 差戻し to a step skipped at submission a 422?"""
    route = [rstep(0, "review", [DRAFTER], skipped="drafter", reasons={DRAFTER: "drafter"}), *ROUTE[1:]]
    state = run(SUBMIT, ("approve", CONSULT_A), ("approve", CONSULT_B), route=route).state
    with pytest.raises(InvalidAction):
        apply(state, "send_back", DECIDER, at=T0, to_step=0)


def test_to_step_only_for_send_back():
    """Is to_step with another action a 422?"""
    with pytest.raises(InvalidAction):
        apply(run(SUBMIT).state, "approve", REVIEWER, at=T0, to_step=0)


def test_send_back_to_drafter_then_resubmit_restarts_the_same_route():
    """After 差戻し to the drafter, does 再提出 start again from the first step with the same people?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("send_back", CONSULT_A))
    assert r.state.status == "sent_back" and pending_user_ids(r.state) == set()
    assert fx.SentBack(None) in r.effects
    assert slot_statuses(r.state) == [["waiting"], ["waiting", "waiting"], ["waiting"], ["waiting"]]
    r.do("resubmit", DRAFTER, {"comment": "修正しました"})
    assert r.state.current == 0 and pending_user_ids(r.state) == {REVIEWER}
    assert [s.person for s in r.state.steps[1].slots] == [person(CONSULT_A), person(CONSULT_B)]


def test_pull_back_only_before_the_next_approver_acts():
    """Can the reviewer take back his approval until a 合議 member acts, and not after?"""
    r = run(SUBMIT, ("approve", REVIEWER))
    assert "pull_back" in allowed_actions(r.state, REVIEWER)
    back = apply(r.state, "pull_back", REVIEWER, at=T0)
    assert back.state.current == 0 and pending_user_ids(back.state) == {REVIEWER}
    assert fx.Unassigned((CONSULT_A, CONSULT_B), 1) in back.effects
    r.do("approve", CONSULT_A)
    with pytest.raises(ActionConflict, match="次の承認者"):
        apply(r.state, "pull_back", REVIEWER, at=T0)


def test_pull_back_is_for_the_last_actor_only():
    """Once the flow has moved on twice, can the first approver no longer pull back?"""
    state = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B)).state
    with pytest.raises(ActionConflict):
        apply(state, "pull_back", REVIEWER, at=T0)
    with pytest.raises(ActionConflict):
        apply(state, "pull_back", CONSULT_A, at=T0)  # B's vote completed the group
    assert "pull_back" in allowed_actions(state, CONSULT_B)


def test_pull_back_after_send_back_is_not_possible():
    """After a 差戻し to a step, is the earlier approver no longer 'the last actor'?"""
    state = run(
        SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("send_back", CONSULT_B, {"to_step": 0})
    ).state
    assert "pull_back" not in allowed_actions(state, CONSULT_A)
    state = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B)).state
    state = apply(state, "send_back", DECIDER, at=T0, to_step=1).state
    assert "pull_back" not in allowed_actions(state, REVIEWER)


def test_consult_member_pulls_back_own_vote_while_group_is_open():
    """Can a 合議 member take back his vote while the other member has not voted?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("pull_back", CONSULT_A))
    assert pending_user_ids(r.state) == {CONSULT_A, CONSULT_B}
    assert r.state.history[-1].step_index == 1


def test_drafter_pulls_back_before_anyone_acts_into_editable_state():
    """Does the drafter's 引戻し return the request to sent_back, and not after an approval?"""
    r = run(SUBMIT, ("pull_back", DRAFTER))
    assert r.state.status == "sent_back" and r.effects == (fx.Unassigned((REVIEWER,), 0),)
    r.do("resubmit", DRAFTER)
    with pytest.raises(ActionConflict):
        apply(run(SUBMIT, ("approve", REVIEWER)).state, "pull_back", DRAFTER, at=T0)


def test_deputy_approval_creates_post_review_for_the_absent():
    """Does 代決 clear the absent approver's step and owe him a 後閲?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B))
    r.do("deputy_approve", DEPUTY, {"absences": {DECIDER: DEPUTY}})
    assert r.state.status == "approved"
    slot = r.state.steps[3].slots[0]
    assert (slot.status, slot.acted_by) == ("deputy_approved", DEPUTY)
    assert post_review_user_ids(r.state) == {DECIDER}
    assert r.effects == (fx.PostReviewOwed(DECIDER, 3), fx.Decided(), fx.NumberDue())
    assert r.state.history[-1].on_behalf_of == DECIDER
    r.do("acknowledge", DECIDER)
    assert post_review_user_ids(r.state) == set()
    assert r.state.post_reviews[0].acknowledged_at is not None
    with pytest.raises(ActionConflict):
        apply(r.state, "acknowledge", DECIDER, at=T0)


def test_deputy_needs_an_active_absence():
    """Without an absence naming him, is the deputy an outsider (403)?"""
    state = run(SUBMIT).state
    with pytest.raises(NotOnRoute):
        apply(state, "deputy_approve", DEPUTY, at=T0)
    with pytest.raises(ActionConflict):  # registered for someone on the route who is not pending
        apply(state, "deputy_approve", DEPUTY, at=T0, absences={DECIDER: DEPUTY})


def test_deputy_cannot_approve_for_himself_twice():
    """After 代決, is a second 代決 or the absent's own approval a conflict?"""
    state = run(SUBMIT, ("deputy_approve", DEPUTY, {"absences": {REVIEWER: DEPUTY}})).state
    with pytest.raises(ActionConflict):
        apply(state, "deputy_approve", DEPUTY, at=T0, absences={REVIEWER: DEPUTY})
    with pytest.raises(ActionConflict, match="処理済み"):
        apply(state, "approve", REVIEWER, at=T0)


def test_drafter_cannot_deputy_approve_his_own_request():
    """Is the drafter refused as deputy on his own 起案?"""
    with pytest.raises(ActionConflict, match="代決"):
        apply(run(SUBMIT).state, "deputy_approve", DRAFTER, at=T0, absences={REVIEWER: DRAFTER})


def test_deputy_in_a_consult_group_acts_for_one_slot():
    """Does a deputy for both 合議 members clear one slot per action?"""
    absences = {CONSULT_A: DEPUTY, CONSULT_B: DEPUTY}
    r = run(SUBMIT, ("approve", REVIEWER), ("deputy_approve", DEPUTY, {"absences": absences}))
    assert pending_user_ids(r.state) == {CONSULT_B}
    r.do("deputy_approve", DEPUTY, {"absences": absences})
    assert r.state.current == 3 and post_review_user_ids(r.state) == {CONSULT_A, CONSULT_B}


def test_pull_back_of_deputy_approval_cancels_the_post_review():
    """When the deputy takes back his 代決, does the owed 後閲 disappear?"""
    r = run(SUBMIT, ("deputy_approve", DEPUTY, {"absences": {REVIEWER: DEPUTY}}))
    r.do("pull_back", DEPUTY)
    assert post_review_user_ids(r.state) == set() and pending_user_ids(r.state) == {REVIEWER}
    assert fx.PostReviewCancelled(REVIEWER, 0) in r.effects
    assert r.state.history[-1].on_behalf_of == REVIEWER


def test_pull_up_marks_the_skipped_step_and_owes_post_review():
    """Does 引上げ by the decider pass over the absent reviewer, mark it, and owe a 後閲?"""
    r = run(SUBMIT, ("pull_up", DECIDER, {"comment": "出張中のため引上げ"}))
    slot = r.state.steps[0].slots[0]
    assert (slot.status, slot.acted_by) == ("pulled_up", DECIDER)
    assert step_status(r.state.steps[0]) == "done"
    assert post_review_user_ids(r.state) == {REVIEWER}
    assert r.effects == (fx.PostReviewOwed(REVIEWER, 0), fx.Assigned((CONSULT_A, CONSULT_B), 1))
    assert r.state.history[-1].on_behalf_of == REVIEWER
    r.do("pull_back", DECIDER)
    assert pending_user_ids(r.state) == {REVIEWER} and post_review_user_ids(r.state) == set()


def test_pull_up_needs_a_later_approver_and_a_review_step():
    """Is 引上げ refused to readers, earlier approvers, and on 合議 or 決裁 steps?"""
    state = run(SUBMIT).state
    with pytest.raises(ActionConflict):
        apply(state, "pull_up", READER, at=T0)
    with pytest.raises(ActionConflict):
        apply(state, "pull_up", DRAFTER, at=T0)
    at_consult = run(SUBMIT, ("approve", REVIEWER)).state
    with pytest.raises(ActionConflict, match="合議"):
        apply(at_consult, "pull_up", DECIDER, at=T0)
    with pytest.raises(ActionConflict):
        apply(at_consult, "pull_up", REVIEWER, at=T0)


def test_pull_up_by_consult_member_then_decider_pulls_up_nothing_more():
    """Can a 合議 member (a later approver) pull up the review?"""
    r = run(SUBMIT, ("pull_up", CONSULT_B))
    assert r.state.current == 1 and r.state.steps[0].slots[0].status == "pulled_up"


def test_acting_twice_is_a_conflict():
    """Does the second approval by the same person get 409 with the current state?"""
    state = run(SUBMIT, ("approve", REVIEWER)).state
    with pytest.raises(ActionConflict, match="既に処理済み") as err:
        apply(state, "approve", REVIEWER, at=T0)
    assert err.value.state == state


def test_two_approvers_racing_on_one_state_version():
    """Given one state, do two 合議 votes computed from it both stand but the second replay conflicts?"""
    state = run(SUBMIT, ("approve", REVIEWER)).state
    first = apply(state, "approve", CONSULT_A, at=T0).state
    assert first.version == state.version + 1
    with pytest.raises(ActionConflict):
        apply(first, "approve", CONSULT_A, at=T0)


def test_not_yet_due_is_a_conflict():
    """Is the decider acting before his turn a 409 saying so?"""
    with pytest.raises(ActionConflict, match="順番"):
        apply(run(SUBMIT).state, "approve", DECIDER, at=T0)


def test_drafter_approving_is_a_conflict():
    """Is the drafter pressing 承認 a 409, not a 403?"""
    with pytest.raises(ActionConflict, match="起案者"):
        apply(run(SUBMIT).state, "approve", DRAFTER, at=T0)


def test_outsider_is_not_on_route():
    """Is someone never on the route refused with 403?"""
    with pytest.raises(NotOnRoute):
        apply(run(SUBMIT).state, "approve", OUTSIDER, at=T0)


def test_skipped_drafter_and_duplicate_slots_never_become_pending():
    """Do skipped steps stay skipped and the flow pass over them?"""
    route = [
        rstep(0, "review", [DRAFTER], skipped="drafter", reasons={DRAFTER: "drafter"}),
        rstep(1, "review", [REVIEWER]),
        rstep(2, "review", [REVIEWER], skipped="duplicate", reasons={REVIEWER: "duplicate"}),
        rstep(3, "consult", [DRAFTER, CONSULT_A], mode="all", reasons={DRAFTER: "drafter"}),
        rstep(4, "decide", [DECIDER]),
    ]
    r = run(SUBMIT, route=route)
    assert r.state.current == 1
    r.do("approve", REVIEWER)
    assert r.state.current == 3 and pending_user_ids(r.state) == {CONSULT_A}
    assert [step_status(s) for s in r.state.steps] == ["skipped", "done", "skipped", "pending", "waiting"]
    r.do("approve", CONSULT_A).do("approve", DECIDER)
    assert r.state.status == "approved"
    assert r.state.steps[3].slots[0].skip_reason == "drafter"


def test_reject_ends_the_request():
    """Does 却下 end the request and clear everyone's inbox?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("reject", CONSULT_B, {"comment": "予算超過"}))
    assert r.state.status == "rejected" and pending_user_ids(r.state) == set()
    assert r.effects == (fx.Unassigned((CONSULT_A,), 1), fx.Rejected())
    assert step_status(r.state.steps[1]) == "rejected"
    assert allowed_actions(r.state, DRAFTER) == set()


def test_withdraw_keeps_history():
    """Does 取下げ keep the whole history?"""
    r = run(SUBMIT, ("approve", REVIEWER), ("withdraw", DRAFTER, {"comment": "事業中止"}))
    assert r.state.status == "withdrawn"
    assert [h.action for h in r.state.history] == ["submit", "approve", "withdraw"]
    assert r.effects == (fx.Unassigned((CONSULT_A, CONSULT_B), 1), fx.Withdrawn())
    assert r.state.steps[0].slots[0].status == "approved"


@pytest.mark.parametrize("number_at,when", [("submission", 0), ("decision", 4)])
def test_number_is_due_once_per_template_setting(number_at, when):
    """Is NumberDue emitted at first submission or at decision, and only once?"""
    r = Run(draft(number_at=number_at))
    seen = []
    for i, (action, actor) in enumerate(
        [SUBMIT, ("approve", REVIEWER), ("approve", CONSULT_A), ("approve", CONSULT_B), ("approve", DECIDER)]
    ):
        r.do(action, actor)
        if fx.NumberDue() in r.effects:
            seen.append(i)
    assert seen == [when]


def test_number_due_at_submission_not_repeated_on_resubmit():
    """Does 再提出 keep the number given at 起案?"""
    r = (
        Run(draft(number_at="submission"))
        .do("submit", DRAFTER)
        .do("send_back", REVIEWER)
        .do("resubmit", DRAFTER)
    )
    assert fx.NumberDue() not in r.effects


def test_allowed_actions_drive_the_buttons():
    """Do the buttons shown match each person's role at each moment?"""
    state = run(SUBMIT, ("approve", REVIEWER)).state
    assert allowed_actions(state, CONSULT_A) == {"approve", "send_back", "reject"}
    assert allowed_actions(state, REVIEWER) == {"pull_back"}
    assert allowed_actions(state, DRAFTER) == {"withdraw"}
    assert allowed_actions(state, DEPUTY, {CONSULT_B: DEPUTY}) == {"deputy_approve"}
    assert allowed_actions(state, DECIDER) == set()
    assert allowed_actions(state, OUTSIDER) == set()
    assert allowed_actions(run(SUBMIT).state, DECIDER) == {"pull_up"}


def test_state_round_trips_through_json():
    """Does to_dict → JSON → from_dict give back an equal state?"""
    state = run(
        SUBMIT,
        ("deputy_approve", DEPUTY, {"absences": {REVIEWER: DEPUTY}}),
        ("approve", CONSULT_A),
        ("approve", CONSULT_B),
        ("read", READER),
    ).state
    data = json.loads(json.dumps(state.to_dict(), ensure_ascii=False))
    assert RequestState.from_dict(data) == state
    with pytest.raises(ValueError):
        RequestState.from_dict({**data, "schema": 99})


def test_effects_serialise_for_the_outbox():
    """Do effects turn into plain dicts with their type name?"""
    assert fx.effect_to_dict(fx.Assigned((3, 4), 1)) == {
        "type": "Assigned",
        "user_ids": [3, 4],
        "step_index": 1,
    }
    assert fx.effect_to_dict(fx.Decided()) == {"type": "Decided"}


def test_history_records_time_with_offset_and_version():
    """Is each action stamped with its ISO time (+09:00) and the version it produced?"""
    r = run(SUBMIT, ("approve", REVIEWER, {"comment": "確認しました"}))
    entry = r.state.history[-1]
    assert (
        entry.at.endswith("+09:00") and entry.version == r.state.version and entry.comment == "確認しました"
    )
    assert r.state.steps[0].slots[0].acted_at == entry.at


def test_naive_time_and_long_comment_are_refused():
    """Are a naive datetime (programming error) and an overlong comment (422) refused?"""
    with pytest.raises(ValueError):
        apply(run(SUBMIT).state, "approve", REVIEWER, at=datetime(2026, 1, 1))
    with pytest.raises(InvalidAction):
        apply(run(SUBMIT).state, "approve", REVIEWER, at=T0, comment="あ" * 2001)


def test_new_request_validates_number_at():
    """Is an unknown number_at refused when creating a request?"""
    with pytest.raises(ValueError):
        new_request(DRAFTER, "never")


# -- property: random routes and random action sequences ---------------------------------------

PEOPLE = {uid: person(uid) for uid in range(1, 8)}  # 1 is the drafter; 8 a deputy, 9 an outsider


class UsersOnly:
    """A directory that only knows usernames (the property test uses {"user": …} selectors)."""

    def section_chief_of(self, p: Person) -> Person | None:
        return None

    def department_head_of(self, p: Person) -> Person | None:
        return None

    def by_title(self, title: str) -> list[Person]:
        return []

    def by_department_title(self, code: str, title: str) -> list[Person]:
        return []

    def by_username(self, username: str) -> Person | None:
        return PEOPLE.get(int(username[1:]))


def _users(ids: list[int]) -> list[dict[str, str]]:
    return [{"user": f"u{u}"} for u in ids]


uid = st.integers(1, 7)
group = st.lists(uid, min_size=1, max_size=3, unique=True)
step_json = st.one_of(
    st.builds(lambda u: {"kind": "review", "approver": {"user": f"u{u}"}}, uid),
    st.builds(
        lambda us, mode: {"kind": "consult", "mode": mode, "approvers": _users(us)},
        group,
        st.sampled_from(["all", "any"]),
    ),
    st.builds(lambda us: {"kind": "circulate", "approvers": _users(us)}, group),
)
decide_json = st.builds(
    lambda a, b: {
        "kind": "decide",
        "authority": [{"max_amount": 100, "approver": {"user": f"u{a}"}}, {"approver": {"user": f"u{b}"}}],
    },
    uid,
    uid,
)
route_json = st.builds(
    lambda steps, last: {"key": "p", "name": "性質", "steps": [*steps, last]},
    st.lists(step_json, max_size=5),
    decide_json,
)
# Approve, submit and resubmit are weighted up so that random runs get far along the route.
action_step = st.tuples(
    st.sampled_from([*ACTIONS, "approve", "approve", "approve", "submit", "resubmit", "stamp"]),
    # Who acts: 0 is the first person whose turn it is, then the last actor, the drafter, the deputy …
    st.one_of(st.just(0), st.integers(0, 3), st.integers(0, 12)),
    st.one_of(st.none(), st.integers(-1, 6)),
    st.booleans(),  # the pending people are absent, with deputy 8
    st.dictionaries(st.integers(2, 7), st.just(8), max_size=2),
)


def _actor(state: RequestState, pick: int) -> int:
    pending = sorted(pending_user_ids(state))
    others = sorted({s.user_id for st_ in state.steps for s in st_.slots} - set(pending) - {DRAFTER})
    last = [state.history[-1].actor_id] if state.history else []
    candidates = [*pending, *last, DRAFTER, 8, *others, 9]
    return candidates[pick % len(candidates)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route_json,
    st.integers(0, 200),
    st.sampled_from(["decision", "submission"]),
    st.lists(action_step, min_size=1, max_size=50),
)
def test_random_action_sequences_keep_the_state_sound(route, amount, number_at, actions):
    """Whatever people press, in whatever order, is every reached state sound?"""
    try:
        resolved = resolve_route(parse_template(route), PEOPLE[DRAFTER], amount, UsersOnly())
    except UnresolvableApprover:
        assume(False)
    # Start submitted: what can happen to a draft is covered by the table above.
    first = apply(attach_route(new_request(DRAFTER, number_at), resolved), "submit", DRAFTER, at=T0)
    state, numbered = first.state, first.effects.count(fx.NumberDue())
    for i, (action, pick, to_step, pending_absent, extra) in enumerate(actions):
        actor = _actor(state, pick)
        absences = {**extra, **({p: 8 for p in pending_user_ids(state)} if pending_absent else {})}
        before = json.dumps(state.to_dict(), sort_keys=True)
        allowed = allowed_actions(state, actor, absences)
        try:
            result = apply(
                state,
                action,
                actor,
                at=T0 + timedelta(minutes=i + 1),
                to_step=to_step if action == "send_back" else None,
                absences=absences,
            )
        except (ActionConflict, InvalidAction, NotOnRoute):
            assert action not in allowed or (action == "send_back" and to_step is not None)
            assert json.dumps(state.to_dict(), sort_keys=True) == before
            continue
        assert action in allowed or to_step is not None  # allowed_actions agrees with apply
        assert json.dumps(state.to_dict(), sort_keys=True) == before  # never mutated
        new = result.state
        assert invariant_violations(new) == []
        assert new.version == state.version + 1 and len(new.history) == len(state.history) + 1
        if state.status in FINISHED:
            assert new.status == state.status  # at most one terminal status, and it stays
        assert (fx.Decided() in result.effects) == (new.status == "approved" != state.status)
        assert pending_user_ids(new) <= {s.user_id for st_ in new.steps for s in st_.slots} - {DRAFTER}
        numbered += result.effects.count(fx.NumberDue())
        assert RequestState.from_dict(json.loads(json.dumps(new.to_dict()))) == new
        event(f"{action} succeeded")
        state = new
    event(f"ended {state.status}")
    assert numbered <= 1  # a document number is asked for at most once


def test_drafter_pull_back_withdraws_circulate_notices_too():
    """After the drafter's 引戻し, is the early 供覧 reader reset, to be notified again on resubmit?"""
    route = [rstep(0, "circulate", [READER]), rstep(1, "review", [REVIEWER]), rstep(2, "decide", [DECIDER])]
    r = run(SUBMIT, route=route)
    assert r.effects == (fx.Circulated((READER,), 0), fx.Assigned((REVIEWER,), 1))
    r.do("pull_back", DRAFTER)
    assert slot_statuses(r.state) == [["waiting"], ["waiting"], ["waiting"]]
    r.do("resubmit", DRAFTER)
    assert fx.Circulated((READER,), 0) in r.effects


def test_resolved_route_runs_end_to_end():
    """Does a template resolved from the directory run from 起案 to 決裁 with skips honoured?"""
    resolved = resolve_route(parse_template(EXAMPLE), SOMU_KAKARICHO, 600000, FakeDirectory())
    r = Run(attach_route(new_request(SOMU_KAKARICHO.id, "decision"), resolved))
    r.do("submit", SOMU_KAKARICHO.id)
    assert r.state.current == 1 and pending_user_ids(r.state) == {20}  # own 係長 step skipped
    r.do("approve", 20)
    assert pending_user_ids(r.state) == {2} and r.state.steps[3].label == "副村長決裁"
    r.do("approve", 2)
    assert r.state.status == "approved" and r.effects[-2:] == (fx.Decided(), fx.NumberDue())
