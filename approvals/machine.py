"""The approval state machine: the one module that holds the rules of the lifecycle.

:func:`apply` takes a :class:`~approvals.state.RequestState` and an action and returns a
:class:`Transition` (a new state — the input is never mutated — and the :mod:`effects
<approvals.effects>` the service turns into notifications, audit and numbering after commit).

Who may do what (``absences`` maps an absent user id to the deputy id registered through 不在設定,
active now; deputies are not chained):

``submit``          drafter, from ``draft`` with a route attached → ``in_progress``
``approve``         a person whose slot on the current step is ``pending``
``send_back``       a pending approver; ``to_step=None`` → the drafter (``sent_back``), otherwise an
                    earlier blocking step that is not skipped: it becomes pending, every later step resets
``reject``          a pending approver → ``rejected`` (final)
``pull_back``       (a) the drafter, while nobody has acted since (re)submission → ``sent_back``;
                    (b) whoever made the action that last moved the flow forward (the approval, 代決
                    or 引上げ completing the previous step; a later 差戻し or 引戻し clears it), while
                    nobody on the current step has acted → that step is pending again;
                    (c) a member of a 合議 group still open, for his own vote (parallel members are
                    not "next", so the others' votes do not prevent it). A pulled-back 代決/引上げ
                    cancels the 後閲 it created. A decision is final: nothing is pulled back after it.
``withdraw``        drafter, from ``in_progress`` or ``sent_back`` → ``withdrawn`` (history kept)
``resubmit``        drafter, from ``sent_back``; the same frozen route restarts from the first step
``deputy_approve``  the deputy of an absent pending approver (not the drafter); one slot per action;
                    the absent person owes a 後閲. A deputy cannot 差戻し or 却下 for the absent.
``pull_up``         a later acting approver passes over the pending approver of the current *review*
                    step (合議 belongs to another department and decide has no later approver); the
                    passed-over person owes a 後閲. The puller then approves his own step normally.
``acknowledge``     a person with an open 後閲, in any status
``read``            a 供覧 reader who has been notified, in any status

Errors: :class:`NotOnRoute` (403) when the actor is neither drafter, on the route (skipped people and
readers included), the registered deputy of someone on it, nor someone who already acted on it;
:class:`ActionConflict` (409) for everything that is not allowed *now* or not for this person;
:class:`InvalidAction` (422) for an unknown action, a bad ``to_step`` or ``to_step``
with another action, an overlong comment, or submitting without a route.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from approvals import effects as fx
from approvals import flow
from approvals.resolution import ResolvedStep
from approvals.state import APPROVED as REQUEST_APPROVED
from approvals.state import (
    CLEARED,
    DEPUTY_APPROVED,
    DRAFT,
    IN_PROGRESS,
    NOT_NEEDED,
    NOTIFIED,
    PENDING,
    PULLED_UP,
    READ,
    SENT_BACK,
    SKIPPED,
    SLOT_APPROVED,
    SLOT_REJECTED,
    WAITING,
    HistoryEntry,
    RequestState,
    Slot,
    Step,
    route_user_ids,
    steps_from_route,
)
from approvals.state import REJECTED as REQUEST_REJECTED
from approvals.state import WITHDRAWN as REQUEST_WITHDRAWN

ACTIONS = (
    "submit",
    "approve",
    "send_back",
    "reject",
    "pull_back",
    "withdraw",
    "resubmit",
    "deputy_approve",
    "acknowledge",
    "pull_up",
    "read",
)
MAX_COMMENT = 2000
_NO_ABSENCES: Mapping[int, int] = MappingProxyType({})


class NotOnRoute(Exception):
    """The actor has nothing to do with this request (→ 403)."""

    def __init__(self, message_ja: str = "この起案の処理権限がありません。") -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja


class ActionConflict(Exception):
    """The action is not allowed now or not for this person (→ 409 with ``state``, the unchanged state)."""

    def __init__(self, message_ja: str, state: RequestState) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja
        self.state = state


class InvalidAction(Exception):
    """The action itself is malformed (→ 422)."""

    def __init__(self, message_ja: str) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja


@dataclass(frozen=True)
class Transition:
    """The result of :func:`apply`: the new state and what the service must do after commit."""

    state: RequestState
    effects: tuple[fx.Effect, ...]


def attach_route(state: RequestState, route: Sequence[ResolvedStep]) -> RequestState:
    """Return a copy of a ``draft`` state with the resolved route frozen into it (version + 1).

    Raises :class:`ActionConflict` when the request is no longer a draft, :class:`InvalidAction` for a
    route that does not end with a decide step.
    """
    if state.status != DRAFT:
        raise ActionConflict("起案後は決裁ルートを変更できません。", state)
    if not route or route[-1].kind != "decide" or route[-1].skipped:
        raise InvalidAction("決裁ルートの最後は決裁ステップでなければなりません。")
    new = copy.deepcopy(state)
    new.steps = steps_from_route(route)
    new.version += 1
    return new


def _conflict(move: flow.Move, message_ja: str) -> ActionConflict:
    return ActionConflict(message_ja, move.before)


# -- checks -------------------------------------------------------------------------------------


def _require_status(move: flow.Move, *allowed: str) -> None:
    status = move.state.status
    if status in allowed:
        return
    messages = {
        DRAFT: "まだ起案されていません。",
        IN_PROGRESS: "この起案は決裁処理中です。",
        SENT_BACK: "この起案は差し戻されています。",
        REQUEST_APPROVED: "この起案は決裁済みです。",
        REQUEST_REJECTED: "この起案は却下されています。",
        REQUEST_WITHDRAWN: "この起案は取り下げられています。",
    }
    raise _conflict(move, messages.get(status, "この操作は現在できません。"))


def _require_drafter(move: flow.Move) -> None:
    if move.actor != move.state.drafter_id:
        raise _conflict(move, "この操作は起案者だけができます。")


def _own_pending_slot(move: flow.Move) -> tuple[Step, Slot]:
    """Return the actor's pending slot on the current step; raise a conflict explaining why not."""
    _require_status(move, IN_PROGRESS)
    step = move.state.steps[move.state.current or 0]
    for slot in step.slots:
        if slot.user_id == move.actor and slot.status == PENDING:
            return step, slot
    mine = [(st, s) for st in move.state.steps for s in st.slots if s.user_id == move.actor]
    if move.actor == move.state.drafter_id and all(s.status == SKIPPED for _, s in mine):
        raise _conflict(move, "起案者は自分の起案を承認できません。")
    if any(s.status in CLEARED | {NOT_NEEDED} for _, s in mine):
        raise _conflict(move, "既に処理済みです。")
    if any(st.index > step.index and st.blocking and s.status == WAITING for st, s in mine):
        raise _conflict(move, "まだ順番が来ていません。")
    raise _conflict(move, "現在このステップの承認者ではありません。")


