"""?next= after sign-in goes only to a path on this site, whatever an attacker puts in it.

Each target below is a known open-redirect bypass. The test signs in for real with it and reads
the Location the way a browser does (WHATWG URL parsing: tabs and newlines removed, backslashes
read as slashes), so a target that looks harmless to Python but sends a browser away fails.
"""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_from
from workspace import db
from workspace.models import UserSession

# As they appear in the query string (already percent-encoded where an attacker would encode).
BYPASSES = [
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0D/evil.example",
    "/%0D%0ASet-Cookie:%20x=1",
    "/%0d%0aLocation:%20https://evil.example",
    "%09//evil.example",
    "/%00/evil.example",
    "/\\evil.example",
    "%2F%5Cevil.example",
    "\\/evil.example",
    "%5C%2Fevil.example",
    "\\\\evil.example",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "https:evil.example",
    "https:/evil.example",
    "https://evil.example",
    "http://evil.example/",
    "HTTPS://evil.example",
    "//evil.example@127.0.0.1",
    "/@evil.example",
    "@evil.example",
    "evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "%6A%61%76%61%73%63%72%69%70%74:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%EF%BC%8F/evil.example",  # U+FF0F full-width solidus
    "%EF%BC%8F%EF%BC%8Fevil.example",
    "/%E2%88%95evil.example",  # U+2215 division slash
    "/%E2%81%84evil.example",  # U+2044 fraction slash
    "/%EF%BC%BCevil.example",  # U+FF3C full-width reverse solidus
    "/%E2%80%AE/evil.example",  # U+202E bidi override
    "%20//evil.example",
    "/.//evil.example",
    "/ /evil.example",
    "//%65vil.example",
    "/\t/evil.example",
]


def browser_target(location: str, base: str = "http://localhost/login") -> tuple[str, str]:
    """Where a browser goes for this Location header: (scheme, host)."""
    cleaned = location.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                             "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
    cleaned = cleaned.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    target = urlsplit(urljoin(base, cleaned))
    return target.scheme, target.hostname or ""


def _sign_in(client, next_raw: str):
    page = client.get("/login")
    return client.post(
        "/login?next=" + next_raw,
        data={"username": "yamada", "password": PASSWORD,
              "csrf_token": csrf_from(page.get_data(as_text=True))},
    )


def test_the_list_is_long_enough():
    assert len(BYPASSES) >= 30


@pytest.mark.parametrize("next_raw", BYPASSES, ids=range(len(BYPASSES)))
def test_sign_in_never_redirects_off_site(client, village, next_raw):
    response = _sign_in(client, next_raw)
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert browser_target(location) == ("http", "localhost"), location
    # Either refused (home) or kept as a plain path of this site (e.g. "/@evil.example" is a 404 here).
    assert location == "/" or (location.startswith("/") and not location.startswith("//")), location
    assert db.session().execute(select(func.count()).select_from(UserSession)).scalar() == 1


@pytest.mark.parametrize(
    "target", ["/chat", "/approvals/12", "/documents?fiscal_year=2025&q=%E4%BA%88%E7%AE%97", "/search?q=予算"]
)
def test_a_same_site_path_is_kept(client, village, target):
    response = _sign_in(client, quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] in (target, "/search?q=%E4%BA%88%E7%AE%97")


def test_the_decision_is_on_the_parsed_url():
    from workspace.web import same_site_path

    assert same_site_path("/approvals?status=pending") == "/approvals?status=pending"
    assert same_site_path("/a//b") == "/a//b"  # an inner double slash is still a path here
    for target in ("//x", "/\\x", "/\tx", "https:x", "", None, "/" + "a" * 2100):
        assert same_site_path(target) is None
