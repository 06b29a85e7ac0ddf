"""Validation throughput: N applications through 2 forking rq workers on Redis and PostgreSQL.

Runs twice, with the reference registry in-process and over HTTP (`issuance registry serve`),
and prints both beside rq's own throughput for no-op jobs in the same run. Every process it
starts is killed when it ends, however it ends. It works in its own Redis database
($ISSUANCE_BENCH_REDIS_URL, default db 9) and refuses one that holds keys it did not write.
Usage: .venv/bin/python bench/validation.py [--count 10000] [--workers 2] [--chunk 250]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
from redis import Redis
from rq import Worker
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from issuance import migrate  # noqa: E402
from issuance.applications import open_application  # noqa: E402
from issuance.biometrics import ImageMeta, store_biometric  # noqa: E402
from issuance.config import Settings  # noqa: E402
from issuance.demo import population  # noqa: E402
from issuance.models import Application, BiometricKind, Role  # noqa: E402
from issuance.registry.store import RegistryStore  # noqa: E402
from issuance.runtime import Runtime  # noqa: E402
from issuance.sites import ensure_site  # noqa: E402
from issuance.states import ApplicationState  # noqa: E402
from issuance.transitions import Actor, move_many  # noqa: E402
from issuance.users import add_user  # noqa: E402
from workers.jobs import NOOP_JOB, enqueue_validation  # noqa: E402
from workers.queues import VALIDATE, RedisQueue  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "issuance_bench"
REDIS_URL = os.environ.get("ISSUANCE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
OWNER_KEY = "issuance:bench:owner"
_children: list[subprocess.Popen[bytes]] = []


def _own_redis(url: str) -> Redis:
    """The bench's Redis database, emptied; refused when it holds keys the bench did not write."""
    conn = Redis.from_url(url)
    if conn.dbsize() and not conn.exists(OWNER_KEY):
        sys.exit(f"bench: {url} holds {conn.dbsize()} keys the bench did not write; "
                 "point ISSUANCE_BENCH_REDIS_URL at an unused database")
    conn.flushdb()
    conn.set(OWNER_KEY, "bench/validation.py")
    return conn


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "issuance", *args], cwd=REPO, env=env,
                            start_new_session=True)
    _children.append(proc)
    return proc


def _kill_children() -> None:
    for proc in _children:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    _children.clear()


def _fresh_database() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
    migrate.upgrade(url)
    return url


def _prepare(rt: Runtime, count: int) -> list[int]:
    citizens = population.generate(count, seed=4242)
    ids: list[int] = []
    with rt.db.transaction() as s:
        ensure_site(s, "HQ", actor="bench")
        clerk = add_user(s, "benchclerk", Role.CLERK, "bench password 1", actor="bench")
    for start in range(0, count, 1000):
        with rt.db.transaction() as s:
            for c in citizens[start : start + 1000]:
                app = open_application(s, c, clerk)
                store_biometric(s, rt.vault, app.id, BiometricKind.PHOTO, b"jpeg",
                                ImageMeta("image/jpeg", 1, 1), "bench", quality_passed=True)
                ids.append(app.id)
    with rt.db.transaction() as s:
        move_many(s, Application, ids, ApplicationState.SUBMITTED, Actor("bench"),
                  expected=ApplicationState.DRAFT)
    return ids


