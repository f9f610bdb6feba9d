"""Route templates (決裁ルート) as data: parsing, validation, export and approver resolution.

A template is plain JSON, one per document type, and is stored as a versioned snapshot: a request keeps
the resolved route it was submitted with, so editing a template never changes requests in flight.

Format (keys of the original format are kept; extensions are marked *)::

    {"key": "general", "name": "一般文書", "number_format": "榛{dept_prefix}第{n}号", "number_at": "decision",
     "steps": [
       {"kind": "review", "approver": {"relation": "section_chief"}, "id"*: "kakari", "optional"*: true},
       {"kind": "consult", "mode": "all", "approvers": [{"department": "02", "title": "課長"}]},
       {"kind": "circulate", "approvers": [{"department": "07", "title": "課長"}]},
       {"kind": "decide", "authority": [
           {"max_amount": 500000, "approver": {"relation": "department_head"}, "label"*: "課長専決"},
           {"approver": {"title": "村長"}}]}]}

* ``id``: an optional step name ``[a-z0-9_-]{1,40}``, unique within the route.
* ``optional``: on review/consult/circulate only; a selector that resolves to nobody (a vacant post)
  skips the step (reason ``vacant``) instead of failing the submission. ``decide`` is never optional.
* ``choose``: on consult only; the drafter picks which of the step's departments are consulted
  (every approver of such a step is a ``department``+``title`` selector). The choice is kept on the
  request as ``{"<step index>": ["<department code>", …]}``; departments not chosen are left out, and
  a step with none chosen is left out of the route altogether (no empty 合議 box). Applied by
  :func:`apply_consult_choice` before resolution.
* ``label``: the 決裁区分 of an authority rule, printed on the PDF. Without it: ``課長専決`` for
  ``department_head``, ``係長専決`` for ``section_chief``, ``{title}決裁`` for title selectors and
  ``決裁`` for a named user.

"Cycles": a route is an ordered list and the format has no step-to-step references, so the only
way to make one ambiguous is to give two steps the same ``id`` (a later reference by id could then
point backwards); duplicate ids are rejected, as are duplicate selectors inside one group.

The types a template is made of (:class:`RouteTemplate`, :class:`StepTemplate`, :class:`Selector`,
:class:`AuthorityRule`) are in :mod:`approvals.route_types`; resolution (:func:`resolve_route`) is in
:mod:`approvals.resolution`. Both are re-exported here.
"""

from __future__ import annotations

import re
import string
from dataclasses import replace
from typing import Any

# Re-exported so callers can import everything about routes from one place.
from approvals.resolution import (
    Directory,
    Person,
    ResolvedApprover,
    ResolvedStep,
    UnresolvableApprover,
    resolve_route,
)
from approvals.route_types import (
    CONSULT_MODES,
    DEFAULT_NUMBER_FORMAT,
    NUMBER_AT,
    RELATIONS,
    STEP_KINDS,
    AuthorityRule,
    RouteTemplate,
    Selector,
    StepTemplate,
)
from workspace.text import TextRefused, clean_line

__all__ = [
    "AuthorityRule",
    "Directory",
    "Person",
    "ResolvedApprover",
    "ResolvedStep",
    "RouteTemplate",
    "RouteTemplateError",
    "Selector",
    "StepTemplate",
    "UnresolvableApprover",
    "apply_consult_choice",
    "parse_template",
    "resolve_route",
    "template_to_json",
]

NUMBER_PLACEHOLDERS = frozenset({"dept_prefix", "n", "fiscal_year", "era_year"})
MAX_STEPS = 30
MAX_GROUP = 50
MAX_AUTHORITY_RULES = 10
MAX_NAME = 100
MAX_LABEL = 40
MAX_TEXT = 64  # titles, department codes, usernames
MAX_AMOUNT = 10**13  # 10 兆円: anything above is a typo, not a 事務決裁規程

