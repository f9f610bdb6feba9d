"""決裁ルート in 管理: the rules behind the route editor, the import, the version history and the 試算.

The pages of :mod:`approvals.admin_routes` and the API call these functions; no rule is written in a
view or in the browser's script (which only asks :func:`check_form` and shows the answer).

* The editor's form is a list of steps, each with rows (承認者の指定: one row for 回議, one per
  member for 合議/供覧, one per 決裁区分 for 決裁). :func:`form_state` reads the posted form into that
  shape, :func:`definition_from_form` turns it into the JSON of :mod:`approvals.routes` (refusing a
  専決 amount that is not a number, a row without its value, a step without any row), and
  :func:`check` validates the JSON: the format rules of :func:`approvals.routes.parse_template`, then
  the directory (an unknown 役職, 課 or 職員 is refused here, where an administrator edits a route;
  the bare ``POST /api/v1/approval-routes`` import keeps accepting a route before the directory is
  synced).
* Every refusal is a :class:`RouteProblems` (an :class:`Invalid`, 422) with one ``{"field",
  "message"}`` per problem; ``field`` is the form field's name (``steps-1-rules-0-max_amount``), the
  JSON path of the import is mapped to it with :func:`field_for_path`.
* Saving (:func:`save`) makes a NEW version with :func:`approvals.route_store.save` (audited there with
  before and after); requests already submitted keep the version they were submitted with.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from approvals import route_store
from approvals.directory_adapter import DbDirectory, person_of
from approvals.errors import Invalid, NotFound
from approvals.labels import KIND_LABELS
from approvals.models import RouteTemplateVersion
from approvals.resolution import ResolvedStep, UnresolvableApprover, resolve_route
from approvals.route_types import STEP_KINDS, RouteTemplate, Selector, StepTemplate
from approvals.routes import RouteTemplateError, parse_template
from approvals.service import parse_amount
from workspace import db, directory, inputs
from workspace.models import User

RELATION_LABELS = {"section_chief": "起案者の係長", "department_head": "起案者の課長"}
#: How a row names its approver (the editor's 「指定の仕方」).
RULE_TYPES = {"relation": "起案者との関係", "title": "役職", "department_title": "課と役職", "user": "職員"}
MODE_LABELS = {"all": "全員", "any": "いずれか"}
MAX_IMPORT_CHARS = 200_000
_ROW_FIELDS = ("type", "relation", "title", "department", "user", "max_amount", "label")


class RouteProblems(Invalid):
    """A refused route: ``problems`` lists every ``{"field", "message"}`` found (the first is ``field``)."""

    code = "invalid_route"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        first = problems[0]
        super().__init__(first["message"], field=first["field"], problems=problems)
        self.problems = problems


# -- JSON path → form field --------------------------------------------------------------------------

_STEP_PATH = re.compile(r"steps\[(\d+)\](.*)")
_GROUP_PATH = re.compile(r"\.(approvers|authority)\[(\d+)\](.*)")


def field_for_path(path: str) -> str:
    """Return the editor's field name for a JSON path of :class:`RouteTemplateError`."""
    match = _STEP_PATH.fullmatch(path)
    if match is None:
        return "definition" if path == "$" else path.split(".", 1)[0]
    i, rest = match.group(1), match.group(2)
    if not rest:
        return f"steps-{i}"
    group = _GROUP_PATH.fullmatch(rest)
    if group is not None:
        j, tail = group.group(2), group.group(3)
        attr = tail.rsplit(".", 1)[-1] if tail else ""
        if attr in _ROW_FIELDS:
            return f"steps-{i}-rules-{j}-{attr}"
        if group.group(1) == "authority" and not tail:
            return f"steps-{i}-rules-{j}-max_amount"  # 「最後の決裁区分は上限なし」
        return f"steps-{i}-rules-{j}-type"
    if rest in (".approvers", ".authority"):
        return f"steps-{i}-rules"
    if rest.startswith(".approver"):
        attr = rest.rsplit(".", 1)[-1]
        return f"steps-{i}-rules-0-{attr if attr in _ROW_FIELDS else 'type'}"
    return f"steps-{i}-{rest.lstrip('.').split('.', 1)[0]}"


# -- the editor's form ---------------------------------------------------------------------------------


def _blank_row() -> dict[str, str]:
    return {name: "" for name in _ROW_FIELDS} | {"type": "title"}