def _env(s: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUANCE_")}
    env.update({"ISSUANCE_DATABASE_URL": s.database_url, "ISSUANCE_REDIS_URL": s.redis_url,
                "ISSUANCE_DATA_DIR": str(s.data_dir), "ISSUANCE_REGISTRY_URL": s.registry_url,
                "ISSUANCE_REGISTRY_DATABASE_URL": s.registry_database_url,
                "ISSUANCE_VALIDATE_BATCH_SIZE": str(s.validate_batch_size)})
    return env


def _start_workers(s: Settings, n: int) -> list[subprocess.Popen[bytes]]:
    procs = [_spawn(["worker", "validate", "--reconcile-every", "0"], _env(s)) for _ in range(n)]
    conn = Redis.from_url(s.redis_url)
    while len(Worker.all(connection=conn)) < n:
        if any(p.poll() is not None for p in procs):
            sys.exit("bench: a worker exited at start (its error is above)")
        time.sleep(0.05)
    time.sleep(1.0)  # let the workers settle before the clock starts
    return procs


def _wait_for_jobs(jobs: RedisQueue, count: int) -> None:
    """Until `count` jobs have finished or failed: asks Redis only, never the database."""
    q = jobs.queue(VALIDATE)
    while q.finished_job_registry.count + q.failed_job_registry.count < count:
        time.sleep(0.05)


def _noop_rate(s: Settings, count: int, workers: int) -> float:
    jobs = RedisQueue(_own_redis(s.redis_url))
    _start_workers(s, workers)
    q = jobs.queue(VALIDATE)
    t0 = time.perf_counter()
    for i in range(count):
        q.enqueue_call(NOOP_JOB, args=([i],), result_ttl=600)
    _wait_for_jobs(jobs, count)
    elapsed = time.perf_counter() - t0
    _kill_children()
    return count / elapsed


def _validation_rate(rt: Runtime, ids: list[int], workers: int) -> tuple[float, dict[str, int]]:
    jobs = RedisQueue(_own_redis(rt.settings.redis_url))
    _start_workers(rt.settings, workers)
    t0 = time.perf_counter()
    enqueue_validation(rt, jobs, ids)
    _wait_for_jobs(jobs, -(-len(ids) // rt.settings.validate_batch_size))
    elapsed = time.perf_counter() - t0
    with rt.db.session() as s:
        states = dict(s.execute(select(Application.state, func.count()).group_by(Application.state)).all())
    return len(ids) / elapsed, {str(k): v for k, v in states.items()}


@contextlib.contextmanager
def _registry_over_http(registry_db: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = _spawn(["registry", "serve", "--port", str(port), "--db", registry_db], dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health").status_code == 200:
                break
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.kill()


def _run(base: Settings, count: int, workers: int) -> tuple[float, dict[str, int]]:
    rt = Runtime(dataclasses.replace(base, database_url=_fresh_database()))
    try:
        t0 = time.perf_counter()
        ids = _prepare(rt, count)
        print(f"prepared {len(ids)} submitted applications in {time.perf_counter() - t0:.1f} s")
        return _validation_rate(rt, ids, workers)
    finally:
        _kill_children()
        rt.close()


def _measure(args: argparse.Namespace, tmp: str) -> None:
    settings = dataclasses.replace(
        Settings(), data_dir=Path(tmp), redis_url=REDIS_URL, database_url=_fresh_database(),
        registry_database_url=f"sqlite:///{tmp}/registry.db", validate_batch_size=args.chunk)
    RegistryStore(settings.registry_database_url).seed(population.generate(args.count, seed=4242))
    noop = _noop_rate(settings, args.noop_jobs, args.workers)
    local, states = _run(settings, args.count, args.workers)
    with _registry_over_http(settings.registry_database_url) as url:
        remote, remote_states = _run(dataclasses.replace(settings, registry_url=url),
                                     args.count, args.workers)
    print(f"rq no-op jobs:              {noop:8.0f} jobs/s ({args.workers} workers)")
    print(f"validation, registry local: {local:8.0f} applications/s "
          f"({args.workers} workers, {args.chunk} ids per job)")
    print(f"validation, registry HTTP:  {remote:8.0f} applications/s")
    print(f"outcomes (local):           {states}")
    print(f"outcomes (HTTP):            {remote_states}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--noop-jobs", type=int, default=2000)
    args = parser.parse_args()
    # SIGTERM (a timeout, a CI kill) unwinds like Ctrl-C, so the workers are killed either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _measure(args, tmp)
    finally:
        _kill_children()


if __name__ == "__main__":
    main()