# -- actions ------------------------------------------------------------------------------------


def _submit(move: flow.Move, to_step: int | None) -> None:
    _require_status(move, DRAFT)
    _require_drafter(move)
    if not move.state.steps:
        raise InvalidAction("決裁ルートが確定していません。")
    flow.start(move)
    if move.state.number_at == "submission":
        move.effects.append(fx.NumberDue())


def _resubmit(move: flow.Move, to_step: int | None) -> None:
    _require_status(move, SENT_BACK)
    _require_drafter(move)
    flow.start(move)


def _approve(move: flow.Move, to_step: int | None) -> None:
    step, slot = _own_pending_slot(move)
    move.stamp(slot, SLOT_APPROVED)
    move.step_index = step.index
    flow.after_clearance(move, step, step.slots.index(slot))


def _deputy_approve(move: flow.Move, to_step: int | None) -> None:
    _require_status(move, IN_PROGRESS)
    if move.actor == move.state.drafter_id:
        raise _conflict(move, "起案者は自分の起案を代決できません。")
    step = move.state.steps[move.state.current or 0]
    for i, slot in enumerate(step.slots):
        absent = slot.user_id
        if slot.status == PENDING and absent != move.actor and move.absences.get(absent) == move.actor:
            move.stamp(slot, DEPUTY_APPROVED)
            move.on_behalf_of, move.step_index = absent, step.index
            flow.owe_post_review(move, slot, step, DEPUTY_APPROVED)
            flow.after_clearance(move, step, i)
            return
    raise _conflict(move, "代決できる不在者の承認待ちがありません。")