def blank_step(kind: str = "review") -> dict[str, Any]:
    """Return a new step of the editor (one empty row)."""
    return {
        "kind": kind,
        "id": "",
        "optional": False,
        "choose": False,
        "mode": "all",
        "rules": [_blank_row()],
    }


def _row_of(selector: Selector, rule: Any = None) -> dict[str, str]:
    row = _blank_row()
    if selector.relation is not None:
        row.update(type="relation", relation=selector.relation)
    elif selector.user is not None:
        row.update(type="user", user=selector.user)
    elif selector.department is not None:
        row.update(type="department_title", department=selector.department, title=selector.title or "")
    else:
        row.update(type="title", title=selector.title or "")
    if rule is not None:
        row["max_amount"] = "" if rule.max_amount is None else str(rule.max_amount)
        row["label"] = rule.label or ""
    return row


def state_of_template(template: RouteTemplate) -> dict[str, Any]:
    """Return the editor's state (what :func:`form_state` reads back) for a stored template."""
    steps = []
    for step in template.steps:
        if step.kind == "review" and step.approver is not None:
            rules = [_row_of(step.approver)]
        elif step.kind == "decide":
            rules = [_row_of(r.approver, r) for r in step.authority]
        else:
            rules = [_row_of(s) for s in step.approvers]
        steps.append(
            {
                "kind": step.kind,
                "id": step.id or "",
                "optional": step.optional,
                "choose": step.choose,
                "mode": step.mode or "all",
                "rules": rules,
            }
        )
    return {
        "key": template.key,
        "name": template.name,
        "number_format": template.number_format,
        "number_at": template.number_at,
        "steps": steps,
    }


def new_state() -> dict[str, Any]:
    """Return the editor's state of a new route: 回議 by the 係長, then 課長専決 / 村長決裁."""
    decide = blank_step("decide")
    decide["rules"] = [
        _blank_row() | {"type": "relation", "relation": "department_head", "max_amount": "0"},
        _blank_row() | {"type": "title", "title": "村長"},
    ]
    review = blank_step("review")
    review["rules"] = [_blank_row() | {"type": "relation", "relation": "section_chief"}]
    review["optional"] = True
    return {
        "key": "",
        "name": "",
        "number_format": "{dept_prefix}第{n}号",
        "number_at": "decision",
        "steps": [review, decide],
    }


def _indices(form: Mapping[str, str], pattern: re.Pattern[str]) -> list[int]:
    found = {int(m.group(1)) for name in form if (m := pattern.fullmatch(name))}
    return sorted(found)


def form_state(form: Mapping[str, str]) -> dict[str, Any]:
    """Read the posted editor form (``steps-<i>-kind``, ``steps-<i>-rules-<j>-title`` …) into its state."""
    steps = []
    for i in _indices(form, re.compile(r"steps-(\d+)-kind")):
        p = f"steps-{i}-"
        rules = []
        for j in _indices(form, re.compile(rf"steps-{i}-rules-(\d+)-type")):
            rules.append({name: str(form.get(f"{p}rules-{j}-{name}", "")) for name in _ROW_FIELDS})
        steps.append(
            {
                "kind": str(form.get(p + "kind", "")),
                "id": str(form.get(p + "id", "")),
                "optional": bool(form.get(p + "optional")),
                "choose": bool(form.get(p + "choose")),
                "mode": str(form.get(p + "mode", "all")),
                "rules": rules,
            }
        )
    return {
        "key": str(form.get("key", "")).strip(),
        "name": str(form.get("name", "")),
        "number_format": str(form.get("number_format", "")),
        "number_at": str(form.get("number_at", "decision")),
        "steps": steps,
    }


def apply_op(state: dict[str, Any], op: str) -> dict[str, Any]:
    """Apply an editor button (追加・削除・上へ・下へ) to the state; an unknown op changes nothing."""
    steps: list[dict[str, Any]] = state["steps"]
    parts = op.split("-")
    try:
        numbers = [int(p) for p in parts[1:]]
    except ValueError:
        return state
    name = parts[0]
    if name == "addstep":
        # A new step goes before the 決裁 (which stays last).
        at = len(steps) - 1 if steps and steps[-1]["kind"] == "decide" else len(steps)
        steps.insert(max(at, 0), blank_step("review"))
    elif len(numbers) >= 1 and 0 <= numbers[0] < len(steps):
        i = numbers[0]
        if name == "removestep":
            del steps[i]
        elif name == "up" and i > 0:
            steps[i - 1], steps[i] = steps[i], steps[i - 1]
        elif name == "down" and i < len(steps) - 1:
            steps[i + 1], steps[i] = steps[i], steps[i + 1]
        elif name == "addrule":
            steps[i]["rules"].append(_blank_row())
        elif name == "removerule" and len(numbers) == 2 and 0 <= numbers[1] < len(steps[i]["rules"]):
            del steps[i]["rules"][numbers[1]]
    return state


