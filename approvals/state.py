"""The state of one approval request: plain dataclasses that round-trip through JSON.

The service stores :meth:`RequestState.to_dict` as JSON and derives task rows (inbox items) from
:func:`pending_user_ids` and :func:`post_review_user_ids`. Only :mod:`approvals.machine` changes a state.

Request statuses: ``draft`` → ``in_progress`` ⇄ ``sent_back`` → ``approved`` | ``rejected`` | ``withdrawn``.

Slot statuses (one slot = one person on one step):

==================  =====================================================================
``waiting``         the step has not been reached (or was reset by 差戻し/引戻し/再提出)
``pending``         it is this person's turn (only while the request is ``in_progress``)
``approved``        approved in person
``deputy_approved`` approved by a deputy (代決); the person owes a 後閲
``pulled_up``       passed over by 引上げ (a later approver acted); the person owes a 後閲
``not_needed``      a 合議 ``any`` group was settled by another member
``rejected``        this person rejected the request (却下)
``skipped``         excluded at submission; ``skip_reason`` is drafter / duplicate / vacant
``notified``        供覧 reader has been notified (circulate steps only)
``read``            供覧 reader marked it read
==================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from approvals.resolution import Person, ResolvedStep

SCHEMA = 1

DRAFT = "draft"
IN_PROGRESS = "in_progress"
SENT_BACK = "sent_back"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
STATUSES = (DRAFT, IN_PROGRESS, SENT_BACK, APPROVED, REJECTED, WITHDRAWN)
FINISHED = frozenset({APPROVED, REJECTED, WITHDRAWN})

WAITING = "waiting"
PENDING = "pending"
SLOT_APPROVED = "approved"
DEPUTY_APPROVED = "deputy_approved"
PULLED_UP = "pulled_up"
NOT_NEEDED = "not_needed"
SLOT_REJECTED = "rejected"
SKIPPED = "skipped"
NOTIFIED = "notified"
READ = "read"
SLOT_STATUSES = (
    WAITING,
    PENDING,
    SLOT_APPROVED,
    DEPUTY_APPROVED,
    PULLED_UP,
    NOT_NEEDED,
    SLOT_REJECTED,
    SKIPPED,
    NOTIFIED,
    READ,
)
#: Slot statuses that count as "this person's part of the step is done".
CLEARED = frozenset({SLOT_APPROVED, DEPUTY_APPROVED, PULLED_UP})

BLOCKING_KINDS = frozenset({"review", "consult", "decide"})


@dataclass
class Slot:
    """One person on one step, with a snapshot of who they were at submission (for the seal and PDF)."""

    person: Person
    status: str = WAITING
    skip_reason: str | None = None
    acted_by: int | None = None  # who pressed the button: the person, a deputy, or the puller-up
    acted_at: str | None = None
    seq: int | None = None  # state version of the action; orders actions for 引戻し

    @property
    def user_id(self) -> int:
        """Return the person's user id."""
        return self.person.id

    def reset(self) -> None:
        """Forget any action on this slot (差戻し, 引戻し, 再提出); skips made at submission stay."""
        if self.status != SKIPPED:
            self.status, self.acted_by, self.acted_at, self.seq = WAITING, None, None, None


@dataclass
class Step:
    """One step of the frozen route."""

    index: int
    kind: str
    slots: list[Slot]
    mode: str | None = None
    label: str | None = None  # 決裁区分 of the decide step
    step_id: str | None = None
    skip_reason: str | None = None  # set when the whole step is skipped

    @property
    def skipped(self) -> bool:
        """True when nobody acts on this step."""
        return self.skip_reason is not None

    @property
    def blocking(self) -> bool:
        """True for steps the flow waits on (review, consult, decide); circulate never blocks."""
        return self.kind in BLOCKING_KINDS and not self.skipped

    def active_slots(self) -> list[Slot]:
        """Return the slots of people who act on this step."""
        return [] if self.skipped else [s for s in self.slots if s.status != SKIPPED]


@dataclass
class HistoryEntry:
    """One recorded action; ``on_behalf_of`` is the absent person for 代決 and 引上げ."""

    version: int
    action: str
    actor_id: int
    at: str
    on_behalf_of: int | None = None
    comment: str | None = None
    step_index: int | None = None
    to_step: int | None = None


@dataclass
class PostReview:
    """A 後閲 owed by ``user_id`` because ``acted_by`` acted for them (reason: deputy_approved|pulled_up)."""

    user_id: int
    step_index: int
    reason: str
    acted_by: int
    owed_since: str
    seq: int  # the version of the action that created it; 引戻し of that action cancels it
    acknowledged_at: str | None = None


@dataclass
class Advance:
    """The action that last completed a step and moved the flow on: the one 引戻し may undo."""

    step_index: int
    slot_index: int
    actor_id: int


