"""Resolving a route template into the people of one request (done once, at 起案, then frozen).

Rules (the issue leaves these to us; the tests pin them down):

* ``review`` and the chosen ``decide`` rule need exactly one person: nobody, or several people for a
  ``title``/``department+title`` selector, raises :class:`UnresolvableApprover` — unless a review step is
  ``optional``, which is then skipped with reason ``vacant`` when nobody is found.
* ``consult``/``circulate`` groups: each selector may match several people (e.g. every 課長); a selector
  that matches nobody raises, unless the step is ``optional``. People are de-duplicated within a group.
* ``decide`` picks the first authority rule whose ``max_amount`` covers the amount (``None`` counts as 0).
  The drafter cannot decide his own 起案: the decision escalates to the next rule; when there is none,
  :class:`UnresolvableApprover` is raised.
* Skips: an approver who is the drafter is skipped (``drafter``). An approver who is also an approver of
  the nearest earlier *acting* step (not skipped, not ``circulate``) is skipped (``duplicate``) — for a
  group, only that member; a group whose members are all skipped is skipped as a whole. The decide step
  is never skipped: when the decider also approves the step just before, that earlier occurrence is
  skipped instead, so he acts once, as the decider (typically 課長 review + 課長専決). ``circulate``
  readers are only subject to the drafter rule: reading twice harms nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from approvals.route_types import RouteTemplate, Selector, StepTemplate

SKIP_DRAFTER = "drafter"
SKIP_DUPLICATE = "duplicate"
SKIP_VACANT = "vacant"


@dataclass(frozen=True)
class Person:
    """A member of staff as the directory knows them (a snapshot is frozen into the request)."""

    id: int
    username: str
    display_name: str
    department_code: str | None = None
    department_name: str | None = None
    title: str | None = None


class Directory(Protocol):
    """What resolution needs from the directory; the service implements it over the database.

    Which titles count as 係長 / 課長 is the implementation's configuration, never this module's.
    """

    def section_chief_of(self, person: Person) -> Person | None:
        """Return the 係長 of the person's 係 (or of the 課 when there is no 係), or None."""
        ...

    def department_head_of(self, person: Person) -> Person | None:
        """Return the 課長 of the person's 課, or None."""
        ...

    def by_title(self, title: str) -> list[Person]:
        """Return everyone with this title, in a stable order."""
        ...

    def by_department_title(self, code: str, title: str) -> list[Person]:
        """Return everyone with this title in the department with this code."""
        ...

    def by_username(self, username: str) -> Person | None:
        """Return the person with this username, or None."""
        ...


class UnresolvableApprover(Exception):
    """A step's approver cannot be determined at submission (nobody, several people, only the drafter)."""

    def __init__(self, message_ja: str, step_index: int) -> None:
        super().__init__(f"step {step_index}: {message_ja}")
        self.message_ja = message_ja
        self.step_index = step_index


@dataclass(frozen=True)
class ResolvedApprover:
    """One person on one step; ``skipped`` is None, ``drafter`` or ``duplicate``."""

    person: Person
    skipped: str | None = None


@dataclass(frozen=True)
class ResolvedStep:
    """A step of a request's frozen route.

    ``skipped`` is set (``drafter`` / ``duplicate`` / ``vacant``) when no one acts on the step at all.
    ``label`` is the 決裁区分 of the decide step, ``mode`` the consult mode.
    """

    index: int
    kind: str
    approvers: tuple[ResolvedApprover, ...]
    mode: str | None = None
    label: str | None = None
    step_id: str | None = None
    skipped: str | None = None

    @property
    def active(self) -> tuple[Person, ...]:
        """Return the people who act on this step (not skipped)."""
        return () if self.skipped else tuple(a.person for a in self.approvers if a.skipped is None)


@dataclass
class _Draft:
    """A step under construction: mutable, so the duplicate pass can look back one step."""

    template: StepTemplate
    index: int
    members: list[list] = field(default_factory=list)  # [Person, skip reason | None]
    label: str | None = None
    skipped: str | None = None

    def active_ids(self) -> set[int]:
        return set() if self.skipped else {p.id for p, reason in self.members if reason is None}

    def settle(self) -> None:
        """Skip the whole step when every member is skipped."""
        reasons = [reason for _, reason in self.members]
        if reasons and all(reasons):
            self.skipped = SKIP_DRAFTER if all(r == SKIP_DRAFTER for r in reasons) else SKIP_DUPLICATE


def _describe(selector: Selector) -> str:
    if selector.relation == "section_chief":
        return "起案者の係長"
    if selector.relation == "department_head":
        return "起案者の課長"
    if selector.user is not None:
        return f"ユーザー「{selector.user}」"
    if selector.department is not None:
        return f"課コード{selector.department}の「{selector.title}」"
    return f"職名「{selector.title}」"


