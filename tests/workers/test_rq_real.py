"""Real forking rq workers on the real Redis (127.0.0.1:6379) and PostgreSQL: kill -9, flush, reconcile."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select

from issuance import audit
from issuance.config import Settings
from issuance.demo import population
from issuance.models import Application, AuditEvent, Role
from issuance.runtime import Runtime
from issuance.states import TERMINAL_VALIDATION
from tests.databases import reset_postgres
from tests.factories import enroll_citizens, make_user
from tests.workers.conftest import POPULATION
from workers.jobs import enqueue_validation
from workers.queues import VALIDATE, open_queue
from workers.reconciler import reconcile

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
REDIS_SERVER = "redis://127.0.0.1:6379"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def redis_db() -> Iterator[int]:
    """A Redis database claimed for this test process, so concurrent test runs never share one."""
    claims = Redis.from_url(f"{REDIS_SERVER}/0")
    token = f"{os.getpid()}@{socket.gethostname()}"
    for number in range(1, 16):
        if claims.set(f"issuance-tests:db:{number}", token, nx=True, ex=3600):
            break
    else:
        pytest.fail("every Redis database 1-15 is claimed by another test run")
    yield number
    if claims.get(f"issuance-tests:db:{number}") == token.encode():
        claims.delete(f"issuance-tests:db:{number}")


@pytest.fixture
def real(pg_url: str, registry_db: str, redis_db: int, tmp_path: Path) -> Iterator[Runtime]:
    """PostgreSQL and a private Redis database, emptied; settings every worker process shares."""
    reset_postgres(pg_url)
    redis_url = f"{REDIS_SERVER}/{redis_db}"
    Redis.from_url(redis_url).flushdb()
    settings = dataclasses.replace(
        Settings(), data_dir=tmp_path / "var", database_url=pg_url, redis_url=redis_url,
        registry_database_url=registry_db, lease_seconds=2, validate_batch_size=4,
        registry_latency_ms=120,
    )
    rt = Runtime(settings)
    yield rt
    rt.close()
    Redis.from_url(redis_url).flushdb()


def _env(s: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUANCE_")}
    env.update({
        "ISSUANCE_DATABASE_URL": s.database_url, "ISSUANCE_REDIS_URL": s.redis_url,
        "ISSUANCE_DATA_DIR": str(s.data_dir), "ISSUANCE_REGISTRY_DATABASE_URL": s.registry_database_url,
        "ISSUANCE_LEASE_SECONDS": str(s.lease_seconds),
        "ISSUANCE_VALIDATE_BATCH_SIZE": str(s.validate_batch_size),
        "ISSUANCE_REGISTRY_LATENCY_MS": str(s.registry_latency_ms),
        "ISSUANCE_REGISTRY_URL": s.registry_url, "ISSUANCE_REGISTRY_RETRIES": str(s.registry_retries),
        "ISSUANCE_REGISTRY_TIMEOUT": str(s.registry_timeout),
        "ISSUANCE_RECONCILE_EVERY": str(s.reconcile_every),
    })
    return env


def _start_worker(s: Settings, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "issuance", "worker", "validate", *extra], cwd=REPO, env=_env(s),
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _count_decided(rt: Runtime, ids: list[int]) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(Application).where(
            Application.id.in_(ids), Application.state.in_(TERMINAL_VALIDATION))) or 0


def _wait_until(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _enroll(rt: Runtime, count: int) -> list[int]:
    clerk = make_user(rt.db, "clerk1", Role.CLERK)
    ids = enroll_citizens(rt.db, rt.vault, clerk, POPULATION[:count])
    enqueue_validation(rt, open_queue(rt.settings), ids)
    return ids


def _assert_each_decided_once(rt: Runtime, ids: list[int]) -> None:
    with rt.db.session() as s:
        outcomes = s.execute(
            select(AuditEvent.entity_id, func.count()).where(
                AuditEvent.entity_type == "application", AuditEvent.from_state == "validating")
            .group_by(AuditEvent.entity_id)).all()
        assert audit.verify(s).ok
    assert _count_decided(rt, ids) == len(ids)
    assert sorted(int(e) for e, _ in outcomes) == sorted(ids)
    assert all(n == 1 for _, n in outcomes)


def _finish(rt: Runtime, ids: list[int]) -> None:
    """Let leases lapse, reconcile, and work everything with a fresh burst worker."""
    time.sleep(rt.settings.lease_seconds + 0.5)
    reconcile(rt, open_queue(rt.settings))
    burst = _start_worker(rt.settings, "--burst")
    _, err = burst.communicate(timeout=120)
    assert burst.returncode == 0, err.decode()


def test_sigkill_mid_batch_loses_nothing(real: Runtime) -> None:
    ids = _enroll(real, 48)
    worker = _start_worker(real.settings)
    _wait_until(lambda: _count_decided(real, ids) >= 4, timeout=60)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and the job it is running, at once
    worker.wait()
    decided = _count_decided(real, ids)
    assert 4 <= decided < len(ids), "the kill must land mid-run"
    _finish(real, ids)
    _assert_each_decided_once(real, ids)


def test_redis_flushed_mid_run_loses_nothing(real: Runtime) -> None:
    ids = _enroll(real, 40)
    worker = _start_worker(real.settings)
    try:
        _wait_until(lambda: _count_decided(real, ids) >= 4, timeout=60)
        Redis.from_url(real.settings.redis_url).flushdb()
        assert _count_decided(real, ids) < len(ids)
        _finish(real, ids)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    _assert_each_decided_once(real, ids)


def test_reconcile_finds_jobs_redis_never_had(real: Runtime) -> None:
    ids = _enroll(real, 12)
    Redis.from_url(real.settings.redis_url).flushdb()
    # An id just enqueued is left alone for a grace period (its job may be on its way to Redis).
    time.sleep(real.settings.lease_seconds)
    report = reconcile(real, open_queue(real.settings))
    assert report.lost == report.requeued == sorted(ids)
    burst = _start_worker(real.settings, "--burst")
    _, err = burst.communicate(timeout=120)
    assert burst.returncode == 0, err.decode()
    _assert_each_decided_once(real, ids)


def test_plain_rq_worker_with_our_settings_works_too(real: Runtime) -> None:
    ids = _enroll(real, 6)
    rq = Path(sys.executable).with_name("rq")
    burst = subprocess.run(
        [str(rq), "worker", "--burst", "--url", real.settings.redis_url,
         "--serializer", "rq.serializers.JSONSerializer", "validate"],
        cwd=REPO, env=_env(real.settings), capture_output=True, timeout=120,
    )
    assert burst.returncode == 0, burst.stderr.decode()
    _assert_each_decided_once(real, ids)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postponed(rt: Runtime, ids: list[int]) -> bool:
    with rt.db.session() as s:
        n = s.scalar(select(func.count(func.distinct(AuditEvent.entity_id))).where(
            AuditEvent.action == "application.validation_postponed"))
    return n == len(ids)


def test_an_idle_worker_recovers_from_a_registry_outage_by_itself(real: Runtime) -> None:
    port = _free_port()
    rt = dataclasses.replace(real.settings, registry_url=f"http://127.0.0.1:{port}", registry_retries=0,
                             registry_timeout=0.5, reconcile_every=1)
    real.settings = rt
    ids = _enroll(real, 8)
    worker = _start_worker(rt)
    registry = None
    try:
        _wait_until(lambda: _postponed(real, ids), timeout=60)  # nobody listens: an outage
        registry = subprocess.Popen(
            [sys.executable, "-m", "issuance", "registry", "serve", "--port", str(port),
             "--db", rt.registry_database_url], cwd=REPO, env=_env(rt),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The queue is idle now; only the worker's own schedule can bring these back.
        _wait_until(lambda: _count_decided(real, ids) == len(ids),
                    timeout=rt.lease_seconds + rt.reconcile_every + 15)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        if registry:
            registry.terminate()
            registry.wait()
    _assert_each_decided_once(real, ids)


def test_reconcilers_under_a_backlog_leave_one_job_per_application(real: Runtime) -> None:
    clerk = make_user(real.db, "clerk1", Role.CLERK)
    ids = enroll_citizens(real.db, real.vault, clerk, population.generate(2000, seed=5))
    jobs = open_queue(real.settings)
    enqueue_validation(real, jobs, ids)
    time.sleep(real.settings.lease_seconds + 0.5)  # every id now waits longer than a lease
    reconcilers = [subprocess.Popen(
        [sys.executable, "-m", "issuance", "reconcile", "--every", "0.3"], cwd=REPO,
        env=_env(real.settings), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    time.sleep(4)
    for process in reconcilers:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    carried = Counter(i for job in jobs.queue(VALIDATE).get_jobs() for i in job.args[0])
    assert set(carried) == set(ids)
    assert max(carried.values()) == 1