def _pull_up(move: flow.Move, to_step: int | None) -> None:
    _require_status(move, IN_PROGRESS)
    step = move.state.steps[move.state.current or 0]
    later = [
        st
        for st in move.state.steps[step.index + 1 :]
        if st.blocking and move.actor in {s.user_id for s in st.active_slots()}
    ]
    if not later:
        raise _conflict(move, "引上げできるのは、この後の承認者だけです。")
    if step.kind != "review":
        raise _conflict(move, "合議・決裁のステップは引上げできません。")
    slot_index, slot = next((i, s) for i, s in enumerate(step.slots) if s.status == PENDING)
    if slot.user_id == move.actor:
        raise _conflict(move, "自分の承認待ちは「承認」で処理してください。")
    move.stamp(slot, PULLED_UP)
    move.on_behalf_of, move.step_index = slot.user_id, step.index
    flow.owe_post_review(move, slot, step, PULLED_UP)
    flow.after_clearance(move, step, slot_index)


def _send_back(move: flow.Move, to_step: int | None) -> None:
    step, _ = _own_pending_slot(move)
    state = move.state
    move.step_index = step.index
    if to_step is None:
        flow.unassign(move, keep=move.actor)
        flow.reset_from(state, 0)
        state.status, state.current, state.last_advance = SENT_BACK, None, None
        move.effects.append(fx.SentBack(None))
        return
    if isinstance(to_step, bool) or not isinstance(to_step, int) or not 0 <= to_step < step.index:
        raise InvalidAction("差戻し先は、現在より前のステップを指定してください。")
    if not state.steps[to_step].blocking:
        raise InvalidAction("差戻し先には、省略されていない回議・合議・決裁のステップを指定してください。")
    flow.unassign(move, keep=move.actor)
    flow.reset_from(state, to_step)
    state.last_advance = None
    move.effects.append(fx.SentBack(to_step))
    flow.advance(move, to_step)


def _reject(move: flow.Move, to_step: int | None) -> None:
    step, slot = _own_pending_slot(move)
    move.stamp(slot, SLOT_REJECTED)
    move.step_index = step.index
    flow.unassign(move)
    move.state.status, move.state.current, move.state.last_advance = REQUEST_REJECTED, None, None
    move.effects.append(fx.Rejected())


def _withdraw(move: flow.Move, to_step: int | None) -> None:
    _require_status(move, IN_PROGRESS, SENT_BACK)
    _require_drafter(move)
    flow.unassign(move)
    move.state.status, move.state.current, move.state.last_advance = REQUEST_WITHDRAWN, None, None
    move.effects.append(fx.Withdrawn())


def _pull_back(move: flow.Move, to_step: int | None) -> None:
    _require_status(move, IN_PROGRESS)
    state = move.state
    current = state.steps[state.current or 0]
    if move.actor == state.drafter_id:
        acted = [s for st in state.steps if st.blocking for s in st.slots if s.seq is not None]
        if acted:
            raise _conflict(move, "既に承認者が処理したため、引戻しできません。")
        flow.unassign(move)
        flow.reset_from(state, 0)  # as after 差戻し to the drafter: 供覧 notices are re-sent on resubmit
        state.status, state.current = SENT_BACK, None
        return
    # (c) one's own vote in an open 合議 group: parallel members are not "the next approver".
    own = [s for s in current.slots if s.acted_by == move.actor and s.status in CLEARED]
    if own:
        flow.revert(move, current, max(own, key=lambda s: s.seq or 0))
        return
    adv = state.last_advance
    if adv is None or adv.actor_id != move.actor:
        if any(s.acted_by == move.actor for st in state.steps for s in st.slots):
            raise _conflict(move, "引戻しできるのは、最後に処理した人が次の処理の前に行う場合だけです。")
        raise _conflict(move, "引戻しできる処理がありません。")
    if any(s.seq is not None for s in current.slots):
        raise _conflict(move, "次の承認者が既に処理したため、引戻しできません。")
    flow.unassign(move)
    flow.reset_from(state, adv.step_index + 1)
    step = state.steps[adv.step_index]
    for slot in step.slots:
        if slot.status == NOT_NEEDED:  # a settled 合議 "any" group opens again
            slot.reset()
            slot.status = PENDING
    flow.revert(move, step, step.slots[adv.slot_index])
    state.current, state.last_advance = step.index, None
    move.effects.append(fx.Assigned(tuple(s.user_id for s in step.slots if s.status == PENDING), step.index))


