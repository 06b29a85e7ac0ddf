"""Clients for the registry protocol: HTTP with timeouts and retries, or the same code in-process."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from issuance.registry.record import CitizenRecord, LookupRequest, LookupResponse
from issuance.registry.store import RegistryStore


class RegistryError(RuntimeError):
    """A lookup failed; whether the registry or the records are at fault, the caller works out."""


class RegistryUnavailable(RegistryError):
    """No answer after every retry (timeouts, refused connections, 5xx)."""


class RegistryRejected(RegistryError):
    """The registry answered, but with a refusal (4xx) or a malformed record: retrying is futile."""


class Registry(Protocol):
    def lookup_many(
        self, national_numbers: Sequence[str], *, retry: bool = True
    ) -> dict[str, CitizenRecord | None]:
        """The record for each number, None where the registry has no such citizen.

        `retry=False` asks for one attempt only: used while isolating a record that fails.
        """
        ...

    def healthy(self) -> bool:
        """True when the registry answers its health probe: tells an outage from a bad record."""
        ...

    def reference_photo(self, national_number: str) -> bytes | None:
        """The citizen's reference face photo (JPEG), None when the registry holds none."""
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

    def healthy(self) -> bool:
        return True

    def reference_photo(self, national_number: str) -> bytes | None:
        return self.store.photo(national_number)


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
        response = self._send("POST", "/v1/citizens/lookup", retry, json=body)
        return _answer(response, national_numbers)

    def reference_photo(self, national_number: str) -> bytes | None:
        response = self._send("GET", f"/v1/citizens/{quote(national_number, safe='')}/photo", True)
        if response.status_code == 404:
            return None
        if response.status_code >= 400 or response.headers.get("content-type") != "image/jpeg":
            raise RegistryRejected(f"registry refused the photo of {national_number} "
                                   f"({response.status_code}): {response.text[:200]}")
        return response.content

    def _send(self, method: str, path: str, retry: bool, **kwargs: Any) -> httpx.Response:
        """The first answer under 500; transport errors and 5xx are retried with backoff."""
        last: Exception | None = None
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:  # connection refused, reset, timeout
                last = exc
                continue
            if response.status_code < 500:
                return response
            last = RuntimeError(f"registry answered {response.status_code}")
        raise RegistryUnavailable(
            f"civil registry unreachable after {attempts} attempt{'s' * (attempts > 1)}: {last}"
        ) from last

    def healthy(self) -> bool:
        try:
            return self.http.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def close(self) -> None:
        self.http.close()


def _answer(response: httpx.Response, numbers: Sequence[str]) -> dict[str, CitizenRecord | None]:
    """The records of a non-5xx answer; a refusal or a malformed body raises RegistryRejected."""
    if response.status_code >= 400:
        raise RegistryRejected(f"registry refused the lookup ({response.status_code}): "
                               f"{response.text[:200]}")
    try:
        answer = LookupResponse.model_validate_json(response.content)
    except ValidationError as exc:
        raise RegistryRejected(f"registry answered a malformed record: {exc.errors()[0]['msg']}") from exc
    return {nn: answer.found.get(nn) for nn in numbers}
