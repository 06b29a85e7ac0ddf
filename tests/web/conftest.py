"""Fixtures of the page tests: the whole app (API and pages) on the test's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from issuance.config import Settings
from issuance.web.app import create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.runtime.close()
