"""The dashboard's figures equal direct database counts, per site, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from issuance.config import Settings
from issuance.dashboard import Dashboard, Scope, dashboard
from issuance.db import Database
from issuance.models import Role
from issuance.web.app import create_app
from tests.dashboard.production import SITES, Floor, build
from tests.factories import make_user
from tests.web.pages import sign_in


@pytest.fixture
def floor(db: Database, monkeypatch: pytest.MonkeyPatch) -> Floor:
    return build(db, monkeypatch)


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    """The web app without its lifespan: no queue thread reconciles the floor while the test reads it."""
    app = create_app(settings)
    yield TestClient(app)
    app.state.runtime.close()


def _direct(db: Database, sql: str, **params: object) -> list[tuple[object, ...]]:
    with db.session() as s:
        return [tuple(r) for r in s.execute(text(sql), params)]


def _where(column: str, site: str | None) -> str:
    return "" if site is None else f"WHERE {column} = :site"


def _apps_by_state(db: Database, site: str | None) -> dict[str, int]:
    rows = _direct(db, f"SELECT state, COUNT(*) FROM applications {_where('site', site)} GROUP BY state",
                   site=site)
    return {str(s): int(str(n)) for s, n in rows}


def _cards_by_state(db: Database, site: str | None) -> dict[str, int]:
    rows = _direct(db, "SELECT c.state, COUNT(*) FROM cards c JOIN applications a ON a.id = c.application_id "
                       f"{_where('a.site', site)} GROUP BY c.state", site=site)
    return {str(s): int(str(n)) for s, n in rows}


def _transitions(db: Database, site: str | None, width: int) -> Counter[tuple[str, str]]:
    """(bucket, state) -> transitions into the state, straight from the audit rows."""
    apps = {str(i): s for i, s in _direct(db, "SELECT id, site FROM applications")}
    events = _direct(db, "SELECT entity_id, ts, to_state FROM audit_events WHERE entity_type = 'application'")
    return Counter((str(ts)[:width], str(state)) for eid, ts, state in events
                   if site in (None, apps.get(str(eid))))


def _check_throughput(d: Dashboard, db: Database, site: str | None) -> None:
    for data, width in ((d.hourly, 13), (d.daily, 10)):
        direct = _transitions(db, site, width)
        for state, counts in data.series.items():
            assert counts == [direct[(label, state)] for label in data.labels], (state, width)
    # The window holds nearly everything that happened in the last 30 days.
    assert sum(sum(c) for c in d.daily.series.values()) > 0
    assert sum(sum(c) for c in d.hourly.series.values()) <= sum(sum(c) for c in d.daily.series.values())


def _check(d: Dashboard, db: Database, site: str | None) -> None:
    assert {c.state: c.count for c in d.applications} == _apps_by_state(db, site)
    assert {c.state: c.count for c in d.cards} == _cards_by_state(db, site)
    assert d.totals["applications"] == sum(_apps_by_state(db, site).values())
    batches = _direct(db, "SELECT b.number, COUNT(a.id) FROM batches b JOIN applications a "
                          f"ON a.batch_id = b.id {_where('b.site', site)} GROUP BY b.number", site=site)
    shown = {b.number: b.total for b in d.batches}
    assert all(shown[str(number)] == int(str(n)) for number, n in batches if str(number) in shown)
    _check_throughput(d, db, site)


def test_figures_equal_database_counts(db: Database, settings: Settings, floor: Floor) -> None:
    for site in (*SITES, None):
        with db.session() as s:
            d = dashboard(s, Scope(site), settings, now=floor.now)
        assert sum(c.count for c in d.applications) == (150 if site else 300)
        _check(d, db, site)


def test_ageing_counts_what_passed_each_limit(db: Database, settings: Settings, floor: Floor) -> None:
    tight = replace(settings, ageing_limit_hours=48.0, extra={"ageing_limits": {"exception": 1}})
    with db.session() as s:
        d = dashboard(s, Scope("HQ"), tight, now=floor.now)
    cutoff = floor.now - dt.timedelta(hours=48)
    rows = _direct(db, "SELECT state, updated_at FROM applications WHERE site = 'HQ' "
                       "AND state NOT IN ('rejected', 'delivered')")
    expected: Counter[str] = Counter()
    for state, when in rows:
        stamp = when if isinstance(when, dt.datetime) else dt.datetime.fromisoformat(str(when))
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
        limit = floor.now - dt.timedelta(hours=1) if state == "exception" else cutoff
        expected[str(state)] += stamp < limit
    assert {a.state: a.overdue for a in d.ageing} == {s: expected[s] for s in {a.state for a in d.ageing}}
    assert {a.state: a.limit_hours for a in d.ageing}["exception"] == 1
    assert all(o.hours >= 1 for o in d.overdue) and len(d.overdue) == min(20, sum(expected.values()))
    assert [o.since for o in d.overdue] == sorted(o.since for o in d.overdue)


def test_failures_and_equipment_figures(db: Database, settings: Settings, floor: Floor) -> None:
    with db.session() as s:
        d = dashboard(s, Scope("EAST"), settings, now=floor.now)
    spoiled = _direct(db, "SELECT COUNT(*) FROM cards c JOIN applications a ON a.id = c.application_id "
                          "WHERE a.site = 'EAST' AND c.state = 'spoiled'")[0][0]
    assert int(str(spoiled)) > 0
    assert d.spoiled and all(c.step == "write_dg2" and c.status_word == "6A84" for c in d.spoiled)
    assert sum(f.count for f in d.spoiled_by_step) <= int(str(spoiled))
    today = floor.now.strftime("%Y-%m-%d")
    locked = _direct(db, "SELECT e.action, COUNT(*) FROM audit_events e JOIN cards c ON e.entity_id = "
                         "CAST(c.id AS VARCHAR(20)) JOIN stations st ON st.id = c.station_id WHERE "
                         "e.entity_type = 'card' AND st.code = 'S-EAST' AND e.ts >= :day GROUP BY e.action",
                     day=today)
    by_action = {str(a): int(str(n)) for a, n in locked}
    [station] = d.stations
    assert (station.code, station.done_today, station.spoiled_today) == (
        "S-EAST", by_action.get("card.locked", 0), by_action.get("card.spoiled", 0))
    [printer] = d.printers
    midnight = floor.now.replace(hour=0, minute=0, second=0, microsecond=0)
    [(printed,)] = _direct(db, "SELECT COUNT(*) FROM print_attempts WHERE printer = 'P-EAST' "
                               "AND state = 'completed' AND updated_at >= :day", day=midnight)
    assert (printer.code, printer.printed_today, printer.failed_today) == ("P-EAST", int(str(printed)), 0)
    reasons = {r.state: r.count for r in d.exception_reasons}
    held = _apps_by_state(db, "EAST").get("exception", 0)
    assert sum(reasons.values()) == held


def test_page_and_json_show_one_site_to_its_supervisor(db: Database, web: TestClient, floor: Floor) -> None:
    sign_in(web, floor.supervisors["HQ"])
    page = web.get("/supervisor/dashboard")
    assert page.status_code == 200
    assert "EAST-" not in page.text and "S-EAST" not in page.text and "P-EAST" not in page.text
    fragment = web.get("/supervisor/dashboard/figures")
    assert fragment.status_code == 200 and "EAST" not in fragment.text
    assert 'hx-trigger="every 15s"' in fragment.text
    body = web.get("/supervisor/dashboard.json").json()
    assert body["site"] == "HQ" and "EAST" not in json.dumps(body)
    assert {c["state"]: c["count"] for c in body["applications"]} == _apps_by_state(db, "HQ")
    for other in ("EAST", "junk'\"<>", "x" * 65):
        assert web.get("/supervisor/dashboard.json", params={"site": other}).status_code in (403, 422)
        assert web.get("/supervisor/dashboard", params={"site": other}).status_code in (403, 422)


def test_admin_sees_every_site_and_filters(db: Database, web: TestClient, floor: Floor) -> None:
    make_user(db, "root", Role.ADMIN)
    sign_in(web, "root")
    everything = web.get("/supervisor/dashboard.json").json()
    assert everything["site"] is None
    assert {c["state"]: c["count"] for c in everything["applications"]} == _apps_by_state(db, None)
    east = web.get("/supervisor/dashboard.json", params={"site": "EAST"}).json()
    assert {c["state"]: c["count"] for c in east["applications"]} == _apps_by_state(db, "EAST")
    page = web.get("/supervisor/dashboard", params={"site": "EAST"})
    assert page.status_code == 200 and '<option value="EAST" selected>' in page.text
    assert web.get("/supervisor/dashboard", params={"site": "NOWHERE"}).status_code == 404
