"""The `workspace` console script.

Serving commands run on gevent, which must patch the standard library before anything else is
imported — hence this tiny entry point that patches first and imports the application second.
"""

from __future__ import annotations

import os
import sys

_SERVING = {"serve", "demo"}


def main() -> None:
    """Run a `workspace` command."""
    if len(sys.argv) > 1 and sys.argv[1] in _SERVING:
        from gevent import monkey

        monkey.patch_all()
        os.environ["WORKSPACE_ASYNC_MODE"] = "gevent"
    from flask.cli import FlaskGroup

    from workspace import create_app

    cli = FlaskGroup(
        create_app=lambda: create_app(),
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
        help="The village staff workspace.",
    )
    cli.main(prog_name="workspace")


if __name__ == "__main__":
    main()