def _selector_json(row: dict[str, str], field: str, problems: list[dict[str, str]]) -> dict[str, str] | None:
    kind = row.get("type")
    value_field = {"relation": "relation", "user": "user", "title": "title", "department_title": "title"}
    if kind not in value_field:
        problems.append({"field": f"{field}-type", "message": "指定の仕方を選んでください。"})
        return None
    wanted = value_field[kind]
    value = (row.get(wanted) or "").strip()
    if kind == "department_title" and not (row.get("department") or "").strip():
        problems.append({"field": f"{field}-department", "message": "課を選んでください。"})
        return None
    if not value:
        words = {
            "relation": "起案者との関係を選んでください。",
            "user": "職員を選んでください。",
            "title": "役職を入力してください。",
        }
        problems.append({"field": f"{field}-{wanted}", "message": words[wanted]})
        return None
    if kind == "department_title":
        return {"department": row["department"].strip(), "title": value}
    return {wanted: value}


def _amount(raw: str, field: str, problems: list[dict[str, str]]) -> int | None:
    text = raw.strip().replace(",", "").replace("円", "")
    if not text:
        return None
    number = inputs.parse_int(text, 0, 10**13)
    if number is None:
        problems.append(
            {"field": field, "message": "専決の上限額は0以上の整数（円、半角数字）で入力してください。"}
        )
    return number


def definition_from_form(state: dict[str, Any]) -> dict[str, Any]:
    """Turn the editor's state into the route JSON; raise :class:`RouteProblems` for what the form
    itself cannot express (a 専決 amount that is not a number, a row without its value, an empty step)."""
    problems: list[dict[str, str]] = []
    steps = []
    for i, step in enumerate(state["steps"]):
        field = f"steps-{i}"
        kind = step["kind"]
        out: dict[str, Any] = {"kind": kind}
        if step.get("id"):
            out["id"] = step["id"]
        rows = step["rules"]
        if not rows:
            problems.append(
                {"field": f"{field}-rules", "message": "このステップの承認者を1人以上指定してください。"}
            )
        if kind == "review":
            if len(rows) > 1:
                problems.append(
                    {
                        "field": f"{field}-rules",
                        "message": "回議の承認者は1人だけです。複数なら合議にしてください。",
                    }
                )
            selector = _selector_json(rows[0], f"{field}-rules-0", problems) if rows else None
            if selector is not None:
                out["approver"] = selector
        elif kind == "decide":
            authority = []
            for j, row in enumerate(rows):
                rule: dict[str, Any] = {}
                amount = _amount(row.get("max_amount", ""), f"{field}-rules-{j}-max_amount", problems)
                if amount is not None:
                    rule["max_amount"] = amount
                selector = _selector_json(row, f"{field}-rules-{j}", problems)
                if selector is not None:
                    rule["approver"] = selector
                if (row.get("label") or "").strip():
                    rule["label"] = row["label"].strip()
                authority.append(rule)
            out["authority"] = authority
        elif kind in STEP_KINDS:
            if kind == "consult":
                out["mode"] = step.get("mode") or "all"
                if step.get("choose"):
                    out["choose"] = True
            out["approvers"] = [
                s for j, row in enumerate(rows) if (s := _selector_json(row, f"{field}-rules-{j}", problems))
            ]
        else:
            problems.append({"field": f"{field}-kind", "message": "種類を選んでください。"})
        if step.get("optional") and kind != "decide":
            out["optional"] = True
        steps.append(out)
    if problems:
        raise RouteProblems(problems)
    return {
        "key": state["key"],
        "name": state["name"],
        "number_format": state["number_format"],
        "number_at": state["number_at"],
        "steps": steps,
    }


# -- the rules -------------------------------------------------------------------------------------------


def known_titles() -> list[str]:
    """Return the 役職 of active staff (what a title selector may name), sorted."""
    query = select(User.title).where(User.active.is_(True), User.title.is_not(None)).distinct()
    return sorted({t for t in db.session().execute(query).scalars() if t})


