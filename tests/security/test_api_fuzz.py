"""Schemathesis over the whole OpenAPI schema, as nobody, a clerk and a supervisor (point 8).

Bounded in examples per operation and in total time; fails on any 5xx, any status the schema does
not document, and any body that does not match the schema.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from issuance.config import Settings
from issuance.db import Database
from issuance.models import Role
from issuance.web.app import create_app
from tests.factories import bearer, make_applications, make_user

EXAMPLES = 10  # per operation, caller and generation mode
BUDGET_SECONDS = 240
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Signing out would end the caller's session for the rest of the run; it is fuzzed anonymously only.
SESSION_ENDING = {("DELETE", "/api/session")}


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, headers: dict[str, str],
          deadline: float) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        if time.monotonic() > deadline:
            return
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    return run


def test_no_server_error_and_no_schema_mismatch(db: Database, settings: Settings) -> None:
    clerk = make_user(db, "clerk1", Role.CLERK)
    make_user(db, "super1", Role.SUPERVISOR)
    make_applications(db, clerk, count=2)
    app = create_app(settings)
    with TestClient(app) as client:
        callers = {"nobody": {}, "clerk": bearer(client, "clerk1"), "supervisor": bearer(client, "super1")}
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        deadline = time.monotonic() + BUDGET_SECONDS
        ran = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            for who, headers in callers.items():
                if who != "nobody" and (operation.method.upper(), operation.path) in SESSION_ENDING:
                    continue
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    try:
                        _fuzz(operation, mode, headers, deadline)()
                    except Unsatisfiable:
                        assert mode is GenerationMode.NEGATIVE  # an operation with nothing to get wrong
                    ran += 1
        assert ran >= 3 * 2 * 10, ran  # every operation was reached
    app.state.runtime.close()
