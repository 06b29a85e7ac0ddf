"""/metrics: it parses with prometheus_client's parser, its figures equal the database's; it is guarded."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from issuance import audit
from issuance.applications import open_application
from issuance.config import Settings
from issuance.db import Database
from issuance.demo import population
from issuance.models import Application, Role
from issuance.states import ApplicationState as A
from issuance.transitions import Actor, move_many
from issuance.web.app import create_app
from tests.dashboard.production import build, clock
from tests.factories import make_user
from tests.web.pages import sign_in
from workers.queues import VALIDATE, open_queue

TOKEN = "metrics-scraper-token-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    """The app with a metrics token and no lifespan (no queue thread takes the jobs a test enqueues)."""
    app = create_app(replace(settings, metrics_token=TOKEN))
    yield TestClient(app)
    app.state.runtime.close()


def scrape(web: TestClient) -> Samples:
    r = web.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def _named(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def _direct(db: Database, sql: str) -> dict[tuple[tuple[str, str], ...], float]:
    with db.session() as s:
        rows = s.execute(text(sql))
        return {(("site", str(site)), ("state", str(state))): float(n) for site, state, n in rows}


def test_counts_equal_the_database(db: Database, web: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    build(db, monkeypatch, per_site=60)
    samples = scrape(web)
    assert _named(samples, "issuance_applications") == _direct(
        db, "SELECT site, state, COUNT(*) FROM applications GROUP BY site, state")
    assert _named(samples, "issuance_cards") == _direct(
        db, "SELECT a.site, c.state, COUNT(*) FROM cards c JOIN applications a ON a.id = c.application_id "
            "GROUP BY a.site, c.state")
    spoiled = {labels[0][1]: v for labels, v in _named(samples, "issuance_cards_spoiled_total").items()}
    direct = _direct(db, "SELECT a.site, c.state, COUNT(*) FROM cards c JOIN applications a "
                         "ON a.id = c.application_id WHERE c.state = 'spoiled' GROUP BY a.site, c.state")
    assert spoiled == {site: n for ((_, site), _), n in direct.items()}
    with db.session() as s:
        held = Counter(str(site) for site, reasons in s.execute(text(
            "SELECT site, outcome_reasons FROM applications WHERE state = 'exception'"))
            if "REGISTRY_ERROR" in str(reasons))
    registry_errors = _named(samples, "issuance_registry_error_applications")
    assert {lab[0][1]: v for lab, v in registry_errors.items()} == {k: float(n) for k, n in held.items()}
    # Each stage's histogram counts the applications that reached its end state.
    with db.session() as s:
        delivered = dict(s.execute(text("SELECT site, COUNT(*) FROM applications WHERE state = 'delivered' "
                                        "GROUP BY site")).all())
    for site, n in delivered.items():
        assert samples[("issuance_stage_latency_seconds_count", (("site", site), ("stage", "delivery")))] == n


def test_queue_depths(db: Database, web: TestClient) -> None:
    jobs = open_queue(Settings())  # the process's embedded queue, which the app uses too
    jobs.enqueue_ids(VALIDATE, "workers.jobs.validate_job", [5, 6, 7], chunk_size=1)
    samples = scrape(web)
    assert samples[("issuance_queue_jobs", (("queue", "validate"),))] == 3
    assert samples[("issuance_queue_pending_ids", (("queue", "validate"),))] == 3
    assert samples[("issuance_queue_failed_jobs", (("queue", "validate"),))] == 0


def test_latency_histogram_and_postponements(db: Database, web: TestClient,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    clerk = make_user(db, "clerk-x", Role.CLERK)
    actor = Actor(clerk.username, "HQ")
    t0 = dt.datetime(2030, 1, 1, 8, tzinfo=dt.UTC)
    with db.transaction() as s:
        ids = [open_application(s, c, clerk).id for c in population.generate(2, seed=3)]
    for state, prev, hours in ((A.SUBMITTED, A.DRAFT, 0), (A.VALIDATING, A.SUBMITTED, 0)):
        with clock(monkeypatch, t0 + dt.timedelta(hours=hours)), db.transaction() as s:
            move_many(s, Application, ids, state, actor, expected=prev)
    before = scrape(web)  # the scan has read up to here: what follows is read incrementally
    with clock(monkeypatch, t0 + dt.timedelta(hours=2)), db.transaction() as s:
        move_many(s, Application, ids[:1], A.APPROVED, actor, expected=A.VALIDATING)
        audit.record_many(s, [audit.Entry(actor="validator", action="application.validation_postponed",
                                          entity_type="application", entity_id=str(ids[1]),
                                          details={"reason": "civil registry unavailable"})])
    samples = scrape(web)
    key = (("site", "HQ"), ("stage", "validation"))
    assert ("issuance_stage_latency_seconds_count", key) not in before
    assert samples[("issuance_stage_latency_seconds_count", key)] == 1
    assert samples[("issuance_stage_latency_seconds_sum", key)] == 7200
    assert samples[("issuance_stage_latency_seconds_bucket", (("le", "3600.0"), *key))] == 0
    assert samples[("issuance_stage_latency_seconds_bucket", (("le", "10800.0"), *key))] == 1
    postponed = (("cause", "registry_unavailable"), ("site", "HQ"))
    assert samples[("issuance_validation_postponed_total", postponed)] == 1
    assert scrape(web)[("issuance_validation_postponed_total", postponed)] == 1  # read once, not twice


def test_only_viewers_and_the_token_get_metrics(db: Database, web: TestClient, floor_users: None) -> None:
    assert web.get("/metrics").status_code == 401
    assert web.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    sign_in(web, "clerk-m")
    assert web.get("/metrics").status_code == 403
    for name in ("boss-m", "admin-m"):
        sign_in(web, name)
        r = web.get("/metrics")
        assert r.status_code == 200 and "issuance_applications" in r.text


def test_no_token_setting_means_no_token_access(settings: Settings, db: Database) -> None:
    app = create_app(settings)  # metrics_token empty: a bearer header opens nothing
    try:
        client = TestClient(app)
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    finally:
        app.state.runtime.close()


@pytest.fixture
def floor_users(db: Database) -> None:
    make_user(db, "clerk-m", Role.CLERK)
    make_user(db, "boss-m", Role.SUPERVISOR)
    make_user(db, "admin-m", Role.ADMIN)