def _selectors(step: StepTemplate) -> list[tuple[str, Selector]]:
    if step.kind == "review" and step.approver is not None:
        return [("rules-0", step.approver)]
    if step.kind == "decide":
        return [(f"rules-{j}", r.approver) for j, r in enumerate(step.authority)]
    return [(f"rules-{j}", s) for j, s in enumerate(step.approvers)]


def _directory_problems(template: RouteTemplate) -> list[dict[str, str]]:
    titles = set(known_titles())
    codes = {d.code for d in directory.list_departments(include_sections=True)}
    problems = []
    for i, step in enumerate(template.steps):
        for place, selector in _selectors(step):
            field = f"steps-{i}-{place}"
            if selector.title is not None and selector.title not in titles:
                problems.append(
                    {
                        "field": f"{field}-title",
                        "message": f"役職「{selector.title}」の職員が登録されていません。",
                    }
                )
            if selector.department is not None and selector.department not in codes:
                problems.append(
                    {
                        "field": f"{field}-department",
                        "message": f"課コード「{selector.department}」の課は登録されていません。",
                    }
                )
            if selector.user is not None:
                user = directory.get_user(selector.user)
                if user is None or not user.active:
                    problems.append(
                        {
                            "field": f"{field}-user",
                            "message": f"職員「{selector.user}」は登録されていないか、無効になっています。",
                        }
                    )
    return problems


def check(data: Any) -> RouteTemplate:
    """Validate a route definition (JSON) with every rule; raise :class:`RouteProblems`."""
    try:
        template = parse_template(data)
    except RouteTemplateError as error:
        raise RouteProblems([{"field": field_for_path(error.path), "message": error.message_ja}]) from error
    problems = _directory_problems(template)
    if problems:
        raise RouteProblems(problems)
    return template


def check_form(form: Mapping[str, str]) -> RouteTemplate:
    """Validate a posted editor form (what the live validation asks); raise :class:`RouteProblems`."""
    return check(definition_from_form(form_state(form)))


@db.writes
def save(data: Any, actor: User, *, key: str | None = None) -> RouteTemplateVersion:
    """Validate ``data`` with every rule and store it as the next version of its key.

    With ``key`` (the page of an existing route), the definition must keep that key. Audited by
    :func:`approvals.route_store.save` (``approval.route.save`` with before and after) in this unit.
    """
    check(data)
    if key is not None and data.get("key") != key:
        raise RouteProblems([{"field": "key", "message": "既存のルートの識別名は変更できません。"}])
    return route_store.save(data, actor)