def _lookup(selector: Selector, drafter: Person, directory: Directory) -> list[Person]:
    if selector.relation == "section_chief":
        found = [directory.section_chief_of(drafter)]
    elif selector.relation == "department_head":
        found = [directory.department_head_of(drafter)]
    elif selector.user is not None:
        found = [directory.by_username(selector.user)]
    elif selector.department is not None:
        found = list(directory.by_department_title(selector.department, selector.title or ""))
    else:
        found = list(directory.by_title(selector.title or ""))
    unique: dict[int, Person] = {}
    for person in found:
        if person is not None:
            unique.setdefault(person.id, person)
    return list(unique.values())


def _one(selector: Selector, drafter: Person, directory: Directory, index: int) -> Person | None:
    """Return the single person a selector names, None when nobody; raise when several match."""
    people = _lookup(selector, drafter, directory)
    if len(people) > 1:
        raise UnresolvableApprover(
            f"{_describe(selector)}に{len(people)}人が該当するため、承認者を1人に決められません。", index
        )
    return people[0] if people else None


def _not_found(selector: Selector, index: int) -> UnresolvableApprover:
    return UnresolvableApprover(f"{_describe(selector)}に該当する職員が見つかりません。", index)


def _decide(draft: _Draft, drafter: Person, amount: int, directory: Directory) -> None:
    rules = draft.template.authority
    first = next(i for i, r in enumerate(rules) if r.max_amount is None or amount <= r.max_amount)
    for rule in rules[first:]:
        person = _one(rule.approver, drafter, directory, draft.index)
        if person is None:
            raise _not_found(rule.approver, draft.index)
        if person.id != drafter.id:  # nobody approves his own 起案: escalate to the next rule
            draft.members = [[person, None]]
            draft.label = rule.effective_label
            return
    raise UnresolvableApprover(
        "起案者本人が決裁者となるため、決裁できる上位の決裁区分がありません。", draft.index
    )


def _fill(draft: _Draft, drafter: Person, amount: int, directory: Directory) -> None:
    step = draft.template
    if step.kind == "decide":
        _decide(draft, drafter, amount, directory)
        return
    if step.kind == "review":
        assert step.approver is not None
        person = _one(step.approver, drafter, directory, draft.index)
        if person is None:
            if not step.optional:
                raise _not_found(step.approver, draft.index)
            draft.skipped = SKIP_VACANT
            return
        people = [person]
    else:
        people = []
        for selector in step.approvers:
            found = _lookup(selector, drafter, directory)
            if not found and not step.optional:
                raise _not_found(selector, draft.index)
            people.extend(p for p in found if p.id not in {q.id for q in people})
        if not people:
            draft.skipped = SKIP_VACANT
            return
    draft.members = [[p, SKIP_DRAFTER if p.id == drafter.id else None] for p in people]
    draft.settle()


def _mark_duplicates(drafts: list[_Draft]) -> None:
    prev: _Draft | None = None  # the nearest earlier step whose approvers actually act
    for draft in drafts:
        if draft.skipped or draft.template.kind == "circulate":
            continue
        prev_ids = prev.active_ids() if prev is not None else set()
        if draft.template.kind == "decide":
            if prev is not None and draft.members[0][0].id in prev_ids:
                for member in prev.members:
                    if member[0].id == draft.members[0][0].id:
                        member[1] = SKIP_DUPLICATE
                prev.settle()
            continue
        for member in draft.members:
            if member[1] is None and member[0].id in prev_ids:
                member[1] = SKIP_DUPLICATE
        draft.settle()
        if not draft.skipped:
            prev = draft


def resolve_route(
    template: RouteTemplate, drafter: Person, amount: int | None, directory: Directory
) -> list[ResolvedStep]:
    """Resolve every step of ``template`` for ``drafter`` and ``amount`` (yen; None counts as 0).

    Returns one :class:`ResolvedStep` per template step, in order, with skips marked.
    Raises :class:`UnresolvableApprover` (with the step index) when a required approver cannot be
    determined, and ``ValueError`` for a negative amount. See the module docstring for the rules.
    """
    amount = 0 if amount is None else amount
    if amount < 0:
        raise ValueError("amount must not be negative")
    drafts = [_Draft(step, i) for i, step in enumerate(template.steps)]
    for draft in drafts:
        _fill(draft, drafter, amount, directory)
    _mark_duplicates(drafts)
    return [
        ResolvedStep(
            index=d.index,
            kind=d.template.kind,
            approvers=tuple(ResolvedApprover(p, reason) for p, reason in d.members),
            mode=d.template.mode,
            label=d.label,
            step_id=d.template.id,
            skipped=d.skipped,
        )
        for d in drafts
    ]
