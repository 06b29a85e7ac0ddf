"""Embedded defaults in a real process: `issuance serve` works its own queue, with no Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from enrollment.photo.samples import sample_portrait
from enrollment.sample_signatures import sample_signature
from issuance.cli.main import main
from issuance.demo import population

PASSWORD = "counter password 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _embedded_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUANCE_")}
    return {**env, "ISSUANCE_DATA_DIR": str(data), "ISSUANCE_NEW_PASSWORD": PASSWORD}


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "issuance", *args], env=env, check=True, timeout=120,
                   capture_output=True)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`issuance serve` on embedded defaults, with a seeded registry and a clerk account."""
    env = _embedded_env(tmp_path / "var")
    _cli(env, "registry", "seed", "--count", "50")
    _cli(env, "user", "add", "boss", "--role", "admin")  # the first account: an administrator
    as_boss = {**env, "ISSUANCE_AS": "boss", "ISSUANCE_PASSWORD": PASSWORD}
    _cli(as_boss, "user", "add", "amal", "--role", "clerk")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "issuance", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_submitted_application_is_decided_within_seconds_with_no_redis(served: str) -> None:
    citizen = population.generate(50, seed=9303)[0]
    with httpx.Client(base_url=served, timeout=30) as http:
        token = http.post("/api/session", json={"username": "amal", "password": PASSWORD}).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        person = asdict(citizen.person())
        body = {**person, "birth_date": citizen.birth_date.isoformat()}
        draft = http.post("/api/enrollment/applications", json=body)
        assert draft.status_code == 201, draft.text
        base = f"/api/enrollment/applications/{draft.json()['id']}"
        http.put(f"{base}/photo", content=sample_portrait(0), headers={"Content-Type": "image/jpeg"})
        http.put(f"{base}/signature", content=sample_signature(citizen.national_number),
                 headers={"Content-Type": "image/png"})
        assert http.post(f"{base}/submit").status_code == 202
        deadline = time.monotonic() + 10
        while (state := http.get(base).json()["state"]) in ("submitted", "validating"):
            assert time.monotonic() < deadline, f"still {state} after 10 s"
            time.sleep(0.2)
    assert state in ("approved", "exception", "rejected")


@pytest.mark.parametrize("command", [["worker"], ["reconcile"], ["reconcile", "--every", "5"]])
def test_worker_and_reconcile_without_redis_say_what_to_do(command: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, command, env={"ISSUANCE_REDIS_URL": "",
                                                   "ISSUANCE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "ISSUANCE_REDIS_URL" in result.output and "issuance serve" in result.output
