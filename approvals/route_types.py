"""The types of a route template (決裁ルート): steps of four kinds, who approves, the 決裁区分.

Plain frozen data, built by :func:`approvals.routes.parse_template` (which validates it and documents
the JSON format) and read by :mod:`approvals.resolution` when a request is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

STEP_KINDS = ("review", "consult", "circulate", "decide")  # 回議, 合議, 供覧, 決裁
RELATIONS = ("section_chief", "department_head")
CONSULT_MODES = ("all", "any")
NUMBER_AT = ("decision", "submission")
DEFAULT_NUMBER_FORMAT = "{dept_prefix}第{n}号"


@dataclass(frozen=True)
class Selector:
    """Who approves: exactly one of the four shapes is set (relation | title | department+title | user)."""

    relation: str | None = None
    title: str | None = None
    department: str | None = None
    user: str | None = None

    @property
    def single(self) -> bool:
        """True when the selector names one post or person, so several matches are an error."""
        return self.relation is not None or self.user is not None

    def to_json(self) -> dict[str, str]:
        """Return the selector as its JSON object (only the keys that are set)."""
        fields = (("relation", self.relation), ("department", self.department), ("title", self.title))
        out = {k: v for k, v in (*fields, ("user", self.user)) if v is not None}
        return out

    def default_label(self) -> str:
        """Return the 決裁区分 shown when an authority rule has no explicit label."""
        if self.relation == "department_head":
            return "課長専決"
        if self.relation == "section_chief":
            return "係長専決"
        if self.title is not None:
            return f"{self.title}決裁"
        return "決裁"


@dataclass(frozen=True)
class AuthorityRule:
    """One line of the 事務決裁規程: up to ``max_amount`` yen (None = any amount) ``approver`` decides."""

    approver: Selector
    max_amount: int | None = None
    label: str | None = None

    @property
    def effective_label(self) -> str:
        """Return the explicit label or the one derived from the selector."""
        return self.label if self.label is not None else self.approver.default_label()


@dataclass(frozen=True)
class StepTemplate:
    """One step of a route. Which fields are used depends on ``kind`` (see the module docstring)."""

    kind: str
    approver: Selector | None = None  # review
    approvers: tuple[Selector, ...] = ()  # consult, circulate
    mode: str | None = None  # consult
    authority: tuple[AuthorityRule, ...] = ()  # decide
    id: str | None = None
    optional: bool = False
    choose: bool = False  # consult: the drafter picks the departments

    def choosable_departments(self) -> tuple[str, ...]:
        """Return the department codes the drafter may pick from (empty unless ``choose``)."""
        if not self.choose:
            return ()
        return tuple(a.department for a in self.approvers if a.department is not None)


@dataclass(frozen=True)
class RouteTemplate:
    """A validated route template; build it with :func:`parse_template`."""

    key: str
    name: str
    steps: tuple[StepTemplate, ...]
    number_format: str = DEFAULT_NUMBER_FORMAT
    number_at: str = "decision"
