"""The operators' screens against every role and an anonymous browser, with the exact status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.operators.conftest import Floor

OPERATOR_ROUTES = [("GET", "/operators/stations", 200), ("GET", "/operators/stations/live", 200),
                   ("POST", "/operators/stations/S1/self-test", 303), ("GET", "/operators/printers", 200),
                   ("GET", "/operators/printers/live", 200), ("POST", "/operators/printers/reprints", 422)]
SUPERVISOR_ROUTES = [("GET", "/supervisor/reprints", 200), ("POST", "/supervisor/reprints/999/approve", 404)]
WHO = {"operator": "op1", "supervisor": "sup1", "clerk": "clerk1", "admin": "root"}


@pytest.mark.parametrize("role", [*WHO, "anonymous"])
def test_role_matrix_of_the_operators_screens(floor: Floor, web: TestClient, role: str) -> None:
    csrf = floor.sign_in(web, WHO[role]) if role in WHO else ""
    got, expected = {}, {}
    for routes, owner in ((OPERATOR_ROUTES, "operator"), (SUPERVISOR_ROUTES, "supervisor")):
        for method, path, allowed in routes:
            if role == "anonymous":
                expected[path] = 303 if method == "GET" else 401
            else:
                expected[path] = allowed if role == owner else 403
            data = {"csrf_token": csrf} if method == "POST" else None
            got[path] = web.request(method, path, data=data, follow_redirects=False).status_code
    assert got == expected


def test_an_expired_session_tells_htmx_to_go_to_sign_in(floor: Floor, web: TestClient) -> None:
    r = web.get("/operators/stations/live", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 401 and r.headers["HX-Redirect"] == "/sign-in"


def test_each_role_sees_its_own_screens_in_the_navigation(floor: Floor, web: TestClient) -> None:
    floor.sign_in(web, "op1")
    page = web.get("/").text
    assert 'href="/operators/stations"' in page and 'href="/operators/printers"' in page
    assert 'href="/supervisor/reprints"' not in page
    floor.sign_in(web, "sup1")
    page = web.get("/").text
    assert 'href="/supervisor/reprints"' in page and 'href="/operators/stations"' not in page
