"""One set of words: the statuses, step kinds, approvers' boxes and actions that the pages, the API's
history, the inbox, the 起案用紙 and the search results show all come from approvals.labels."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType
from typing import Any

import approvals
import docsearch.search
import docsearch.sources
from approvals import absence, labels, service, views
from approvals.labels import ACTION_LABELS, KIND_LABELS, SLOT_LABELS, STATUS_LABELS
from tests.approvals import test_service_support as support
from tests.conftest import csrf_from, login
from workspace import calendar

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

LABEL_SETS = {
    "STATUS_LABELS": STATUS_LABELS,
    "KIND_LABELS": KIND_LABELS,
    "SLOT_LABELS": SLOT_LABELS,
    "ACTION_LABELS": ACTION_LABELS,
}


def _modules() -> list[ModuleType]:
    """Every module of approvals, and the docsearch modules that show a request's status."""
    found = [importlib.import_module(f"approvals.{m.name}") for m in pkgutil.iter_modules(approvals.__path__)]
    return [*found, docsearch.sources, docsearch.search]


def _words(module: ModuleType) -> list[tuple[str, str, dict[str, str]]]:
    """Return (attribute, label set, mapping) for each module-level mapping of label keys to words."""
    out = []
    for attribute, value in vars(module).items():
        if not isinstance(value, dict) or len(value) < 2 or value is module.__dict__:
            continue
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            continue
        for name, words in LABEL_SETS.items():
            if set(value) <= set(words):
                out.append((attribute, name, value))
    return out


def test_every_mapping_of_statuses_or_actions_to_words_says_what_labels_says() -> None:
    """Does no module keep its own wording for a status, kind, box or action (docsearch included)?"""
    checked, differing = 0, []
    for module in _modules():
        for attribute, name, mapping in _words(module):
            checked += 1
            for key, word in mapping.items():
                if word != LABEL_SETS[name][key]:
                    differing.append(f"{module.__name__}.{attribute}[{key!r}]: {word} ≠ {name}")
    assert differing == []
    assert checked >= 6  # the check found the label maps (labels, views, the search hit's status…)


def test_pages_and_search_use_the_labels_module_itself() -> None:
    """Do the page templates and the search results get labels' own maps, and the buttons its words?"""
    context = views._labels()
    assert context["status_labels"] is STATUS_LABELS
    assert context["kind_labels"] is KIND_LABELS
    assert context["slot_labels"] is SLOT_LABELS
    assert docsearch.sources.STATUS_LABELS is STATUS_LABELS
    assert all(word == ACTION_LABELS[action] for action, word, _ in views.BUTTONS)
    assert {a for a, _, _ in views.BUTTONS} == set(ACTION_LABELS)


def test_approve_is_called_by_what_it_does() -> None:
    """Is an approval 承認 before the deciding step, 決裁 on it, and 専決 under a 専決 rule?"""
    assert labels.approve_label("review", None) == "承認"
    assert labels.approve_label("consult", "専決") == "承認"
    assert labels.approve_label("decide", "村長決裁") == "決裁"
    assert labels.approve_label("decide", "課長専決") == "専決"
    assert labels.watermark("withdrawn") == "取下げ" and labels.watermark("in_progress") == "未決裁"


def _page(client: Any, request_id: int) -> str:
    return client.get(f"/approvals/{request_id}").get_data(as_text=True)


def _buttons(html: str) -> dict[str, str]:
    """Return {action: the button's word} of the detail page's action buttons."""
    found = re.findall(r'<button[^>]*name="action" value="([a-z_]+)"[^>]*>([^<]+)</button>', html)
    return {action: word.strip() for action, word in found}


def test_one_word_on_the_button_the_flash_the_inbox_and_the_history(app: Any, org: dict[str, Any]) -> None:
    """Does 代決 and its 後閲 read the same on the button, after pressing it, in the inbox and in the
    request's history (page and API)?"""
    today = calendar.today().isoformat()
    absence.register(org["suzuki"], {"deputy": "tanaka", "from": today, "until": today})
    row = service.create(org["yamada"], {"route": "general", "title": "備品", "amount": 1000, "submit": True})
    deputy = app.test_client()
    login(deputy, "tanaka")
    inbox_page = deputy.get("/approvals/").get_data(as_text=True)
    assert f'<span class="tag">{ACTION_LABELS["deputy_approve"]}</span>' in inbox_page
    for client, action in ((deputy, "deputy_approve"), (None, "acknowledge")):
        if client is None:
            client = app.test_client()
            login(client, "suzuki")
        html = _page(client, row.id)
        assert _buttons(html)[action] == ACTION_LABELS[action]
        done = client.post(f"/approvals/{row.id}/act", data={"csrf_token": csrf_from(html), "action": action})
        flashed = client.get(done.headers["Location"]).get_data(as_text=True)
        assert f"{ACTION_LABELS[action]}しました。" in flashed
        history = client.get(f"/api/v1/approvals/{row.id}").get_json()["history"]
        assert history[-1]["action"] == action and history[-1]["label"] == ACTION_LABELS[action]
