"""The chat page. Everything on it is drawn by chat.js from the JSON API and Socket.IO events."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import login_required

from chat import files
from chat.errors import config_int
from chat.messages import DEFAULT_MAX_LENGTH

bp = Blueprint("chat", __name__, url_prefix="/chat", static_folder="static", static_url_path="/static")


@bp.get("/")
@login_required
def index() -> Any:
    """The chat screen: channel list, message pane, composer."""
    return render_template(
        "chat/index.html",
        max_length=config_int("CHAT_MAX_LENGTH", DEFAULT_MAX_LENGTH),
        max_attachment_mb=f"{files.max_bytes() / (1024 * 1024):g}",
    )
