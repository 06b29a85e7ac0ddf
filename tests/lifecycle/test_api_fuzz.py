"""Schemathesis over the card API, as a supervisor of each site, with real cards in every state."""

from __future__ import annotations

import time

import schemathesis
from fastapi.testclient import TestClient
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from issuance.runtime import Runtime
from tests.factories import bearer
from tests.lifecycle.conftest import People, active_cards, dispatched, eligible, printed_cards
from tests.security.test_api_fuzz import _fuzz

BUDGET_SECONDS = 120


def test_card_api_has_no_server_error_and_matches_its_schema(client: TestClient, vruntime: Runtime,
                                                             people: People) -> None:
    printed = printed_cards(vruntime, people.clerk, eligible(2, skip=5))
    dispatched(vruntime, printed[:1], people.sup)
    active_cards(vruntime, people, 2)
    app = client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # type: ignore[arg-type]
    callers = {"sup1": bearer(client, "sup1"), "north1": bearer(client, "north1")}
    deadline = time.monotonic() + BUDGET_SECONDS
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/cards"):
            continue
        for headers in callers.values():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz(operation, mode, headers, deadline)()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE
                ran += 1
    assert ran == 8 * 2 * 2, ran  # every card operation was reached
