"""Every page and form against every role and an anonymous browser, with the exact status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from issuance.config import Settings
from issuance.db import Database
from issuance.models import Role
from issuance.roles import allows
from issuance.web.app import create_app
from issuance.web.pages import FONT_PATHS
from issuance.web.pages.account import OPEN_PATHS
from tests.factories import make_applications, make_user
from tests.web.pages import sign_in

# What a role that may use the route gets, sending its CSRF token and an empty form or body.
ALLOWED: dict[tuple[str, str], int] = {
    ("GET", "/"): 200,
    ("GET", "/sign-in"): 200,
    ("POST", "/sign-in"): 403,  # no sign-in form token: refused whoever asks
    ("POST", "/sign-out"): 303,
    ("GET", "/password"): 200,
    ("POST", "/password"): 422,
    ("POST", "/language"): 422,
    ("GET", "/fonts/{role}.ttf"): 200,
    ("GET", "/counter/new"): 200,
    ("POST", "/counter/new"): 422,
    ("POST", "/counter/check"): 200,
    ("GET", "/counter/applications/{application_id}/photo"): 200,
    ("PUT", "/counter/applications/{application_id}/photo"): 422,
    ("GET", "/counter/applications/{application_id}/signature"): 200,
    ("PUT", "/counter/applications/{application_id}/signature"): 422,
    ("GET", "/counter/applications"): 200,
    ("POST", "/counter/applications/{application_id}/cancel"): 303,
    ("GET", "/counter/applications/{application_id}/review"): 200,
    ("POST", "/counter/applications/{application_id}/submit"): 409,
    ("GET", "/counter/applications/{application_id}/receipt"): 200,
    ("GET", "/counter/applications/{application_id}/receipt.pdf"): 200,
    ("GET", "/counter/applications/{application_id}/photo.jpg"): 404,
    ("GET", "/counter/applications/{application_id}/signature.png"): 404,
    ("GET", "/admin/users"): 200,
    ("POST", "/admin/users"): 422,
    ("POST", "/admin/users/{user_id}/assign"): 422,
    ("POST", "/admin/users/{user_id}/active"): 303,
    ("POST", "/admin/users/{user_id}/password"): 422,
    ("GET", "/supervisor/exceptions"): 200,
    ("GET", "/supervisor/dashboard"): 200,
    ("GET", "/supervisor/dashboard/figures"): 200,
    ("GET", "/supervisor/dashboard.json"): 200,
    # A draft is not waiting in exception (404); junk ids and batch numbers are refused.
    ("GET", "/supervisor/exceptions/{application_id}"): 404,
    ("POST", "/supervisor/exceptions/{application_id}/decision"): 404,
    ("GET", "/supervisor/exceptions/{application_id}/photo.jpg"): 404,
    ("GET", "/supervisor/exceptions/{application_id}/match/{other_id}.jpg"): 422,
    ("POST", "/supervisor/exceptions/bulk"): 422,
    ("GET", "/supervisor/batches"): 200,
    ("POST", "/supervisor/batches"): 422,
    ("GET", "/supervisor/batches/{number}"): 404,
    ("GET", "/supervisor/batches/{number}/progress"): 404,
    ("POST", "/supervisor/batches/{number}/pause"): 404,
    ("POST", "/supervisor/batches/{number}/resume"): 404,
    ("POST", "/supervisor/batches/{number}/close"): 404,
    ("POST", "/supervisor/batches/{number}/assign"): 404,
    ("GET", "/supervisor/batches/{number}/proof.pdf"): 404,
    ("GET", "/supervisor/batches/{number}/manifest.pdf"): 404,
    ("GET", "/supervisor/batches/{number}/manifest.csv"): 404,
    ("GET", "/supervisor/exceptions/{application_id}/registry-photo.jpg"): 404,
    ("GET", "/reports"): 200,
    ("GET", "/reports/daily"): 422,  # no site or day chosen
    ("GET", "/reports/batch"): 422,  # no batch number
    ("GET", "/audit"): 200,
    ("GET", "/audit/verify"): 200,
    ("GET", "/docs"): 200,
    ("GET", "/docs/init.js"): 200,
    ("GET", "/cards"): 200,
    ("POST", "/cards/dispatch"): 422,
    ("GET", "/cards/handover"): 200,
    ("POST", "/cards/handover"): 422,
    ("GET", "/cards/{card_id}"): 404,
    ("POST", "/cards/{card_id}/{action}"): 404,
    ("GET", "/operators/stations"): 200,
    ("GET", "/operators/stations/live"): 200,
    ("POST", "/operators/stations/{code}/self-test"): 404,  # no station in this test's database
    ("GET", "/operators/printers"): 200,
    ("GET", "/operators/printers/live"): 200,
    ("POST", "/operators/printers/reprints"): 422,
    ("GET", "/supervisor/reprints"): 200,
    ("POST", "/supervisor/reprints/{request_id}/approve"): 404,
}
# The API's documentation is public, like the schema it shows (served from local files).
DOCS = {("GET", "/docs"): 200, ("GET", "/docs/init.js"): 200}
ANONYMOUS_OPEN = {("GET", "/sign-in"): 200, ("POST", "/sign-in"): 403, ("GET", "/fonts/{role}.ttf"): 200,
                  **DOCS}


def page_routes(routes: list[Any]) -> Iterator[tuple[str, str, Any]]:
    """(method, path, permission or None) of every HTML page route."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI wraps included routers
            yield from page_routes(route.original_router.routes)
        if isinstance(route, APIRoute) and not route.include_in_schema:
            permission = next((getattr(d.call, "permission", None) for d in route.dependant.dependencies
                               if getattr(d.call, "permission", None) is not None), None)
            for method in route.methods:
                yield method, route.path, permission