@dataclass
class RequestState:
    """Everything the machine knows about one request; ``version`` grows by one per transition."""

    drafter_id: int
    number_at: str = "decision"
    status: str = DRAFT
    steps: list[Step] = field(default_factory=list)
    current: int | None = None
    version: int = 1
    history: list[HistoryEntry] = field(default_factory=list)
    post_reviews: list[PostReview] = field(default_factory=list)
    last_advance: Advance | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data; :meth:`from_dict` reads it back."""
        return {"schema": SCHEMA, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestState:
        """Return the state stored by :meth:`to_dict`; raises ``ValueError`` for an unknown schema."""
        if data.get("schema") != SCHEMA:
            raise ValueError(f"unsupported approval state schema: {data.get('schema')!r}")
        steps = [
            Step(**{**s, "slots": [Slot(**{**sl, "person": Person(**sl["person"])}) for sl in s["slots"]]})
            for s in data["steps"]
        ]
        advance = data.get("last_advance")
        return cls(
            drafter_id=data["drafter_id"],
            number_at=data["number_at"],
            status=data["status"],
            steps=steps,
            current=data["current"],
            version=data["version"],
            history=[HistoryEntry(**h) for h in data["history"]],
            post_reviews=[PostReview(**p) for p in data["post_reviews"]],
            last_advance=Advance(**advance) if advance else None,
        )


def new_request(drafter_id: int, number_at: str = "decision") -> RequestState:
    """Return a fresh ``draft`` state (version 1) without a route (see ``machine.attach_route``)."""
    if number_at not in ("decision", "submission"):
        raise ValueError("number_at must be 'decision' or 'submission'")
    return RequestState(drafter_id=drafter_id, number_at=number_at)


def steps_from_route(route: Sequence[ResolvedStep]) -> list[Step]:
    """Return the state's steps for a resolved route, every acting slot ``waiting``."""
    return [
        Step(
            index=i,
            kind=r.kind,
            slots=[Slot(a.person, SKIPPED if a.skipped else WAITING, a.skipped) for a in r.approvers],
            mode=r.mode,
            label=r.label,
            step_id=r.step_id,
            skip_reason=r.skipped,
        )
        for i, r in enumerate(route)
    ]


def step_complete(step: Step) -> bool:
    """True when the flow may pass this step: skipped, circulate, or its approvals are in."""
    if not step.blocking:
        return True
    cleared = [s.status in CLEARED for s in step.active_slots()]
    if step.kind == "consult" and step.mode == "any":
        return any(cleared)
    return all(cleared)


def step_status(step: Step) -> str:
    """Return ``skipped``, ``waiting``, ``pending``, ``done`` or ``rejected`` for display and the API."""
    if step.skipped:
        return "skipped"
    statuses = {s.status for s in step.active_slots()}
    if SLOT_REJECTED in statuses:
        return "rejected"
    if PENDING in statuses:
        return "pending"
    if step.kind == "circulate":
        return "done" if statuses & {NOTIFIED, READ} else "waiting"
    return "done" if statuses and step_complete(step) else "waiting"


def current_step(state: RequestState) -> Step | None:
    """Return the step waiting for action, or None when the request is not ``in_progress``."""
    return state.steps[state.current] if state.current is not None else None


def pending_user_ids(state: RequestState) -> set[int]:
    """Return the ids of the people in whose 未処理 inbox the request is."""
    step = current_step(state)
    return {s.user_id for s in step.slots if s.status == PENDING} if step else set()


def post_review_user_ids(state: RequestState) -> set[int]:
    """Return the ids of the people who owe a 後閲 not yet acknowledged."""
    return {p.user_id for p in state.post_reviews if p.acknowledged_at is None}


def route_user_ids(state: RequestState) -> set[int]:
    """Return everyone on the frozen route (skipped people and 供覧 readers included)."""
    return {s.user_id for step in state.steps for s in step.slots}


def invariant_violations(state: RequestState) -> list[str]:
    """Return the broken invariants of a state (empty when sound); used by tests and when loading."""
    problems: list[str] = []
    pending_steps = {st.index for st in state.steps for s in st.slots if s.status == PENDING}
    if state.status not in STATUSES:
        problems.append(f"unknown status {state.status}")
    if state.status == IN_PROGRESS:
        if state.current is None or pending_steps != {state.current}:
            problems.append("in_progress needs pending slots on exactly the current step")
        elif not state.steps[state.current].blocking:
            problems.append("the current step must be a blocking step")
        elif any(not step_complete(st) for st in state.steps[: state.current]):
            problems.append("every step before the current one must be complete")
    elif state.current is not None or pending_steps:
        problems.append(f"{state.status} must have no current step and no pending slot")
    if state.status == APPROVED and not all(step_complete(st) for st in state.steps):
        problems.append("approved with an incomplete step")
    if state.status == APPROVED and state.steps[-1].active_slots()[0].status not in {
        SLOT_APPROVED,
        DEPUTY_APPROVED,
    }:
        problems.append("approved without a decision")
    rejected = [s for st in state.steps for s in st.slots if s.status == SLOT_REJECTED]
    if (state.status == REJECTED) != (len(rejected) == 1):
        problems.append("exactly one rejected slot iff the request is rejected")
    for st in state.steps:
        for s in st.slots:
            if s.status not in SLOT_STATUSES:
                problems.append(f"unknown slot status {s.status}")
            if (s.status == SKIPPED) != (s.skip_reason is not None):
                problems.append("skipped slots and only they carry a skip reason")
            if st.kind == "circulate" and s.status in CLEARED | {PENDING, SLOT_REJECTED}:
                problems.append("circulate readers never approve")
    return problems
