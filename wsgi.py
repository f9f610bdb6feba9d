"""WSGI entry point: `app` for any WSGI server, and for `flask --app wsgi …`."""

from workspace import create_app

app = create_app()
