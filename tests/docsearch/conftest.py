"""Fixtures for docsearch tests: a records clerk, API tokens, and an upload helper."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.conftest import PASSWORD, api_token
from workspace import directory


@pytest.fixture
def people(village: dict[str, Any]) -> dict[str, Any]:
    """The village plus kiroku, a records clerk (role records) of 企画財政課."""
    village["kiroku"] = directory.add_local_user(
        "kiroku", "記録 文子", PASSWORD, department_code="02", title="主事", roles=("records",)
    )
    return village


@pytest.fixture
def tokens(client: Any, people: dict[str, Any]) -> dict[str, str]:
    """A bearer token per person."""
    return {name: api_token(client, name) for name in people}


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def upload(client: Any, token: str, content: bytes, filename: str, **fields: Any) -> Any:
    """POST /api/v1/documents with a file and metadata (sensible defaults); return the response."""
    data = {
        "title": "テスト文書",
        "department_code": "01",
        "fiscal_year": "2026",
        "classification": "",
        "retention_years": "5",
        "visibility": "internal",
    }
    data.update({k: str(v) for k, v in fields.items()})
    data["file"] = (io.BytesIO(content), filename)
    return client.post(
        "/api/v1/documents", data=data, headers=auth(token), content_type="multipart/form-data"
    )


def search(client: Any, token: str, **params: Any) -> Any:
    """GET /api/v1/search with params; return the response."""
    return client.get("/api/v1/search", query_string=params, headers=auth(token))
