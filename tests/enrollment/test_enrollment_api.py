"""Enrollment API on the core app: drafts, uploads, submit, status; SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from photo_corpus import CorpusSet, jpeg
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import func, select

import enrollment.api
from enrollment.api import router
from enrollment.rules import NationalNumberRule
from issuance.config import Settings
from issuance.db import Database
from issuance.models import Application, BiometricImage, BiometricKind, Role
from issuance.roles import allows
from issuance.web.account import router as core
from issuance.web.app import create_app
from tests.factories import TEST_PASSWORD, make_user
from workers import queues

APPLICANT = {
    "first_name_ar": "محمد",
    "father_name_ar": "أحمد",
    "grandfather_name_ar": "علي",
    "family_name_ar": "الرازي",
    "national_number": NationalNumberRule().complete("000000042"),
    "birth_date": "1980-03-12",
    "sex": "M",
    "nationality": "UTO",
    "birth_place": "Utopia City",
    "address": "1 Main Street",
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, routers=[core, router])
    with TestClient(app) as c:
        yield c
    app.state.runtime.close()


def _headers(client: TestClient, db: Database, name: str, role: Role = Role.CLERK) -> dict[str, str]:
    make_user(db, name, role)
    r = client.post("/api/session", json={"username": name, "password": TEST_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def clerk_headers(client: TestClient, db: Database) -> dict[str, str]:
    return _headers(client, db, "amal")


def _draft(client: TestClient, headers: dict[str, str], **changes: str) -> int:
    r = client.post("/api/enrollment/applications", json={**APPLICANT, **changes}, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _signature_png() -> bytes:
    img = Image.new("L", (600, 200), 245)
    ImageDraw.Draw(img).line([(40, 150), (200, 40), (380, 160), (560, 60)], fill=20, width=6)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _stored(db: Database, app_id: int) -> dict[BiometricKind, BiometricImage]:
    with db.session() as s:
        rows = s.scalars(select(BiometricImage).where(BiometricImage.application_id == app_id))
        return {r.kind: r for r in rows}


def test_create_draft_proposes_the_mrz_name(
    client: TestClient, clerk_headers: dict[str, str]
) -> None:
    r = client.post("/api/enrollment/applications", json=APPLICANT, headers=clerk_headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "draft" and body["number"].startswith("HQ-")
    assert body["mrz_name"] == "ALRAZY<<MXHMD<XAEXHMD<ELY"
    assert body["mrz_name_truncated"] is False


def test_invalid_data_lists_every_error_in_both_languages(
    client: TestClient, clerk_headers: dict[str, str]
) -> None:
    bad = {**APPLICANT, "birth_date": "2999-01-01", "sex": "Q"}
    r = client.post("/api/enrollment/applications", json=bad, headers=clerk_headers)
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert set(errors) == {"birth_date", "sex"}
    assert errors["birth_date"]["rule"] == "not_future"
    assert errors["birth_date"]["en"] == "must not be in the future"
    assert errors["birth_date"]["ar"]


def test_only_clerks_enroll(client: TestClient, db: Database) -> None:
    assert client.post("/api/enrollment/applications", json=APPLICANT).status_code == 401
    operator = _headers(client, db, "omar", Role.OPERATOR)
    r = client.post("/api/enrollment/applications", json=APPLICANT, headers=operator)
    assert r.status_code == 403


def test_full_enrollment_path(
    client: TestClient, db: Database, clerk_headers: dict[str, str], corpus: CorpusSet,
    settings: Settings,
) -> None:
    app_id = _draft(client, clerk_headers)
    base = f"/api/enrollment/applications/{app_id}"
    photo = jpeg(corpus.goods["good_default"])
    r = client.put(f"{base}/photo", content=photo, headers={**clerk_headers,
                                                            "Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["passed"] is True
    assert {c["name"] for c in report["checks"]} >= {"head_height", "sharpness", "roll", "eyes_open"}
    # What the clerk's screen draws: landmarks, measured crown and chin, the eye line.
    guides = report["guides"]
    assert len(guides["landmarks"]) == 5 and guides["crown_found"] is True
    assert guides["crown"][1] < guides["eye_line_y"] < guides["chin"][1]
    assert all(c["reason_ar"] for c in report["checks"])
    r = client.put(f"{base}/signature", content=_signature_png(), headers=clerk_headers)
    assert r.status_code == 200 and r.json()["stored"] is True

    stored = _stored(db, app_id)
    assert set(stored) == {BiometricKind.PHOTO, BiometricKind.CHIP_PHOTO, BiometricKind.SIGNATURE}
    assert (stored[BiometricKind.PHOTO].width, stored[BiometricKind.PHOTO].height) == (413, 531)
    chip = stored[BiometricKind.CHIP_PHOTO]
    assert chip.byte_size <= 20_000 and (chip.width, chip.height) == (240, 320)
    assert photo[:64] not in stored[BiometricKind.PHOTO].ciphertext

    jobs = queues.open_queue(settings)
    before = jobs.pending(queues.VALIDATE).get(app_id)
    r = client.post(f"{base}/submit", headers=clerk_headers)
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "submitted"
    after = jobs.pending(queues.VALIDATE).get(app_id)
    assert after is not None and after != before

    status = client.get(base, headers=clerk_headers).json()
    # The app works its embedded queue meanwhile, so validation may already have begun.
    assert status["state"] != "draft" and status["photo_passed"] is True
    assert status["signature"] is True
    # Drafts only: a submitted application no longer takes uploads.
    r = client.put(f"{base}/photo", content=photo, headers=clerk_headers)
    assert r.status_code == 409

    pdf = client.get(f"{base}/receipt", headers=clerk_headers)
    assert pdf.headers["content-type"] == "application/pdf"
    assert status["number"] in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()


def test_failed_photo_is_reported_and_blocks_submit(
    client: TestClient, db: Database, clerk_headers: dict[str, str], corpus: CorpusSet
) -> None:
    app_id = _draft(client, clerk_headers)
    base = f"/api/enrollment/applications/{app_id}"
    blurred = jpeg(corpus.defects["blurred"][1])  # type: ignore[arg-type]
    r = client.put(f"{base}/photo", content=blurred, headers=clerk_headers)
    assert r.status_code == 200
    failed = [c for c in r.json()["checks"] if not c["passed"]]
    assert "sharpness" in {c["name"] for c in failed}
    assert _stored(db, app_id)[BiometricKind.PHOTO].quality_passed is False
    client.put(f"{base}/signature", content=_signature_png(), headers=clerk_headers)
    r = client.post(f"{base}/submit", headers=clerk_headers)
    assert r.status_code == 409 and "photo" in r.json()["message"]


@pytest.mark.parametrize("name", ["truncated.jpg", "zero.jpg", "bomb.png", "text.jpg",
                                  "huge_header.jpg", "huge_header.png"])
def test_bad_file_is_a_4xx_and_nothing_is_stored(
    name: str, client: TestClient, db: Database, clerk_headers: dict[str, str],
    corpus: CorpusSet,
) -> None:
    app_id = _draft(client, clerk_headers)
    r = client.put(f"/api/enrollment/applications/{app_id}/photo",
                   content=corpus.bad_files[name], headers=clerk_headers)
    assert 400 <= r.status_code < 500
    assert r.json()["message"] and r.json()["errors"][0]["rule"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(BiometricImage)) == 0


def test_oversized_upload_is_refused_before_decoding(
    client: TestClient, clerk_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = _draft(client, clerk_headers)
    monkeypatch.setattr(enrollment.api, "MAX_PHOTO_BYTES", 1000)

    def never(_: bytes) -> None:
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(enrollment.api, "decode_image", never)
    r = client.put(f"/api/enrollment/applications/{app_id}/photo", content=b"\xff" * 5000,
                   headers=clerk_headers)
    assert r.status_code == 413


def test_blank_signature_is_rejected(client: TestClient, clerk_headers: dict[str, str]) -> None:
    app_id = _draft(client, clerk_headers)
    buf = io.BytesIO()
    Image.new("L", (600, 200), 250).save(buf, "PNG")
    r = client.put(f"/api/enrollment/applications/{app_id}/signature", content=buf.getvalue(),
                   headers=clerk_headers)
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "no_signature"


def test_another_clerk_cannot_see_or_touch_the_application(
    client: TestClient, db: Database, clerk_headers: dict[str, str]
) -> None:
    app_id = _draft(client, clerk_headers)
    other = _headers(client, db, "badr")
    assert client.get(f"/api/enrollment/applications/{app_id}", headers=other).status_code == 404
    r = client.put(f"/api/enrollment/applications/{app_id}/signature",
                   content=_signature_png(), headers=other)
    assert r.status_code == 404


def test_openapi_schema_publishes_the_enrollment_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    create = paths["/api/enrollment/applications"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert "first_name_ar" in schema["properties"]
    photo = paths["/api/enrollment/applications/{application_id}/photo"]["put"]
    assert "image/jpeg" in photo["requestBody"]["content"]


def test_role_guard_runs_before_any_upload_is_read(client: TestClient, db: Database) -> None:
    """Every enrollment route answers 403 exactly to the roles its permission leaves out."""
    headers = {role: _headers(client, db, f"u-{role.value}", role) for role in Role}
    guarded = []
    for route in router.routes:
        for dep in route.dependant.dependencies:  # type: ignore[attr-defined]
            permission = getattr(dep.call, "permission", None)
            if permission is not None:
                guarded.append((route, permission))
    assert len(guarded) == 6
    for route, permission in guarded:
        path = route.path_format.replace("{application_id}", "999")  # type: ignore[attr-defined]
        for method in route.methods:  # type: ignore[attr-defined]
            for role in Role:
                r = client.request(method, path, headers=headers[role], content=b"")
                assert (r.status_code == 403) == (not allows(role, permission)), (
                    f"{method} {path} as {role}: {r.status_code}")


def test_state_configuration_drives_the_rules(
    settings: Settings, db: Database, corpus: CorpusSet
) -> None:
    strict = replace(settings, extra={"national_number_length": 12,
                                      "photo_thresholds": {"min_eye_distance_px": 500}})
    app = create_app(strict, routers=[core, router])
    with TestClient(app) as c:
        headers = _headers(c, db, "amal")
        r = c.post("/api/enrollment/applications", json=APPLICANT, headers=headers)
        assert r.status_code == 422
        assert r.json()["errors"][0]["rule"] == "digits"
        number = NationalNumberRule(length=12).complete("00000000042")
        app_id = _draft(c, headers, national_number=number)
        r = c.put(f"/api/enrollment/applications/{app_id}/photo",
                  content=jpeg(corpus.goods["good_default"]), headers=headers)
        assert r.status_code == 200
        failed = [check["name"] for check in r.json()["checks"] if not check["passed"]]
        assert failed == ["eye_distance"]
    app.state.runtime.close()


def test_oversized_or_malformed_applicant_json_is_refused(
    client: TestClient, clerk_headers: dict[str, str]
) -> None:
    huge = {**APPLICANT, "address": "x" * (70 * 1024)}
    r = client.post("/api/enrollment/applications", json=huge, headers=clerk_headers)
    assert r.status_code == 413
    r = client.post("/api/enrollment/applications", content=b"[1, 2",
                    headers={**clerk_headers, "Content-Type": "application/json"})
    assert r.status_code == 422


def test_renewal_names_the_card_it_replaces(client: TestClient, db: Database,
                                            clerk_headers: dict[str, str]) -> None:
    from issuance.models import Application

    r = client.post("/api/enrollment/applications", headers=clerk_headers,
                    json={**APPLICANT, "kind": "replacement", "replacement_reason": "lost",
                          "replaces_card": "c 1234567"})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "replacement"
    with db.session() as s:
        app = s.get_one(Application, r.json()["id"])
        assert (app.kind, app.replacement_reason, app.replaces_document_number) == (
            "replacement", "lost", "C1234567")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "renewal"}, {("replaces_card", "old_card_needed")}),
        ({"kind": "replacement", "replaces_card": "C1"}, {("replacement_reason", "required")}),
        ({"kind": "replacement", "replacement_reason": "burnt", "replaces_card": "C1"},
         {("replacement_reason", "replacement_reason")}),
        ({"kind": "upgrade"}, {("kind", "application_kind")}),
        ({"replaces_card": "C1"}, {("replaces_card", "only_for_renewal")}),
        ({"kind": "renewal", "replaces_card": "C-1"}, {("replaces_card", "document_number")}),
        ({"kind": "renewal", "birth_date": "2999-01-01"},
         {("replaces_card", "old_card_needed"), ("birth_date", "not_future")}),
    ],
)
def test_kind_errors_name_field_and_rule_in_both_languages(
    client: TestClient, db: Database, clerk_headers: dict[str, str],
    changes: dict[str, str], expected: set[tuple[str, str]],
) -> None:
    from issuance.models import Application

    r = client.post("/api/enrollment/applications", json={**APPLICANT, **changes},
                    headers=clerk_headers)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {(e["field"], e["rule"]) for e in errors} == expected
    assert all(e["en"] and e["ar"] for e in errors)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0


def test_a_failed_re_upload_removes_the_chip_image_of_the_earlier_photo(
    client: TestClient, db: Database, clerk_headers: dict[str, str], corpus: CorpusSet
) -> None:
    app_id = _draft(client, clerk_headers)
    url = f"/api/enrollment/applications/{app_id}/photo"
    jpeg_type = {**clerk_headers, "Content-Type": "image/jpeg"}
    assert client.put(url, content=jpeg(corpus.goods["good_default"]), headers=jpeg_type).json()["passed"]
    assert BiometricKind.CHIP_PHOTO in _stored(db, app_id)
    blurred = jpeg(corpus.defects["blurred"][1])  # type: ignore[arg-type]
    assert client.put(url, content=blurred, headers=jpeg_type).json()["passed"] is False
    stored = _stored(db, app_id)
    assert stored[BiometricKind.PHOTO].quality_passed is False
    assert BiometricKind.CHIP_PHOTO not in stored  # the chip can only carry the stored face


def test_the_reviewed_mrz_name_is_stored_and_shown(
    client: TestClient, db: Database, clerk_headers: dict[str, str]
) -> None:
    reviewed = "ALRAZI<<MOHAMMED<AHMAD"
    app_id = _draft(client, clerk_headers, mrz_name=reviewed)
    status = client.get(f"/api/enrollment/applications/{app_id}", headers=clerk_headers).json()
    assert status["mrz_name"] == reviewed
    with db.session() as s:
        assert s.get_one(Application, app_id).applicant.mrz_name == reviewed
    proposed = client.get(f"/api/enrollment/applications/{_draft(client, clerk_headers)}",
                          headers=clerk_headers).json()
    assert proposed["mrz_name"] == "ALRAZY<<MXHMD<XAEXHMD<ELY"


def test_an_mrz_name_longer_than_the_td1_field_is_refused(
    client: TestClient, clerk_headers: dict[str, str]
) -> None:
    r = client.post("/api/enrollment/applications", json={**APPLICANT, "mrz_name": "A" * 20 + "<<" + "B" * 9},
                    headers=clerk_headers)
    assert r.status_code == 422
    assert [(e["field"], e["rule"]) for e in r.json()["errors"]] == [("mrz_name", "max_length")]