_KEY_RE = re.compile(r"[a-z0-9_-]{1,40}")
_TEMPLATE_KEYS = frozenset({"key", "name", "number_format", "number_at", "steps"})
_STEP_KEYS = {
    "review": frozenset({"kind", "id", "approver", "optional"}),
    "consult": frozenset({"kind", "id", "mode", "approvers", "optional", "choose"}),
    "circulate": frozenset({"kind", "id", "approvers", "optional"}),
    "decide": frozenset({"kind", "id", "authority"}),
}
_SELECTOR_SHAPES = (
    frozenset({"relation"}),
    frozenset({"title"}),
    frozenset({"department", "title"}),
    frozenset({"user"}),
)


class RouteTemplateError(ValueError):
    """A route template is invalid; ``path`` points at the offending value (e.g. ``steps[2].mode``)."""

    def __init__(self, message_ja: str, path: str) -> None:
        super().__init__(f"{path}: {message_ja}")
        self.message_ja = message_ja
        self.path = path


def _fail(message_ja: str, path: str) -> RouteTemplateError:
    return RouteTemplateError(message_ja, path)


def _text(value: Any, path: str, *, max_len: int = MAX_TEXT, what: str = "値") -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{what}は空でない文字列で指定してください。", path)
    if len(value) > max_len:
        raise _fail(f"{what}は{max_len}文字以内で指定してください。", path)
    try:
        return clean_line(value, what)  # names, titles and codes shown on pages and the 起案用紙
    except TextRefused as error:
        raise _fail(str(error), path) from None


