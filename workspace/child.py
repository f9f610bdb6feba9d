"""What a child interpreter needs to build the same app as its parent (the drain child, admin jobs)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def portable_config(app: Flask) -> dict[str, Any]:
    """The app's configuration that survives JSON, for the child's create_app (it skips the rest,
    Flask's timedeltas and the like, which the children do not read)."""
    config: dict[str, Any] = {}
    for key, value in app.config.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        config[key] = value
    config["ASYNC_MODE"] = "threading"  # the child is a plain interpreter
    return config


def child_env() -> dict[str, str]:
    """The parent's environment with this checkout first on the path (tests run from a worktree)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    return env
