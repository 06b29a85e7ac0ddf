"""Helpers of the page tests: a signed-in browser's cookie jar and CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import TEST_PASSWORD

_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_META_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def sign_in(client: TestClient, username: str, password: str = TEST_PASSWORD) -> str:
    """Sign in through the form (fresh cookie jar) and return the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/sign-in")
    token = _FORM_TOKEN.search(page.text)
    assert token, page.text
    r = client.post("/sign-in", data={"username": username, "password": password,
                                      "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client, r.headers["location"])


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The CSRF token a page carries for its forms."""
    page = client.get(path)
    found = _META_TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)
