"""The audit log viewer: exactly the matching entries, site scope, the chain's verdict, junk refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from issuance.audit_search import HIDDEN, mask
from issuance.db import Database
from issuance.models import Application, AuditEvent, Card, Role
from tests.factories import make_user
from tests.report_activity import DAY, TZ, Day, amman_settings, day_of_activity  # noqa: F401  (fixtures)
from tests.web.pages import sign_in

_SEQ = re.compile(r'<tr id="seq-(\d+)">')
_OLDER = re.compile(r'href="(/audit\?[^"]*)" rel="next"')


def _listed(client: TestClient, params: dict[str, str]) -> list[int]:
    """Every entry the viewer lists for the filters, following the "older" links page by page."""
    r = client.get("/audit", params=params)
    seqs: list[int] = []
    while True:
        assert r.status_code == 200, r.text[:400]
        seqs += [int(n) for n in _SEQ.findall(r.text)]
        older = _OLDER.search(r.text)
        if older is None:
            return seqs
        r = client.get(older.group(1).replace("&amp;", "&"))


def _expected(db: Database, keep: Callable[[AuditEvent], bool]) -> list[int]:
    with db.session() as s:
        return sorted((e.seq for e in s.scalars(select(AuditEvent)) if keep(e)), reverse=True)


def _local_day(event: AuditEvent) -> dt.date:
    ts = dt.datetime.strptime(event.ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return ts.astimezone(TZ).date()


def _site_entities(db: Database, site: str) -> set[tuple[str, str]]:
    with db.session() as s:
        apps = {a.id for a in s.scalars(select(Application).where(Application.site == site))}
        cards = {c.id for c in s.scalars(select(Card)) if c.application_id in apps}
    return {("application", str(i)) for i in apps} | {("card", str(i)) for i in cards}


def test_filters_return_exactly_the_matching_entries(db: Database, client: TestClient, day: Day) -> None:
    sign_in(client, "root")
    a0 = str(day.hq[0])
    cases: list[tuple[dict[str, str], Callable[[AuditEvent], bool]]] = [
        ({"actor": "clerk1"}, lambda e: e.actor == "clerk1"),
        ({"action": "application.approved", "date_from": DAY.isoformat(), "date_to": DAY.isoformat()},
         lambda e: e.action == "application.approved" and _local_day(e) == DAY),
        ({"entity_type": "application", "entity_id": a0},
         lambda e: (e.entity_type, e.entity_id) == ("application", a0)),
        ({"date_to": (DAY - dt.timedelta(days=1)).isoformat()}, lambda e: _local_day(e) < DAY),
        ({"actor": "nobody"}, lambda e: False),
    ]
    for params, keep in cases:
        expected = _expected(db, keep)
        assert _listed(client, params) == expected, params
    assert len(_listed(client, {})) == len(_expected(db, lambda e: True)) > 50  # more than one page


def test_a_supervisor_sees_their_own_site_only(db: Database, client: TestClient, day: Day) -> None:
    hq = _site_entities(db, "HQ")
    sign_in(client, "boss")
    own = _expected(db, lambda e: e.site == "HQ" or (e.entity_type, e.entity_id) in hq)
    assert _listed(client, {}) == own
    refused = client.get("/audit", params={"site": "NORTH"})
    assert refused.status_code == 403 and "site HQ only" in refused.text
    sign_in(client, "north")
    assert _listed(client, {"entity_type": "application", "entity_id": str(day.hq[0])}) == []
    north = _listed(client, {})
    assert north and not {s for s in north} & set(_expected(db, lambda e: (e.entity_type, e.entity_id) in hq))
    sign_in(client, "root")
    assert _listed(client, {"site": "NORTH"}) == north


def _tamper(db: Database, statement: str) -> None:
    """What a DBA with write access could do: switch the append-only guard off and edit a row."""
    with db.transaction() as s:
        if db.dialect == "postgresql":
            s.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            s.execute(text("DROP TRIGGER audit_events_no_update"))
        s.execute(text(statement))
        if db.dialect == "postgresql":
            s.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def test_the_page_shows_where_a_tampered_chain_breaks(db: Database, client: TestClient) -> None:
    make_user(db, "boss", Role.SUPERVISOR)
    make_user(db, "clerk1", Role.CLERK)
    sign_in(client, "boss")
    page = client.get("/audit")
    assert 'hx-get="/audit/verify"' in page.text
    intact = client.get("/audit/verify")
    assert intact.status_code == 200 and 'class="chain-ok"' in intact.text
    _tamper(db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    broken = client.get("/audit/verify")
    assert broken.status_code == 200 and 'data-bad-seq="3"' in broken.text
    assert "entry 3 was altered or forged" in broken.text and 'href="/audit?before=4"' in broken.text
    fragment = client.get("/audit/verify", headers={"HX-Request": "true"})
    assert 'data-bad-seq="3"' in fragment.text and "<html" not in fragment.text
    assert _listed(client, {"before": "4"})[0] == 3


@pytest.mark.parametrize(("params", "field"), [
    ({"date_from": "2026-02-30"}, "date_from: a date as YYYY-MM-DD"),
    ({"date_from": "yesterday"}, "date_from: a date as YYYY-MM-DD"),
    ({"date_to": "2026-03-10T00:00"}, "date_to: a date as YYYY-MM-DD"),
    ({"date_from": "2026-03-11", "date_to": "2026-03-10"}, "date_to: must not be before date_from"),
    ({"before": "-1"}, "before: an entry number from 1 to"),
    ({"before": "99999999999999999999"}, "before: an entry number from 1 to"),
    ({"before": "١٢"}, "before: an entry number from 1 to"),
    ({"before": "0"}, "before: an entry number from 1 to"),
    ({"actor": "x" * 65}, "actor: at most 64 characters"),
    ({"entity_type": "x" * 33}, "entity_type: at most 32 characters"),
    ({"action": "card.\x00"}, "action: control characters are not allowed"),
    ({"entity_id": "1\n2"}, "entity_id: control characters are not allowed"),
])
def test_junk_filters_get_a_422_naming_the_field(db: Database, client: TestClient, params: dict[str, str],
                                                 field: str) -> None:
    make_user(db, "boss", Role.SUPERVISOR)
    sign_in(client, "boss")
    r = client.get("/audit", params=params)
    assert r.status_code == 422 and field in r.text, r.text[:500]
    if not field.startswith("before"):  # the one filter without a form field (the "older" links set it)
        assert 'aria-invalid="true"' in r.text


def test_the_page_reads_in_both_languages(db: Database, client: TestClient) -> None:
    make_user(db, "boss", Role.SUPERVISOR)
    sign_in(client, "boss")
    assert "سجل التدقيق" in client.get("/audit").text and "التقارير" in client.get("/reports").text
    client.post("/language", data={"csrf_token": _csrf(client), "language": "en", "next": "/audit"})
    page = client.get("/audit")
    assert "Audit log" in page.text and 'href="/reports"' in page.text and 'href="/audit"' in page.text


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/audit").text)
    assert found
    return found.group(1)


@pytest.mark.parametrize(("details", "shown"), [
    ({"pin": "1234", "batch": "HQ-B000001"}, {"pin": HIDDEN, "batch": "HQ-B000001"}),
    ({"nested": {"newPassword": "x", "ok": 1}}, {"nested": {"newPassword": HIDDEN, "ok": 1}}),
    ({"blob": "00112233445566778899aabbccddeeff"}, {"blob": HIDDEN}),
    ({"key_id": "k1", "fingerprint": "00112233445566778899aabbccddeeff"},
     {"key_id": "k1", "fingerprint": "00112233445566778899aabbccddeeff"}),
    ({"list": ["-----BEGIN PRIVATE KEY-----", "name"]}, {"list": [HIDDEN, "name"]}),
])
def test_secrets_are_masked_on_display(details: dict[str, Any], shown: dict[str, Any]) -> None:
    assert mask(details) == shown
