"""Validation throughput: N applications through 2 forking rq workers on Redis and PostgreSQL.

Prints applications per second beside rq's own throughput for no-op jobs in the same run.
Usage: .venv/bin/python bench/validation.py [--count 10000] [--workers 2] [--chunk 100]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import psycopg
from redis import Redis
from rq import Worker
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from issuance import migrate, population  # noqa: E402
from issuance.applications import open_application  # noqa: E402
from issuance.biometrics import ImageMeta, store_biometric  # noqa: E402
from issuance.config import Settings  # noqa: E402
from issuance.models import Application, BiometricKind, Role  # noqa: E402
from issuance.registry.store import RegistryStore  # noqa: E402
from issuance.runtime import Runtime  # noqa: E402
from issuance.sites import ensure_site  # noqa: E402
from issuance.states import TERMINAL_VALIDATION, ApplicationState  # noqa: E402
from issuance.transitions import Actor, move_many  # noqa: E402
from issuance.users import add_user  # noqa: E402
from workers import queues  # noqa: E402
from workers.jobs import NOOP_JOB, enqueue_validation  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "issuance_bench"
REDIS_URL = "redis://127.0.0.1:6379/9"


def _fresh_database() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
    migrate.upgrade(url)
    return url


def _prepare(rt: Runtime, count: int) -> list[int]:
    citizens = population.generate(count, seed=4242)
    RegistryStore(rt.settings.effective_registry_database_url).seed(citizens)
    ids: list[int] = []
    with rt.db.transaction() as s:
        ensure_site(s, "HQ", actor="bench")
        clerk = add_user(s, "benchclerk", Role.CLERK, "bench password 1", actor="bench")
    for start in range(0, count, 1000):
        with rt.db.transaction() as s:
            for c in citizens[start : start + 1000]:
                app = open_application(s, asdict(c), clerk)
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
                "ISSUANCE_DATA_DIR": str(s.data_dir),
                "ISSUANCE_REGISTRY_DATABASE_URL": s.registry_database_url})
    return env


def _start_workers(s: Settings, n: int) -> list[subprocess.Popen[bytes]]:
    procs = [subprocess.Popen([sys.executable, "-m", "issuance", "worker", "validate",
                               "--reconcile-every", "0"], cwd=REPO, env=_env(s),
                              start_new_session=True) for _ in range(n)]
    conn = Redis.from_url(s.redis_url)
    while len(Worker.all(connection=conn)) < n:
        time.sleep(0.05)
    time.sleep(1.0)  # let the first maintenance (reconcile) pass finish
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        p.wait(timeout=60)


def _noop_rate(s: Settings, jobs: int, workers: int) -> float:
    conn = Redis.from_url(s.redis_url)
    conn.flushdb()
    procs = _start_workers(s, workers)
    q = queues.queue(queues.VALIDATE, conn)
    t0 = time.perf_counter()
    for i in range(jobs):
        q.enqueue_call(NOOP_JOB, args=([i],), result_ttl=60)
    while q.count or q.started_job_registry.count:
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    _stop(procs)
    return jobs / elapsed


def _validation_rate(rt: Runtime, ids: list[int], workers: int) -> tuple[float, dict[str, int]]:
    Redis.from_url(rt.settings.redis_url).flushdb()
    procs = _start_workers(rt.settings, workers)
    t0 = time.perf_counter()
    enqueue_validation(rt.settings, ids)
    while True:
        with rt.db.session() as s:
            done = s.scalar(select(func.count()).select_from(Application)
                            .where(Application.state.in_(TERMINAL_VALIDATION))) or 0
        if done >= len(ids):
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    _stop(procs)
    with rt.db.session() as s:
        states = dict(s.execute(select(Application.state, func.count()).group_by(Application.state)).all())
    return len(ids) / elapsed, {str(k): v for k, v in states.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--noop-jobs", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = dataclasses.replace(
            Settings(), data_dir=Path(tmp), database_url=_fresh_database(), redis_url=REDIS_URL,
            registry_database_url=f"sqlite:///{tmp}/registry.db", validate_batch_size=args.chunk)
        rt = Runtime(settings)
        t0 = time.perf_counter()
        ids = _prepare(rt, args.count)
        print(f"prepared {len(ids)} submitted applications in {time.perf_counter() - t0:.1f} s")
        noop = _noop_rate(settings, args.noop_jobs, args.workers)
        rate, states = _validation_rate(rt, ids, args.workers)
        rt.close()
    print(f"rq no-op jobs:        {noop:8.0f} jobs/s ({args.workers} workers)")
    print(f"validation:           {rate:8.0f} applications/s "
          f"({args.workers} workers, {args.chunk} ids per job)")
    print(f"per-job equivalent:   {rate / args.chunk:8.1f} jobs/s")
    print(f"outcomes:             {states}")


if __name__ == "__main__":
    main()
