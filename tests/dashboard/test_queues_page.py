"""/rq: rq-dashboard for supervisors and admins, read-only, its own CSP; the embedded queue says why not."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from issuance.config import Settings
from issuance.db import Database
from issuance.models import Role
from issuance.web.app import create_app
from issuance.web.security import CSP
from tests.factories import make_user
from tests.web.pages import sign_in
from workers.queues import RedisQueue

# A Redis database no other suite uses (rq real-worker tests take 1-5, the bench 9).
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def people(db: Database) -> None:
    for name, role in (("clerk-q", Role.CLERK), ("oper-q", Role.OPERATOR), ("boss-q", Role.SUPERVISOR),
                       ("admin-q", Role.ADMIN)):
        make_user(db, name, role)


def _client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    yield TestClient(app)
    app.state.runtime.close()


@pytest.fixture
def embedded(settings: Settings) -> Iterator[TestClient]:
    yield from _client(settings)


@pytest.fixture
def on_redis(settings: Settings) -> Iterator[TestClient]:
    yield from _client(replace(settings, redis_url=REDIS_URL))


def test_embedded_queue_page_for_viewers_only(embedded: TestClient, people: None) -> None:
    r = embedded.get("/rq/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in")
    for name in ("clerk-q", "oper-q"):
        sign_in(embedded, name)
        assert embedded.get("/rq/").status_code == 403
    for name in ("boss-q", "admin-q"):
        sign_in(embedded, name)
        r = embedded.get("/rq/")
        assert r.status_code == 200 and 'id="queues-embedded"' in r.text and "ISSUANCE_REDIS_URL" in r.text
        assert r.headers["content-security-policy"] == CSP  # our own page keeps the strict policy
    assert embedded.post("/rq/0/job/x/delete", headers={"x-csrf-token": "t"}).status_code == 405


@pytest.mark.redis
def test_rq_dashboard_on_redis(on_redis: TestClient, people: None) -> None:
    jobs = RedisQueue.from_url(REDIS_URL)
    name = f"dashboard-test-{uuid.uuid4().hex[:8]}"
    jobs.enqueue_ids(name, "workers.jobs.validate_job", [1], chunk_size=1)
    try:
        assert on_redis.get("/rq/", follow_redirects=False).status_code == 303
        assert on_redis.get("/rq/0/data/queues.json", follow_redirects=False).status_code == 303
        sign_in(on_redis, "clerk-q")
        assert on_redis.get("/rq/").status_code == 403
        assert on_redis.get("/rq/0/data/queues.json").status_code == 403
        sign_in(on_redis, "boss-q")
        page = on_redis.get("/rq/")
        assert page.status_code == 200 and "RQ dashboard" in page.text
        assert "'unsafe-eval'" in page.headers["content-security-policy"]
        queues = on_redis.get("/rq/0/data/queues.json").json()["queues"]
        assert {q["name"]: q["count"] for q in queues}[name] == 1
        assert on_redis.post(f"/rq/0/queue/{name}/empty").status_code == 405
        assert on_redis.get("/supervisor/dashboard").headers["content-security-policy"] == CSP
    finally:
        jobs.queue(name).delete(delete_jobs=True)
        Redis.from_url(REDIS_URL).delete(f"issuance:pending:{name}")
