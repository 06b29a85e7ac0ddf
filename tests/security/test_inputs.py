"""Input that must never give a 500, and one error body everywhere (points 5-7, 9, 10, 8's shape)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import enrollment.api
from enrollment.photo.samples import sample_portrait
from enrollment.rules import NationalNumberRule
from issuance.db import Database
from issuance.models import Application, BiometricImage, Role
from tests.factories import signed_in

APPLICANT = {
    "first_name_ar": "محمد", "father_name_ar": "أحمد", "grandfather_name_ar": "علي",
    "family_name_ar": "الرازي", "national_number": NationalNumberRule().complete("000000042"),
    "birth_date": "1980-03-12", "sex": "M", "nationality": "UTO", "birth_place": "Utopia City",
    "address": "1 Main Street",
}
BASE = "/api/enrollment/applications"
HUGE_IDS = [2**31, 2**63, 2**64 + 1, 10**30]



@pytest.fixture
def clerk(client: TestClient, db: Database) -> dict[str, str]:  # headers, not the user
    return signed_in(client, db, "amal")


def _draft(client: TestClient, headers: dict[str, str], **changes: str) -> int:
    r = client.post(BASE, json={**APPLICANT, **changes}, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _one_shape(body: dict[str, object]) -> list[dict[str, str]]:
    """The one error body: a message and field errors each with field, rule, en and ar."""
    assert set(body) == {"message", "errors"} and isinstance(body["message"], str), body
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    for e in errors:
        assert set(e) == {"field", "rule", "en", "ar"} and e["rule"] and e["en"] and e["ar"], e
    return errors


def _applications(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Application)) or 0


def test_persian_letters_are_transliterated_per_icao_table_c(
    client: TestClient, clerk: dict[str, str],
) -> None:
    r = client.post(BASE, json={**APPLICANT, "first_name_ar": "پرویز", "family_name_ar": "کریمی",
                                "father_name_ar": "چنگیز", "grandfather_name_ar": "گلی"}, headers=clerk)
    assert r.status_code == 201, r.text
    assert r.json()["mrz_name"].startswith("XKKRXYAMXYA<<P")


def test_a_letter_icao_does_not_transliterate_is_a_field_error(
    client: TestClient, clerk: dict[str, str], db: Database,
) -> None:
    r = client.post(BASE, json={**APPLICANT, "first_name_ar": "ڤيكتور"}, headers=clerk)
    assert r.status_code == 422
    assert [(e["field"], e["rule"]) for e in _one_shape(r.json())] == [
        ("first_name_ar", "icao_transliteration")]
    assert _applications(db) == 0


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_beyond_the_database_range_are_422_not_500(
    client: TestClient, db: Database, clerk: dict[str, str], huge: int,
) -> None:
    boss = signed_in(client, db, "boss", Role.SUPERVISOR)
    calls = [
        client.get(f"{BASE}/{huge}", headers=clerk),
        client.get(f"{BASE}/{huge}/receipt", headers=clerk),
        client.post(f"{BASE}/{huge}/submit", headers=clerk),
        client.put(f"{BASE}/{huge}/photo", content=b"\xff\xd8\xff", headers=clerk),
        client.post(f"/api/exceptions/{huge}/decision", json={"approve": True, "reason": "x"}, headers=boss),
        client.post(f"/api/applications/{huge}/photo-override", json={"reason": "x"}, headers=boss),
    ]
    for r in calls:
        assert r.status_code in (404, 422), (r.request.url, r.status_code, r.text)
        _one_shape(r.json())


@pytest.mark.parametrize("field", ["address", "birth_place", "first_name_ar", "given_names_latin",
                                   "national_number", "mrz_name"])
@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\u202e"])
def test_control_characters_are_a_field_error_and_nothing_is_stored(
    client: TestClient, clerk: dict[str, str], db: Database, field: str, bad: str,
) -> None:
    r = client.post(BASE, json={**APPLICANT, field: f"{APPLICANT.get(field, 'X')}{bad}x"}, headers=clerk)
    assert r.status_code == 422, r.text
    assert (field, "control_characters") in {(e["field"], e["rule"]) for e in _one_shape(r.json())}
    assert _applications(db) == 0


def test_sign_in_with_nul_is_422_and_never_echoes_the_password(client: TestClient) -> None:
    secret = "my-secret-password-123"
    for body in ({"username": "am\x00al", "password": secret}, {"username": "amal", "password": 5},
                 {"username": "x" * 500, "password": secret}):
        r = client.post("/api/session", json=body)
        assert r.status_code == 422, r.text
        _one_shape(r.json())
        assert secret not in r.text


def test_supervisor_text_with_nul_is_422(client: TestClient, db: Database) -> None:
    boss = signed_in(client, db, "boss", Role.SUPERVISOR)
    r = client.post("/api/exceptions/1/decision", json={"approve": True, "reason": "ok\x00"}, headers=boss)
    assert r.status_code == 422 and _one_shape(r.json())[0]["field"] == "reason"
    r = client.get("/api/batches/B%00X", headers=boss)
    assert r.status_code == 422
    r = client.post("/api/batches", json={"site": "H\x00Q"}, headers=boss)
    assert r.status_code == 422


@pytest.mark.parametrize("declared", ["text/plain", "image/png", "application/json", "image/gif"])
def test_a_jpeg_declared_as_something_else_is_refused(
    client: TestClient, clerk: dict[str, str], db: Database, declared: str,
) -> None:
    app_id = _draft(client, clerk)
    r = client.put(f"{BASE}/{app_id}/photo", content=sample_portrait(0),
                   headers={**clerk, "Content-Type": declared})
    assert r.status_code == 415, r.text
    _one_shape(r.json())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(BiometricImage)) == 0
    ok = client.put(f"{BASE}/{app_id}/photo", content=sample_portrait(0),
                    headers={**clerk, "Content-Type": "image/jpeg"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("declared", ["text/plain", "application/x-www-form-urlencoded", None])
def test_json_endpoints_require_json(
    client: TestClient, clerk: dict[str, str], db: Database, declared: str | None,
) -> None:
    import json

    headers = {**clerk, **({"Content-Type": declared} if declared else {})}
    r = client.post(BASE, content=json.dumps(APPLICANT).encode(), headers=headers)
    assert r.status_code == 415, r.text
    _one_shape(r.json())
    assert _applications(db) == 0


def test_ownership_and_state_are_checked_before_any_decoding(
    client: TestClient, clerk: dict[str, str], db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app_id = _draft(client, clerk)
    other = signed_in(client, db, "rana")

    def never(*_: object, **__: object) -> None:
        raise AssertionError("decoded an upload for an application the clerk may not touch")

    monkeypatch.setattr(enrollment.api, "decode_image", never)
    monkeypatch.setattr(enrollment.api, "prepare_signature", never)
    jpeg = {"Content-Type": "image/jpeg"}
    assert client.put(f"{BASE}/{app_id}/photo", content=sample_portrait(0),
                      headers={**other, **jpeg}).status_code == 404
    assert client.put(f"{BASE}/{app_id}/signature", content=b"\x89PNG\r\n\x1a\n",
                      headers={**other, "Content-Type": "image/png"}).status_code == 404
    with db.transaction() as s:
        s.get_one(Application, app_id).state = "submitted"  # type: ignore[assignment]
    r = client.put(f"{BASE}/{app_id}/photo", content=sample_portrait(0), headers={**clerk, **jpeg})
    assert r.status_code == 409


def test_every_failure_has_the_one_shape(client: TestClient, clerk: dict[str, str], db: Database) -> None:
    operator = signed_in(client, db, "omar", Role.OPERATOR)
    app_id = _draft(client, clerk)
    answers = {
        401: client.get("/api/me"),
        403: client.post(BASE, json=APPLICANT, headers=operator),
        404: client.get(f"{BASE}/999999", headers=clerk),
        409: client.post(f"{BASE}/{app_id}/submit", headers=clerk),
        413: client.put(f"{BASE}/{app_id}/photo", content=b"\xff" * (enrollment.api.MAX_PHOTO_BYTES + 1),
                        headers={**clerk, "Content-Type": "image/jpeg"}),
        422: client.post(BASE, json={**APPLICANT, "sex": "Q"}, headers=clerk),
    }
    for status, r in answers.items():
        assert r.status_code == status, (status, r.text)
        _one_shape(r.json())