def test_every_page_is_guarded_or_declared_open(settings: Settings) -> None:
    app = create_app(settings)
    routes = list(page_routes(app.routes))
    app.state.runtime.close()
    assert {(m, p) for m, p, _ in routes} == set(ALLOWED), "each page needs an expected status here"
    open_pages = {p for _, p, perm in routes if perm is None}
    assert open_pages == OPEN_PATHS | FONT_PATHS | {p for _, p in DOCS}


def _request(client: TestClient, method: str, path: str, csrf: str) -> int:
    data = {"csrf_token": csrf} if method == "POST" else None
    headers = {"x-csrf-token": csrf} if method == "PUT" else {}
    r = client.request(method, path, data=data, headers=headers, follow_redirects=False)
    return r.status_code


def _path(path: str, drafts: list[int], target_user: int) -> str:
    # The cancel form erases its draft: it gets one of its own.
    draft = drafts[1] if path.endswith("/cancel") else drafts[0]
    return (path.replace("{application_id}", str(draft)).replace("{user_id}", str(target_user))
            .replace("{role}", "arabic").replace("{card_id}", "1").replace("{action}", "activate")
            .replace("{code}", "S1").replace("{request_id}", "1"))


@pytest.mark.parametrize("role", [*Role, None], ids=[*(r.value for r in Role), "anonymous"])
def test_role_matrix_over_every_page(db: Database, client: TestClient, role: Role | None) -> None:
    clerk = make_user(db, "owner", Role.CLERK)
    target = make_user(db, "target", Role.OPERATOR)
    if role is not None and role is not Role.CLERK:
        make_user(db, "visitor", role)
    name = "owner" if role is Role.CLERK else "visitor"
    csrf = sign_in(client, name) if role is not None else ""
    drafts = make_applications(db, clerk, count=2)
    failures = []
    routes = sorted(page_routes(client.app.routes), key=lambda r: r[1] == "/sign-out")  # type: ignore[attr-defined]
    for method, path, permission in routes:
        if role is None:
            expected = ANONYMOUS_OPEN.get((method, path), 303 if method == "GET" else 401)
        elif permission is not None and not allows(role, permission):
            expected = 403
        else:
            expected = ALLOWED[(method, path)]
        got = _request(client, method, _path(path, drafts, target.id), csrf)
        if got != expected:
            failures.append(f"{method} {path}: {got}, expected {expected}")
    assert not failures, "\n".join(failures)
