"""The reports pages: downloads whose figures are the database's, site scope, and junk refused with a 4xx."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from issuance.db import Database
from issuance.models import Applicant, Role
from tests.factories import make_user
from tests.report_activity import CLERK_NAME_AR, DAY, EXPECTED_TOTALS, Day, amman_settings, day_of_activity  # noqa: F401  (fixtures)
from tests.web.pages import sign_in


def _pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in pages))


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_supervisor_downloads_the_daily_report(db: Database, client: TestClient, day: Day) -> None:
    sign_in(client, "boss")
    page = client.get("/reports")
    assert page.status_code == 200 and day.batch in page.text and "Asia/Amman" in page.text
    pdf = client.get("/reports/daily", params={"site": "HQ", "day": DAY.isoformat(), "format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="daily-HQ-2026-03-10.pdf"'
    text = _pdf_text(pdf.content)
    assert CLERK_NAME_AR in text and "Asia/Amman" in text
    got = client.get("/reports/daily", params={"site": "HQ", "day": DAY.isoformat(), "format": "csv"})
    assert got.headers["content-type"].startswith("text/csv") and got.content.startswith(b"\xef\xbb\xbf")
    rows = _csv(got.content)
    totals = {measure: int(value) for section, _, measure, value in rows[1:] if section == "totals"}
    assert totals == EXPECTED_TOTALS
    assert ["clerk", "clerk2", "name", "'=cmd|' /C calc'!A0"] in rows


def test_supervisor_downloads_the_batch_report(db: Database, client: TestClient, day: Day) -> None:
    with db.session() as s:
        applicant = s.query(Applicant).filter(Applicant.application_id == day.hq[0]).one()
        arabic = applicant.person.full_name_ar
    sign_in(client, "boss")
    pdf = client.get("/reports/batch", params={"number": day.batch, "format": "pdf"})
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content)
    assert arabic in text and day.documents[day.hq[0]] in text
    rows = _csv(client.get("/reports/batch", params={"number": day.batch, "format": "csv"}).content)
    assert len(rows) == 1 + 5 and rows[1][1] == arabic and rows[1][4] == day.documents[day.hq[0]]


def test_another_sites_supervisor_gets_nothing(db: Database, client: TestClient, day: Day) -> None:
    sign_in(client, "north")
    assert day.batch not in client.get("/reports").text
    assert client.get("/reports/batch", params={"number": day.batch}).status_code == 404
    refused = client.get("/reports/daily", params={"site": "HQ", "day": DAY.isoformat()})
    assert refused.status_code == 403 and "site NORTH only" in refused.text
    own = client.get("/reports/daily", params={"site": "NORTH", "day": DAY.isoformat(), "format": "csv"})
    assert ["totals", "", "enrolled", "2"] in _csv(own.content)


def test_an_administrator_is_not_a_production_supervisor(db: Database, client: TestClient, day: Day) -> None:
    sign_in(client, "root")
    assert client.get("/reports/daily", params={"site": "HQ", "day": DAY.isoformat()}).status_code == 403


@pytest.mark.parametrize(("params", "status", "said"), [
    ({"site": "HQ", "day": "2026-13-45"}, 422, "day: a date as YYYY-MM-DD"),
    ({"site": "HQ", "day": "yesterday"}, 422, "day: a date as YYYY-MM-DD"),
    ({"site": "HQ", "day": "2026-3-1"}, 422, "day: a date as YYYY-MM-DD"),
    ({"site": "HQ", "day": "9" * 5000}, 422, "day: a date as YYYY-MM-DD"),
    ({"site": "../etc", "day": "2026-03-10"}, 422, "site: 1-40 letters"),
    ({"site": "HQ\x00", "day": "2026-03-10"}, 422, "site: 1-40 letters"),
    ({"site": "H" * 41, "day": "2026-03-10"}, 422, "site: 1-40 letters"),
    ({"site": "HQ", "day": "2026-03-10", "format": "exe"}, 422, "format: must be one of pdf, csv"),
    ({"site": "NOWHERE", "day": "2026-03-10"}, 404, "site: NOWHERE does not exist"),
])
def test_junk_daily_values_get_a_clear_4xx(db: Database, client: TestClient, params: dict[str, str],
                                           status: int, said: str) -> None:
    make_user(db, "boss", Role.SUPERVISOR)
    sign_in(client, "boss")
    r = client.get("/reports/daily", params=params)
    assert (r.status_code, said in r.text) == (status, True), r.text[:500]


@pytest.mark.parametrize(("number", "fmt", "status", "said"), [
    ("HQ-B999999", "pdf", 404, "batch: HQ-B999999 does not exist"),
    ("' OR 1=1 --", "pdf", 422, "number: 1-40 letters"),
    ("", "csv", 422, "number: 1-40 letters"),
    ("HQ-B000001", "docx", 422, "format: must be one of pdf, csv"),
])
def test_junk_batch_values_get_a_clear_4xx(db: Database, client: TestClient, number: str, fmt: str,
                                           status: int, said: str) -> None:
    make_user(db, "boss", Role.SUPERVISOR)
    sign_in(client, "boss")
    r = client.get("/reports/batch", params={"number": number, "format": fmt})
    assert (r.status_code, said in r.text) == (status, True), r.text[:500]

