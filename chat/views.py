"""The chat page. Everything on it is drawn by chat.js from the JSON API and Socket.IO events."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_login import login_required

from chat import files, reactions
from chat.errors import config_int
from chat.messages import DEFAULT_MAX_LENGTH
from workspace import calendar

bp = Blueprint("chat", __name__, url_prefix="/chat", static_folder="static", static_url_path="/static")


@bp.get("/")
@login_required
def index() -> Any:
    """The chat screen: channel list, message pane, composer, thread panel.

    The page's script gets the era table (for 和暦 date lines) and the reaction picker, with the
    URLs of the app's own reaction images, from the server, so both have one source.
    """
    picker = [
        {**r, "image": url_for("chat.static", filename=r["image"])} if "image" in r else dict(r)
        for r in reactions.PICKER
    ]
    return render_template(
        "chat/index.html",
        eras=calendar.era_table(),
        reaction_picker=picker,
        max_length=config_int("CHAT_MAX_LENGTH", DEFAULT_MAX_LENGTH),
        max_attachment_mb=f"{files.max_bytes() / (1024 * 1024):g}",
    )