def _check_keys(data: dict[str, Any], allowed: frozenset[str], path: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(
            f"不明な項目があります: {', '.join(unknown)}", f"{path}.{unknown[0]}" if path else unknown[0]
        )


def _parse_selector(data: Any, path: str) -> Selector:
    if not isinstance(data, dict):
        raise _fail("承認者の指定はオブジェクトで指定してください。", path)
    if frozenset(data) not in _SELECTOR_SHAPES:
        raise _fail(
            "承認者の指定が不明な形式です（relation / title / department+title / user のいずれか）。", path
        )
    if "relation" in data:
        if data["relation"] not in RELATIONS:
            raise _fail(
                "relation は section_chief か department_head を指定してください。", f"{path}.relation"
            )
        return Selector(relation=data["relation"])
    if "user" in data:
        return Selector(user=_text(data["user"], f"{path}.user", what="ユーザー名"))
    title = _text(data["title"], f"{path}.title", what="職名")
    department = None
    if "department" in data:
        department = _text(data["department"], f"{path}.department", what="課コード")
    return Selector(title=title, department=department)


def _parse_group(data: dict[str, Any], path: str) -> tuple[Selector, ...]:
    approvers = data.get("approvers")
    if not isinstance(approvers, list) or not approvers:
        raise _fail("approvers には1人以上の承認者を指定してください。", f"{path}.approvers")
    if len(approvers) > MAX_GROUP:
        raise _fail(f"approvers は{MAX_GROUP}件以内で指定してください。", f"{path}.approvers")
    selectors = tuple(_parse_selector(a, f"{path}.approvers[{i}]") for i, a in enumerate(approvers))
    for i, selector in enumerate(selectors):
        if selector in selectors[:i]:
            raise _fail("同じ承認者が重複して指定されています。", f"{path}.approvers[{i}]")
    return selectors


def _parse_authority(data: Any, path: str) -> tuple[AuthorityRule, ...]:
    if not isinstance(data, list) or not data:
        raise _fail("authority には1件以上の決裁区分を指定してください。", path)
    if len(data) > MAX_AUTHORITY_RULES:
        raise _fail(f"authority は{MAX_AUTHORITY_RULES}件以内で指定してください。", path)
    rules: list[AuthorityRule] = []
    for i, raw in enumerate(data):
        rpath = f"{path}[{i}]"
        if not isinstance(raw, dict):
            raise _fail("決裁区分はオブジェクトで指定してください。", rpath)
        _check_keys(raw, frozenset({"max_amount", "approver", "label"}), rpath)
        if "approver" not in raw:
            raise _fail("approver がありません。", f"{rpath}.approver")
        max_amount = raw.get("max_amount")
        if max_amount is not None and (
            isinstance(max_amount, bool)
            or not isinstance(max_amount, int)
            or not 0 <= max_amount <= MAX_AMOUNT
        ):
            raise _fail("max_amount は0以上の整数（円）で指定してください。", f"{rpath}.max_amount")
        label = raw.get("label")
        if label is not None:
            label = _text(label, f"{rpath}.label", max_len=MAX_LABEL, what="決裁区分名")
        rules.append(AuthorityRule(_parse_selector(raw["approver"], f"{rpath}.approver"), max_amount, label))
    # The first rule that covers the amount wins, so bounds must grow and the last must cover everything.
    for i, rule in enumerate(rules[:-1]):
        if rule.max_amount is None:
            raise _fail("上限のない決裁区分は最後に1件だけ置いてください。", f"{path}[{i}].max_amount")
        nxt = rules[i + 1].max_amount
        if nxt is not None and nxt <= rule.max_amount:
            raise _fail("max_amount は小さい順に並べてください。", f"{path}[{i + 1}].max_amount")
    if rules[-1].max_amount is not None:
        raise _fail(
            "最後の決裁区分は上限なし（max_amount を省略）にしてください。", f"{path}[{len(rules) - 1}]"
        )
    return tuple(rules)


def _parse_step(data: Any, path: str) -> StepTemplate:
    if not isinstance(data, dict):
        raise _fail("ステップはオブジェクトで指定してください。", path)
    kind = data.get("kind")
    if kind not in STEP_KINDS:
        raise _fail("kind は review / consult / circulate / decide のいずれかです。", f"{path}.kind")
    _check_keys(data, _STEP_KEYS[kind], path)
    step_id = data.get("id")
    if step_id is not None and (not isinstance(step_id, str) or not _KEY_RE.fullmatch(step_id)):
        raise _fail("id は英小文字・数字・_・- の40文字以内で指定してください。", f"{path}.id")
    optional = data.get("optional", False)
    if not isinstance(optional, bool):
        raise _fail("optional は true か false で指定してください。", f"{path}.optional")
    if kind == "review":
        if "approver" not in data:
            raise _fail("approver がありません。", f"{path}.approver")
        approver = _parse_selector(data["approver"], f"{path}.approver")
        return StepTemplate(kind, approver=approver, id=step_id, optional=optional)
    if kind == "decide":
        return StepTemplate(
            kind, authority=_parse_authority(data.get("authority"), f"{path}.authority"), id=step_id
        )
    mode = None
    choose = data.get("choose", False)
    if not isinstance(choose, bool):
        raise _fail("choose は true か false で指定してください。", f"{path}.choose")
    if kind == "consult":
        mode = data.get("mode", "all")
        if mode not in CONSULT_MODES:
            raise _fail("mode は all か any を指定してください。", f"{path}.mode")
    approvers = _parse_group(data, path)
    if choose and any(a.department is None for a in approvers):
        raise _fail(
            "choose のある合議では、承認者をすべて department+title で指定してください。", f"{path}.approvers"
        )
    return StepTemplate(kind, approvers=approvers, mode=mode, id=step_id, optional=optional, choose=choose)


def _check_number_format(value: Any) -> str:
    path = "number_format"
    text = _text(value, path, max_len=MAX_NAME, what="文書番号の書式")
    try:
        fields = [
            (name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None
        ]
    except ValueError as exc:
        raise _fail("文書番号の書式の { } が正しくありません。", path) from exc
    for name, spec, conv in fields:
        if name not in NUMBER_PLACEHOLDERS:
            raise _fail(f"文書番号の書式に使えない差込項目です: {{{name}}}", path)
        if conv:
            raise _fail("文書番号の書式に変換指定（!r など）は使えません。", path)
        if spec and name != "n":
            raise _fail("書式指定（:03d など）は {n} にだけ使えます。", path)
    if "n" not in {name for name, _, _ in fields}:
        raise _fail("文書番号の書式には {n}（連番）が必要です。", path)
    try:
        text.format(dept_prefix="総", n=1, fiscal_year=2026, era_year=8)
    except (ValueError, TypeError) as exc:
        raise _fail("文書番号の書式の {n} の書式指定が正しくありません。", path) from exc
    return text


def parse_template(data: Any) -> RouteTemplate:
    """Validate a route template given as decoded JSON.

    Returns the :class:`RouteTemplate`. Raises :class:`RouteTemplateError` (Japanese message and a JSON
    path) for anything malformed: see the module docstring for the format and the rules.
    """
    if not isinstance(data, dict):
        raise _fail("ルート定義はJSONオブジェクトで指定してください。", "$")
    for required in ("key", "name", "steps"):
        if required not in data:
            raise _fail(f"{required} がありません。", required)
    _check_keys(data, _TEMPLATE_KEYS, "")
    key = data["key"]
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise _fail("key は英小文字・数字・_・- の40文字以内で指定してください。", "key")
    name = _text(data["name"], "name", max_len=MAX_NAME, what="名称")
    number_format = _check_number_format(data.get("number_format", DEFAULT_NUMBER_FORMAT))
    number_at = data.get("number_at", "decision")
    if number_at not in NUMBER_AT:
        raise _fail("number_at は decision か submission を指定してください。", "number_at")
    raw_steps = data["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _fail("steps には1件以上のステップを指定してください。", "steps")
    if len(raw_steps) > MAX_STEPS:
        raise _fail(f"ステップは{MAX_STEPS}件以内にしてください。", "steps")
    steps = tuple(_parse_step(s, f"steps[{i}]") for i, s in enumerate(raw_steps))
    decides = [i for i, s in enumerate(steps) if s.kind == "decide"]
    if not decides:
        raise _fail("決裁（decide）ステップがありません。", "steps")
    if len(decides) > 1:
        raise _fail("決裁（decide）ステップは1つだけにしてください。", f"steps[{decides[1]}]")
    if decides[0] != len(steps) - 1:
        raise _fail("決裁（decide）ステップは最後に置いてください。", f"steps[{decides[0]}]")
    seen: set[str] = set()
    for i, step in enumerate(steps):
        if step.id is not None:
            if step.id in seen:
                raise _fail(f"ステップの id が重複しています: {step.id}", f"steps[{i}].id")
            seen.add(step.id)
    return RouteTemplate(key=key, name=name, steps=steps, number_format=number_format, number_at=number_at)


def _step_to_json(step: StepTemplate) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": step.kind}
    if step.id is not None:
        out["id"] = step.id
    if step.kind == "review":
        assert step.approver is not None
        out["approver"] = step.approver.to_json()
    elif step.kind == "decide":
        out["authority"] = [
            {
                **({"max_amount": r.max_amount} if r.max_amount is not None else {}),
                "approver": r.approver.to_json(),
                **({"label": r.label} if r.label is not None else {}),
            }
            for r in step.authority
        ]
    else:
        if step.mode is not None:
            out["mode"] = step.mode
        out["approvers"] = [a.to_json() for a in step.approvers]
    if step.optional:
        out["optional"] = True
    if step.choose:
        out["choose"] = True
    return out


def template_to_json(template: RouteTemplate) -> dict[str, Any]:
    """Return the template as JSON-ready data; ``parse_template(template_to_json(t)) == t``."""
    return {
        "key": template.key,
        "name": template.name,
        "number_format": template.number_format,
        "number_at": template.number_at,
        "steps": [_step_to_json(s) for s in template.steps],
    }


def apply_consult_choice(template: RouteTemplate, choice: dict[str, list[str]] | None) -> RouteTemplate:
    """Return ``template`` with each ``choose`` step cut to the departments chosen for it.

    A ``choose`` step with nothing chosen is dropped, so the route (and the 決裁欄) has no 合議 for it.
    ``choice`` must already be checked against the template (see ``service.check_consult_choice``).
    """
    choice = choice or {}
    steps: list[StepTemplate] = []
    for index, step in enumerate(template.steps):
        if step.choose:
            chosen = set(choice.get(str(index), ()))
            kept = tuple(a for a in step.approvers if a.department in chosen)
            if not kept:
                continue
            step = replace(step, approvers=kept)
        steps.append(step)
    return replace(template, steps=tuple(steps))