def _acknowledge(move: flow.Move, to_step: int | None) -> None:
    owed = [p for p in move.state.post_reviews if p.user_id == move.actor and p.acknowledged_at is None]
    if not owed:
        raise _conflict(move, "後閲が必要な処理はありません。")
    for review in owed:
        review.acknowledged_at = move.at
    move.effects.append(fx.PostReviewAcknowledged(move.actor))


def _read(move: flow.Move, to_step: int | None) -> None:
    for step in move.state.steps:
        for slot in step.slots:
            if step.kind == "circulate" and slot.user_id == move.actor and slot.status == NOTIFIED:
                slot.status, slot.acted_at = READ, move.at
                move.step_index = step.index
                return
    raise _conflict(move, "供覧の確認が必要なものはありません。")


_HANDLERS: dict[str, Callable[[flow.Move, int | None], None]] = {
    "submit": _submit,
    "approve": _approve,
    "send_back": _send_back,
    "reject": _reject,
    "pull_back": _pull_back,
    "withdraw": _withdraw,
    "resubmit": _resubmit,
    "deputy_approve": _deputy_approve,
    "acknowledge": _acknowledge,
    "pull_up": _pull_up,
    "read": _read,
}


def _check_related(state: RequestState, actor: int, absences: Mapping[int, int]) -> None:
    route = route_user_ids(state)
    # Whoever already acted on the request (a deputy whose absence has ended) stays related to it.
    acted = {h.actor_id for h in state.history}
    deputy_for = {absent for absent, deputy in absences.items() if deputy == actor}  # deputies do not chain
    if actor != state.drafter_id and actor not in route | acted and not deputy_for & route:
        raise NotOnRoute()


def apply(
    state: RequestState,
    action: str,
    actor_id: int,
    *,
    at: datetime,
    comment: str | None = None,
    to_step: int | None = None,
    absences: Mapping[int, int] = _NO_ABSENCES,
) -> Transition:
    """Apply ``action`` by ``actor_id`` at the aware time ``at`` to a copy of ``state``.

    Returns the :class:`Transition` (version + 1, one history entry appended).
    Raises :class:`InvalidAction`, :class:`NotOnRoute` or :class:`ActionConflict` as described in the
    module docstring, and ``ValueError`` for a naive ``at``.
    """
    if action not in _HANDLERS:
        raise InvalidAction(f"不明な操作です: {action}")
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    if to_step is not None and action != "send_back":
        raise InvalidAction("to_step は差戻しにだけ指定できます。")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidAction(f"コメントは{MAX_COMMENT}文字以内で入力してください。")
    _check_related(state, actor_id, absences)
    move = flow.Move(state, copy.deepcopy(state), actor_id, at.isoformat(), absences, [])
    _HANDLERS[action](move, to_step)
    new = move.state
    new.version += 1
    entry = HistoryEntry(
        new.version, action, actor_id, move.at, move.on_behalf_of, comment or None, move.step_index, to_step
    )
    new.history.append(entry)
    return Transition(new, tuple(move.effects))


_PROBE_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def allowed_actions(
    state: RequestState, user_id: int, absences: Mapping[int, int] = _NO_ABSENCES
) -> set[str]:
    """Return the actions ``user_id`` may take now (``send_back`` meaning: to the drafter).

    Computed by trying each action on a copy, so it can never disagree with :func:`apply`.
    """
    allowed = set()
    for action in ACTIONS:
        try:
            apply(state, action, user_id, at=_PROBE_TIME, absences=absences)
        except (NotOnRoute, ActionConflict, InvalidAction):
            continue
        allowed.add(action)
    return allowed
