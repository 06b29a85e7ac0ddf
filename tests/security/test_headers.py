"""Security headers on every answer, and /docs rendered from local files under the strict CSP (point 14)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from issuance.config import Settings
from issuance.db import Database
from issuance.models import Role
from issuance.web.app import create_app
from tests.factories import TEST_PASSWORD, make_user


def test_every_answer_carries_the_headers(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    token = client.post("/api/session", json={"username": "amal", "password": TEST_PASSWORD}).json()["token"]
    for response in (client.get("/api/me", headers={"Authorization": f"Bearer {token}"}),
                     client.get("/api/me"), client.get("/health"), client.get("/openapi.json"),
                     client.get("/docs"), client.get("/no/such/page")):
        h = response.headers
        assert h["cache-control"] == "no-store", response.url
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert "default-src 'self'" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"]


def test_docs_assets_are_served_locally(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "http://" not in page and "https://" not in page
    for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css", "/docs/init.js"):
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 20, asset


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_swagger_ui_renders_in_chromium_under_the_csp(live_url: str, tmp_path: object) -> None:
    """Debian Chromium, offline: the page builds its operation list, so no script was blocked."""
    out = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
         "--virtual-time-budget=8000", "--dump-dom", f"{live_url}/docs"],
        capture_output=True, text=True, timeout=120,
    )
    assert "opblock" in out.stdout and "/api/session" in out.stdout, out.stderr[-2000:]
