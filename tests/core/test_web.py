"""The web shell: sign-in, tokens, and the role guard on every route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from issuance import auth
from issuance.db import Database
from issuance.models import Role
from issuance.roles import allows
from tests.factories import TEST_PASSWORD, make_user


def _sign_in(client: TestClient, name: str) -> dict[str, str]:
    r = client.post("/api/session", json={"username": name, "password": TEST_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_sign_in_and_me(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    headers = _sign_in(client, "amal")
    assert client.get("/api/me", headers=headers).json() == {
        "username": "amal", "role": "clerk", "site": "HQ"
    }


def test_wrong_password_and_missing_or_forged_token(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    r = client.post("/api/session", json={"username": "amal", "password": "nope nope nope"})
    assert r.status_code == 401
    assert client.get("/api/me").status_code == 401
    forged = {"Authorization": f"Bearer 1.{'ab' * 16}.99999999999.AAAA"}
    assert "bad signature" in client.get("/api/me", headers=forged).json()["message"]


def test_expired_token_is_refused() -> None:
    secret = b"s" * 32
    token = auth.issue(secret, 7, "ab" * 16, 1_000 + auth.TOKEN_SECONDS)
    assert auth.check(secret, token, now=1_001.0).user_id == 7
    with pytest.raises(auth.TokenError, match="expired"):
        auth.check(secret, token, now=1_000.0 + auth.TOKEN_SECONDS + 1)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    # FastAPI keeps included routers as wrappers around the original router.
    for route in routes:
        if isinstance(route, APIRoute):
            if route.include_in_schema:  # the HTML pages have their own role tests (tests/web)
                yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _guarded_routes(client: TestClient) -> list[tuple[APIRoute, object]]:
    found = []
    for route in _api_routes(client.app.routes):  # type: ignore[attr-defined]
        for dep in route.dependant.dependencies:
            permission = getattr(dep.call, "permission", None)
            if permission is not None:
                found.append((route, permission))
    return found


# /docs and its script are pages outside the schema: tests/web/test_page_roles.py covers them.
OPEN_ROUTES = {"/api/session", "/api/session/renew", "/api/me", "/health"}


def test_every_route_but_sign_in_is_guarded_by_a_permission(client: TestClient) -> None:
    guarded = {route.path for route, _ in _guarded_routes(client)}
    every = {route.path for route in _api_routes(client.app.routes)}  # type: ignore[attr-defined]
    assert every - guarded == OPEN_ROUTES


def test_role_matrix_over_every_guarded_route(db: Database, client: TestClient) -> None:
    """Each role gets 403 exactly on the routes its permissions do not cover."""
    headers = {}
    for role in Role:
        make_user(db, f"u-{role.value}", role)
        headers[role] = _sign_in(client, f"u-{role.value}")
    routes = _guarded_routes(client)
    assert routes, "no guarded route found"
    for route, permission in routes:
        path = route.path_format.replace("{", "").replace("}", "")
        for method in route.methods:
            for role in Role:
                r = client.request(method, path, headers=headers[role])
                denied = r.status_code == 403
                assert denied == (not allows(role, permission)), (  # type: ignore[arg-type]
                    f"{method} {route.path} as {role}: {r.status_code}"
                )