def parse_import(text: str) -> Any:
    """Decode an imported JSON text; raise :class:`RouteProblems` naming the line of a syntax error."""
    if len(text) > MAX_IMPORT_CHARS:
        raise RouteProblems([{"field": "definition", "message": "JSONが大きすぎます。"}])
    if not text.strip():
        raise RouteProblems(
            [{"field": "definition", "message": "取り込むJSONを貼り付けるか、ファイルを選んでください。"}]
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        message = (
            f"JSONの{error.lineno}行目{error.colno}文字目が正しくありません（{_json_reason(error.msg)}）。"
        )
        raise RouteProblems(
            [{"field": "definition", "message": message, "line": str(error.lineno)}]
        ) from None


def _json_reason(msg: str) -> str:
    reasons = {
        "Expecting value": "値がありません",
        "Expecting property name enclosed in double quotes": '項目名は " で囲みます',
        "Expecting ',' delimiter": "「,」がありません",
        "Expecting ':' delimiter": "「:」がありません",
        "Extra data": "余分な文字があります",
        "Unterminated string starting at": "文字列が閉じていません",
        "Invalid control character at": "使えない制御文字があります",
    }
    return next((ja for en, ja in reasons.items() if msg.startswith(en)), "書式の誤り")


def import_json(text: str, actor: User) -> RouteTemplateVersion:
    """Import a route from JSON text (the export's format); the same key again makes a new version.

    Errors inside the route are reported with the JSON path in the message, since the field is the
    text box of the whole JSON.
    """
    data = parse_import(text)
    try:
        return save(data, actor)
    except RouteProblems as error:
        raise RouteProblems(
            [
                {"field": "definition", "message": p["message"], "where": where(p["field"])}
                for p in error.problems
            ]
        ) from None


_FIELD_WORDS = {
    "key": "識別名",
    "name": "名称",
    "number_format": "文書番号の書式",
    "number_at": "文書番号を付ける時",
    "steps": "ステップ",
    "kind": "種類",
    "mode": "合議の方法",
    "optional": "省略",
    "choose": "合議先の選択",
    "id": "ステップの名前",
    "rules": "承認者",
    "type": "指定の仕方",
    "relation": "起案者との関係",
    "title": "役職",
    "department": "課",
    "user": "職員",
    "max_amount": "上限額",
    "label": "決裁区分名",
}


def where(field: str) -> str:
    """Say where an editor field is, for the import's messages: 「2番目のステップ・1行目・役職」."""
    parts = field.split("-")
    if parts[0] != "steps" or len(parts) < 2:
        return _FIELD_WORDS.get(field, field)
    out = [f"{int(parts[1]) + 1}番目のステップ"]
    if len(parts) >= 4 and parts[2] == "rules":
        out.append(f"{int(parts[3]) + 1}行目")
        if len(parts) > 4:
            out.append(_FIELD_WORDS.get(parts[4], parts[4]))
    elif len(parts) >= 3:
        out.append(_FIELD_WORDS.get(parts[2], parts[2]))
    return "・".join(out)


def export_text(row: RouteTemplateVersion) -> str:
    """Return a stored version as the JSON file of the export (the import's format)."""
    return json.dumps(row.definition, ensure_ascii=False, indent=2) + "\n"


# -- reading: versions, what changed, the diagram of a template ------------------------------------------


def version(key: str, number: int | None = None) -> RouteTemplateVersion:
    """Return version ``number`` (default: the newest) of ``key``; raise :class:`NotFound`."""
    if number is None:
        row = route_store.latest(key)
    else:
        row = (
            db.session()
            .execute(
                select(RouteTemplateVersion).where(
                    RouteTemplateVersion.key == key, RouteTemplateVersion.version == number
                )
            )
            .scalar_one_or_none()
        )
    if row is None:
        raise NotFound("決裁ルートが見つかりません。")
    return row


def _selector_words(selector: Selector) -> str:
    if selector.relation is not None:
        return RELATION_LABELS.get(selector.relation, selector.relation)
    if selector.user is not None:
        user = directory.get_user(selector.user)
        return user.display_name if user is not None else selector.user
    if selector.department is not None:
        dept = directory.get_department(selector.department)
        return f"{dept.name if dept else selector.department}の{selector.title}"
    return selector.title or ""


def _amount_words(amount: int | None) -> str:
    if amount is None:
        return "上限なし"
    if amount == 0:
        return "金額なし"
    if amount % 10000 == 0:
        return f"{amount // 10000:,}万円以下"
    return f"{amount:,}円以下"


def step_words(step: StepTemplate) -> str:
    """One line for a step: 「決裁：起案者の課長（50万円以下・課長専決）／村長（上限なし・村長決裁）」."""
    kind = KIND_LABELS[step.kind]
    if step.kind == "decide":
        parts = [
            f"{_selector_words(r.approver)}（{_amount_words(r.max_amount)}・{r.effective_label}）"
            for r in step.authority
        ]
    else:
        parts = [_selector_words(s) for _, s in _selectors(step)]
    extra = []
    if step.mode:
        extra.append(MODE_LABELS[step.mode])
    if step.optional:
        extra.append("不在なら省略")
    if step.choose:
        extra.append("起案者が選ぶ")
    return f"{kind}{'（' + '・'.join(extra) + '）' if extra else ''}：{'／'.join(parts)}"


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Say in Japanese what a version changed against the one before it (「新規作成」 for the first)."""
    if before is None:
        return ["新規作成"]
    out = []
    if before.get("name") != after.get("name"):
        out.append(f"名称：{before.get('name')} → {after.get('name')}")
    if before.get("number_format") != after.get("number_format"):
        out.append(f"文書番号の書式：{before.get('number_format')} → {after.get('number_format')}")
    if before.get("number_at") != after.get("number_at"):
        out.append(
            "文書番号を付ける時：" + ("起案時" if after.get("number_at") == "submission" else "決裁時")
        )
    old = [step_words(s) for s in _steps_of(before)]
    new = [step_words(s) for s in _steps_of(after)]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # Inside a changed block, steps of the same kind are paired as 変更, the rest are 削除/追加.
        kinds = difflib.SequenceMatcher(
            a=[_kind_of(x) for x in old[i1:i2]], b=[_kind_of(x) for x in new[j1:j2]], autojunk=False
        )
        for sub, a1, a2, b1, b2 in kinds.get_opcodes():
            if sub == "equal" or (sub == "replace" and a2 - a1 == b2 - b1):
                out.extend(f"{j1 + j + 1}番目を変更：{new[j1 + j]}" for j in range(b1, b2))
                continue
            out.extend(f"削除：{old[i1 + i]}" for i in range(a1, a2))
            out.extend(f"{j1 + j + 1}番目に追加：{new[j1 + j]}" for j in range(b1, b2))
    return out or ["変更なし（同じ内容で保存）"]


def _kind_of(line: str) -> str:
    return line.split("：", 1)[0].split("（", 1)[0]


def _steps_of(definition: dict[str, Any]) -> tuple[StepTemplate, ...]:
    try:
        return parse_template(definition).steps
    except RouteTemplateError:  # a stored definition is always valid; an old format is shown as is
        return ()


def history(key: str) -> list[dict[str, Any]]:
    """Return every version of ``key``, newest first: ``{"version", "created_at", "created_by", "changes"}``.

    ``created_by`` is the 氏名 of who saved it (「システム」 for the bundled defaults).
    """
    rows = list(
        db.session()
        .execute(
            select(RouteTemplateVersion, User.display_name)
            .outerjoin(User, User.id == RouteTemplateVersion.created_by)
            .where(RouteTemplateVersion.key == key)
            .order_by(RouteTemplateVersion.version)
        )
        .all()
    )
    out = []
    before = None
    for row, name in rows:
        out.append(
            {
                "version": row.version,
                "created_at": row.created_at,
                "created_by": name or "システム",
                "changes": changes(before, row.definition),
            }
        )
        before = row.definition
    return list(reversed(out))


def diagram_steps(template: RouteTemplate) -> list[dict[str, Any]]:
    """Return a template's steps in the shape of the 起案 page's diagram (``_route_diagram.html``):
    each box names the rule (起案者の係長, 村長 …); a 決裁 box has one line per 決裁区分."""
    steps = []
    for i, step in enumerate(template.steps):
        if step.kind == "decide":
            approvers = [
                {
                    "username": "",
                    "display_name": _selector_words(r.approver),
                    "title": f"{_amount_words(r.max_amount)}・{r.effective_label}",
                    "status": "rule",
                }
                for r in step.authority
            ]
        else:
            approvers = [
                {
                    "username": "",
                    "display_name": _selector_words(s),
                    "title": "不在なら省略" if step.optional else "",
                    "status": "rule",
                }
                for _, s in _selectors(step)
            ]
        out: dict[str, Any] = {"index": i, "kind": step.kind, "status": "waiting", "approvers": approvers}
        if step.mode:
            out["mode"] = step.mode
        steps.append(out)
    return steps


# -- 試算 ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """The route a drafter would get for an amount: ``steps`` resolved, or ``error`` (unresolvable)."""

    row: RouteTemplateVersion
    drafter: User
    amount: int | None
    steps: list[ResolvedStep]
    error: UnresolvableApprover | None


def trial(key: str, drafter: Any, amount: Any) -> Trial:
    """Resolve the newest version of ``key`` for the drafter (a username) and amount; nothing is saved.

    Raises :class:`NotFound` for an unknown route, :class:`Invalid` (``field`` drafter / amount) for an
    unknown or inactive drafter, a drafter without 課, or a bad amount. An approver that cannot be
    determined (a vacant 課長, two 村長) is returned as ``error``, as the 起案 page shows it.
    """
    row = version(key)
    user = directory.get_user(drafter) if isinstance(drafter, str) and drafter.strip() else None
    if user is None or not user.active:
        raise Invalid("起案者を候補から選んでください。", field="drafter")
    if user.department is None:
        raise Invalid("この職員は所属課が登録されていないため起案できません。", field="drafter")
    parsed = parse_amount(amount)
    try:
        steps = resolve_route(route_store.parsed(row), person_of(user), parsed, DbDirectory())
    except UnresolvableApprover as error:
        return Trial(row, user, parsed, [], error)
    return Trial(row, user, parsed, steps, None)


def user_choices() -> list[tuple[str, str]]:
    """Return (username, 「氏名（課・役職）」) of active staff, for the editor's 職員 list."""
    out = []
    for user in directory.active_users():
        unit = "・".join(x for x in (user.department.name if user.department else None, user.title) if x)
        out.append((user.username, f"{user.display_name}（{unit}）" if unit else user.display_name))
    return out


def department_choices() -> list[tuple[str, str]]:
    """Return (code, name) of active 課 and 係."""
    return [(d.code, d.name) for d in directory.list_departments(include_sections=True)]
