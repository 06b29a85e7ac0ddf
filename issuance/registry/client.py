"""Clients for the registry protocol: HTTP with timeouts and retries, or the same code in-process."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

import httpx

from issuance.registry.record import CitizenRecord, LookupRequest, LookupResponse
from issuance.registry.store import RegistryStore


class RegistryUnavailable(RuntimeError):
    """The registry did not answer after every retry: the application must wait, not fail."""


class Registry(Protocol):
    def lookup_many(
        self, national_numbers: Sequence[str], *, retry: bool = True
    ) -> dict[str, CitizenRecord | None]:
        """The record for each number, None where the registry has no such citizen.

        `retry=False` asks for one attempt only: used while isolating a record that fails.
        """
        ...


class InProcessRegistry:
    """The embedded default: the reference store called directly."""

    def __init__(self, store: RegistryStore, latency_ms: int = 0) -> None:
        self.store = store
        self.latency_s = latency_ms / 1000

    def lookup_many(
        self, national_numbers: Sequence[str], *, retry: bool = True
    ) -> dict[str, CitizenRecord | None]:
        if self.latency_s:
            time.sleep(self.latency_s)
        return self.store.lookup(national_numbers)


class HttpRegistry:
    """A registry across the network: bounded timeouts, retries with exponential backoff."""

    def __init__(
        self, base_url: str, *, timeout: float = 5.0, retries: int = 3, backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retries, self.backoff = retries, backoff
        self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    def lookup_many(
        self, national_numbers: Sequence[str], *, retry: bool = True
    ) -> dict[str, CitizenRecord | None]:
        body = LookupRequest(national_numbers=list(national_numbers)).model_dump()
        last: Exception | None = None
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.http.post("/v1/citizens/lookup", json=body)
                if response.status_code < 500:
                    response.raise_for_status()
                    answer = LookupResponse.model_validate(response.json())
                    return {nn: answer.found.get(nn) for nn in national_numbers}
                last = RuntimeError(f"registry answered {response.status_code}")
            except httpx.TransportError as exc:  # connection refused, reset, timeout
                last = exc
        raise RegistryUnavailable(
            f"civil registry unreachable after {attempts} attempt{'s' * (attempts > 1)}: {last}"
        ) from last

    def close(self) -> None:
        self.http.close()
