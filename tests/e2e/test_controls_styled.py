"""Every control on the pages people fill in is styled like the others: no tiny raw browser text box.

The 文書の登録 form's 件名, 年度, 文書番号, 差出人, 宛先, 簿冊 and タグ boxes, and the filters on 文書 and
検索, once had no ``type`` and so missed the text-box style; the test reads the computed style of
every visible control in the browser, as a person sees them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, sign_in_page
from workspace import directory

PAGES = ["/documents/new", "/documents", "/search", "/documents/retention", "/approvals/new", "/settings"]

UNSTYLED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('main input, main select, main textarea')) {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (['hidden', 'checkbox', 'radio', 'file', 'submit', 'button'].includes(type)) continue;
    if (!el.offsetParent) continue;  // not shown
    const s = getComputedStyle(el);
    const radius = parseFloat(s.borderTopLeftRadius), pad = parseFloat(s.paddingLeft);
    const width = el.getBoundingClientRect().width;
    if (radius < 4 || pad < 6 || width < 120) {
      bad.push(`${el.id || el.name}: r=${radius} p=${pad} w=${width}`);
    }
  }
  return bad;
}"""


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_every_text_control_is_styled(app: Any, live_server: Any, page: Any, width: int, height: int) -> None:
    """Is every visible text box, select and textarea on the forms drawn with the shared style?"""
    directory.add_local_user("kiroku", "記録 文子", PASSWORD, department_code="01", roles=("records",))
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "kiroku")
    found = {}
    for path in PAGES:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        checked = page.evaluate(
            "() => document.querySelectorAll('main input, main select, main textarea').length"
        )
        found[path] = (checked, page.evaluate(UNSTYLED))
    assert found["/documents/new"][0] >= 7
    assert {path: bad for path, (_, bad) in found.items() if bad} == {}


FILE_CONTROLS = """() => Array.from(document.querySelectorAll('main input[type=file]')).map(el => {
  const picker = el.closest('.file-picker');
  const box = el.getBoundingClientRect();
  return {
    id: el.id,
    native_drawn: box.width > 2 && box.height > 2 && getComputedStyle(el).opacity !== '0',
    button: picker ? (picker.querySelector('button.file-button') || {}).textContent : null,
    status: picker ? (picker.querySelector('.file-status') || {}).textContent : null,
  };
})"""


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_file_controls_speak_japanese_whatever_the_browser(
    app: Any, live_server: Any, page: Any, tmp_path: Any, width: int, height: int
) -> None:
    """Is every file control our 「ファイルを選択」 button with a Japanese line, never 「Choose File」?

    The test browser's own UI is English (Debian's headless Chromium), which is exactly what an
    office PC with an English browser would show if the page relied on the native control.
    """
    directory.add_local_user("kiroku", "記録 文子", PASSWORD, department_code="01", roles=("records",))
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "kiroku")
    for path in ("/documents/new", "/approvals/new", "/approvals/verify", "/chat/"):
        page.goto(live_server.url + path)
        controls = page.evaluate(FILE_CONTROLS)
        assert controls, path
        for control in controls:
            assert not control["native_drawn"], (path, control)
            assert control["button"] and control["button"].startswith("ファイルを選択"), (path, control)
            assert control["status"] == "ファイルが選択されていません", (path, control)
    page.goto(live_server.url + "/documents/new")
    sample = tmp_path / "予算書.txt"
    sample.write_text("予算", encoding="utf-8")
    page.set_input_files("#file", str(sample))
    assert page.locator("#file-chosen").inner_text() == "予算書.txt"
    page.get_by_role("button", name="ファイルを選択").first.focus()
    assert page.evaluate("document.activeElement.className") == "file-button"
