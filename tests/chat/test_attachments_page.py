"""The chat page in a real browser: attaching a file, its thumbnail for the other person, reactions,
@mention completion by keyboard, and no accessibility violations with all of it on screen.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.chat.test_page import _sign_in
from tests.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_attach_a_picture_react_and_complete_a_mention(browser, live_server, tmp_path):
    picture = tmp_path / "現場写真.png"
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 140, 60)).save(out, "PNG")
    picture.write_bytes(out.getvalue())
    yamada_ctx, yamada = _sign_in(browser, live_server.url, "yamada")
    suzuki_ctx, suzuki = _sign_in(browser, live_server.url, "suzuki")
    try:
        yamada.get_by_label("ファイルを添付").set_input_files(str(picture))
        yamada.get_by_label("メッセージ", exact=True).fill("写真です")
        yamada.get_by_role("button", name="送信").click()
        suzuki.wait_for_selector("#message-list li .message-attachment a >> text=現場写真.png")
        # The thumbnail loads (the server made it; the browser decodes it): wait for the decoded image.
        suzuki.wait_for_function(
            "() => { const img = document.querySelector('#message-list img.attachment-thumbnail');"
            " return img !== null && img.complete && img.naturalWidth > 0; }"
        )
        # The sender's composer clears its file once its own POST is answered, which may come after
        # the other person has already received the message through the hub.
        yamada.wait_for_function("() => document.getElementById('composer-file').value === ''")

        suzuki.get_by_role("button", name="リアクションを追加").click()
        suzuki.get_by_role("group", name="リアクションを選ぶ").get_by_role("button", name="いいね").click()
        yamada.get_by_role("button", name="いいね 1人: 鈴木 花子").wait_for()

        box = suzuki.get_by_label("メッセージ", exact=True)
        box.focus()
        box.type("@yam")
        suzuki.wait_for_selector("#mention-list [role=option] >> text=山田 太郎")
        box.press("Enter")  # chooses the suggestion; does not send
        assert box.input_value() == "@山田 太郎 "  # the 氏名, which the server reads as a mention
        assert suzuki.locator("#mention-list").is_hidden()
        assert axe_violations(suzuki) == []
    finally:
        yamada_ctx.close()
        suzuki_ctx.close()
