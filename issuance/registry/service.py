"""The reference registry service (HTTP, protocol v1); a real registry can stand behind the same API."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response

from issuance.registry.record import CitizenRecord, LookupRequest, LookupResponse
from issuance.registry.store import MAX_LOOKUP, RegistryStore


def _store(request: Request) -> RegistryStore:
    store: RegistryStore = request.app.state.store
    latency = request.app.state.latency_s
    if latency:
        time.sleep(latency)  # simulated distance to a national data centre (training, tests)
    return store


def create_registry_app(store: RegistryStore, latency_ms: int = 0) -> FastAPI:
    """The HTTP service over a registry store."""
    app = FastAPI(title="Civil registry (reference)", version="1")
    app.state.store = store
    app.state.latency_s = latency_ms / 1000

    @app.get("/health")
    def health() -> dict[str, object]:
        return {"status": "ok", "citizens": store.count()}

    @app.get("/v1/citizens/{national_number}", response_model=CitizenRecord)
    def citizen(national_number: str, s: Annotated[RegistryStore, Depends(_store)]) -> CitizenRecord:
        record = s.lookup([national_number])[national_number]
        if record is None:
            raise HTTPException(404, f"national_number: {national_number} is not registered")
        return record

    @app.get("/v1/citizens/{national_number}/photo", response_class=Response,
             responses={200: {"content": {"image/jpeg": {}}}})
    def photo(national_number: str, s: Annotated[RegistryStore, Depends(_store)]) -> Response:
        jpeg = s.photo(national_number)
        if jpeg is None:
            raise HTTPException(404, f"national_number: {national_number} has no reference photo")
        return Response(jpeg, media_type="image/jpeg")

    @app.post("/v1/citizens/lookup", response_model=LookupResponse)
    def lookup(body: LookupRequest, s: Annotated[RegistryStore, Depends(_store)]) -> LookupResponse:
        if len(body.national_numbers) > MAX_LOOKUP:
            raise HTTPException(422, f"national_numbers: at most {MAX_LOOKUP} per request")
        result = s.lookup(body.national_numbers)
        return LookupResponse(
            found={nn: r for nn, r in result.items() if r is not None},
            missing=[nn for nn, r in result.items() if r is None],
        )

    return app
