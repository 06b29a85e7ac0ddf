"""The exceptions queue: roles, site scoping, registry record beside the data, photos, four eyes, bulk."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from issuance.biometrics import ImageMeta, store_biometric
from issuance.models import Applicant, Application, AuditEvent, BiometricKind, Role
from issuance.registry.store import RegistryStore
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from tests.factories import application_state, bearer, make_user
from tests.supervision.conftest import People, hold, reason
from tests.web.pages import sign_in

A = ApplicationState
PHOTO = b"\xff\xd8held-photo\xff\xd9"
OTHER_PHOTO = b"\xff\xd8other-photo\xff\xd9"


@pytest.mark.parametrize("role", [Role.CLERK, Role.OPERATOR, Role.ADMIN])
def test_other_roles_are_refused_every_exceptions_page(runtime: Runtime, client: TestClient, people: People,
                                                       role: Role) -> None:
    [app_id] = hold(runtime, people.clerk, [reason("NAME_FUZZY")])
    make_user(runtime.db, "visitor", role)
    csrf = sign_in(client, "visitor")
    for path in ("/supervisor/exceptions", f"/supervisor/exceptions/{app_id}",
                 f"/supervisor/exceptions/{app_id}/photo.jpg"):
        assert client.get(path).status_code == 403, path
    for path in (f"/supervisor/exceptions/{app_id}/decision", "/supervisor/exceptions/bulk"):
        form = {"csrf_token": csrf, "decision": "approve", "reason": "x", "ids": str(app_id)}
        r = client.post(path, data=form)
        assert r.status_code == 403, path
    assert application_state(runtime.db, app_id) == A.EXCEPTION
    assert "/supervisor/exceptions" not in client.get("/").text


def test_queue_lists_reasons_filters_and_scopes_by_site(runtime: Runtime, client: TestClient,
                                                       people: People) -> None:
    [fuzzy] = hold(runtime, people.clerk, [reason("NAME_FUZZY", "names close to the registry")])
    [old] = hold(runtime, people.clerk, [reason("PHOTO_QUALITY", "the photo failed")], skip=1, days=5)
    [north] = hold(runtime, people.clerk, [reason("NAME_FUZZY", "at north")], skip=2, site="NORTH")
    sign_in(client, "sara")
    page = client.get("/supervisor/exceptions").text
    numbers = {i: runtime.db.session().get_one(Application, i).number for i in (fuzzy, old, north)}
    assert numbers[fuzzy] in page and numbers[old] in page and numbers[north] not in page
    assert "names close to the registry" in page and "PHOTO_QUALITY" in page
    assert page.index(str(numbers[old])) < page.index(str(numbers[fuzzy]))  # oldest first
    by_code = client.get("/supervisor/exceptions", params={"reason": "PHOTO_QUALITY"}).text
    assert numbers[old] in by_code and f'href="/supervisor/exceptions/{fuzzy}"' not in by_code
    aged = client.get("/supervisor/exceptions", params={"older_than": "3"}).text
    assert f'href="/supervisor/exceptions/{old}"' in aged
    assert f'href="/supervisor/exceptions/{fuzzy}"' not in aged
    for params in ({"reason": "<script>"}, {"older_than": "2"}, {"older_than": "-1"}, {"site": "NORTH"}):
        r = client.get("/supervisor/exceptions", params=params)
        assert r.status_code == 422 and ("reason:" in r.text or "older_than:" in r.text or "site:" in r.text)
    # The other site's exception is missing for this supervisor, everywhere.
    for path in (f"/supervisor/exceptions/{north}", f"/supervisor/exceptions/{north}/photo.jpg"):
        assert client.get(path).status_code == 404
    sign_in(client, "nour")
    page = client.get("/supervisor/exceptions").text
    assert numbers[north] in page and numbers[fuzzy] not in page


def test_api_list_filters_and_scoping(runtime: Runtime, client: TestClient, people: People) -> None:
    hold(runtime, people.clerk, [reason("NAME_FUZZY")])
    hold(runtime, people.clerk, [reason("PHOTO_QUALITY")], skip=1, days=10)
    headers = bearer(client, "sara")
    assert len(client.get("/api/exceptions", headers=headers).json()) == 2
    assert [r["reasons"][0]["code"] for r in client.get(
        "/api/exceptions", params={"older_than_days": 7}, headers=headers).json()] == ["PHOTO_QUALITY"]
    assert client.get("/api/exceptions", params={"reason": "bad code!"}, headers=headers).status_code == 422
    assert client.get("/api/exceptions", headers=bearer(client, "nour")).json() == []


def test_detail_puts_the_registry_record_beside_the_data_and_shows_the_photo(
        runtime: Runtime, client: TestClient, people: People) -> None:
    [app_id] = hold(runtime, people.clerk, [reason("PHOTO_QUALITY", "the photo failed quality checks")])
    report = {"passed": False, "checks": [
        {"name": "head_height", "value": 0.48, "threshold": "0.70-0.80", "passed": False,
         "reason": "face too small: head is 48% of the image height"},
        {"name": "sharpness", "value": 120.0, "threshold": ">= 50", "passed": True, "reason": ""}]}
    with runtime.db.transaction() as s:
        store_biometric(s, runtime.vault, app_id, BiometricKind.PHOTO, PHOTO,
                        ImageMeta("image/jpeg", 413, 531), "test", quality_passed=False,
                        quality_report=report)
        s.execute(update(Applicant).where(Applicant.application_id == app_id)
                  .values(birth_place="Somewhere Else"))
    sign_in(client, "sara")
    page = client.get(f"/supervisor/exceptions/{app_id}")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="(differs|same)">\s*<th scope="row">([^<]+)</th>', page.text)
    assert ("differs", "مكان الميلاد") in rows or ("differs", "Place of birth") in rows
    assert sum(1 for kind, _ in rows if kind == "differs") == 1  # only the changed field is flagged
    assert "Somewhere Else" in page.text and "face too small" in page.text
    photo = client.get(f"/supervisor/exceptions/{app_id}/photo.jpg")
    assert photo.content == PHOTO and photo.headers["cache-control"] == "no-store"
    assert 'name="decision"' in page.text and "four-eyes" not in page.text


def test_face_duplicate_shows_both_photos_and_only_named_in_scope_ones(
        runtime: Runtime, client: TestClient, people: People) -> None:
    [other] = hold(runtime, people.clerk, [reason("NAME_FUZZY")], skip=3)
    [far] = hold(runtime, people.clerk, [reason("NAME_FUZZY")], skip=4, site="NORTH")
    [app_id] = hold(runtime, people.clerk, [
        reason("FACE_DUPLICATE", f"the same face is enrolled in application {other}",
               details={"application_id": other, "distance": 0.1, "threshold": 0.6}),
        # An entry written before the id was structured: the id is read from its text.
        reason("FACE_DUPLICATE", f"the same face is enrolled in application {far} under another number")])
    with runtime.db.transaction() as s:
        for target, data in ((app_id, PHOTO), (other, OTHER_PHOTO), (far, OTHER_PHOTO)):
            store_biometric(s, runtime.vault, target, BiometricKind.PHOTO, data,
                            ImageMeta("image/jpeg", 10, 10), "test", quality_passed=True)
    sign_in(client, "sara")
    page = client.get(f"/supervisor/exceptions/{app_id}").text
    assert f"/supervisor/exceptions/{app_id}/photo.jpg" in page
    assert f"/supervisor/exceptions/{app_id}/match/{other}.jpg" in page
    assert f"/supervisor/exceptions/{app_id}/match/{far}.jpg" not in page
    assert client.get(f"/supervisor/exceptions/{app_id}/match/{other}.jpg").content == OTHER_PHOTO
    assert client.get(f"/supervisor/exceptions/{app_id}/match/{far}.jpg").status_code == 404  # other site
    assert client.get(f"/supervisor/exceptions/{other}/match/{app_id}.jpg").status_code == 404  # not named
    assert client.get(f"/supervisor/exceptions/{app_id}/match/abc.jpg").status_code == 422


def test_face_mismatch_shows_the_registry_photo_or_says_there_is_none(
        runtime: Runtime, client: TestClient, people: People) -> None:
    [app_id, other_id] = hold(runtime, people.clerk, [reason("FACE_MISMATCH", "the face differs")], count=2)
    nn = runtime.db.session().get_one(Application, app_id).applicant.national_number
    RegistryStore(runtime.settings.registry_database_url).seed_photos({nn: OTHER_PHOTO})
    sign_in(client, "sara")
    page = client.get(f"/supervisor/exceptions/{app_id}").text
    assert f"/supervisor/exceptions/{app_id}/registry-photo.jpg" in page
    assert client.get(f"/supervisor/exceptions/{app_id}/registry-photo.jpg").content == OTHER_PHOTO
    bare = client.get(f"/supervisor/exceptions/{other_id}").text
    assert "registry-photo.jpg" not in bare
    assert "لا يوفر السجل صورة مرجعية" in bare or "supplies no reference photo" in bare
    assert client.get(f"/supervisor/exceptions/{other_id}/registry-photo.jpg").status_code == 404


def test_four_eyes_refusal_is_shown_and_another_supervisor_decides(
        runtime: Runtime, client: TestClient, people: People) -> None:
    [app_id] = hold(runtime, people.clerk, [reason("NAME_FUZZY")])
    with runtime.db.transaction() as s:  # sara enrolled it herself (covering a counter)
        s.execute(update(Application).where(Application.id == app_id).values(clerk_id=people.sara.id))
    csrf = sign_in(client, "sara")
    page = client.get(f"/supervisor/exceptions/{app_id}").text
    assert 'id="four-eyes"' in page and f'action="/supervisor/exceptions/{app_id}/decision"' not in page
    r = client.post(f"/supervisor/exceptions/{app_id}/decision",
                 data={"csrf_token": csrf, "decision": "approve", "reason": "documents seen"})
    assert r.status_code == 409 and 'id="refusal"' in r.text and "another supervisor must" in r.text
    assert application_state(runtime.db, app_id) == A.EXCEPTION
    csrf = sign_in(client, "omar")
    r = client.post(f"/supervisor/exceptions/{app_id}/decision",
                 data={"csrf_token": csrf, "decision": "reject", "reason": "registry name differs"},
                 follow_redirects=False)
    assert r.status_code == 303 and application_state(runtime.db, app_id) == A.REJECTED
    with runtime.db.session() as s:
        entry = s.scalars(select(AuditEvent).where(AuditEvent.entity_id == str(app_id),
                                                   AuditEvent.to_state == "rejected")).one()
    assert entry.actor == "omar" and "registry name differs" in entry.details
    # Decided: it is no longer in the queue, and a second decision is refused.
    assert client.get(f"/supervisor/exceptions/{app_id}").status_code == 404


@pytest.mark.parametrize("form, field", [
    ({"decision": "maybe", "reason": "x"}, "decision:"),
    ({"decision": "approve", "reason": "   "}, "reason:"),
    ({"decision": "approve", "reason": "x" * 501}, "reason:"),
    ({"decision": "approve", "reason": "bad\x00byte"}, "reason:"),
    ({}, "decision:"),
])
def test_junk_decisions_are_refused_naming_the_field(runtime: Runtime, client: TestClient, people: People,
                                                     form: dict[str, str], field: str) -> None:
    [app_id] = hold(runtime, people.clerk, [reason("NAME_FUZZY")])
    csrf = sign_in(client, "sara")
    r = client.post(f"/supervisor/exceptions/{app_id}/decision", data={"csrf_token": csrf, **form})
    assert r.status_code == 422 and field in r.text
    assert application_state(runtime.db, app_id) == A.EXCEPTION


@pytest.mark.parametrize("path", ["abc", "0", "-3", "99999999999", "1.5"])
def test_junk_ids_are_a_clear_4xx(runtime: Runtime, client: TestClient, people: People, path: str) -> None:
    csrf = sign_in(client, "sara")
    assert client.get(f"/supervisor/exceptions/{path}").status_code == 422
    form = {"csrf_token": csrf, "decision": "approve", "reason": "x"}
    r = client.post(f"/supervisor/exceptions/{path}/decision", data=form)
    assert r.status_code == 422
    assert client.get("/supervisor/exceptions/2147483000").status_code == 404


def test_bulk_decides_each_alone_and_lists_the_refused(runtime: Runtime, client: TestClient,
                                                       people: People) -> None:
    ids = hold(runtime, people.clerk, [reason("NAME_FUZZY")], count=3)
    [north] = hold(runtime, people.clerk, [reason("NAME_FUZZY")], skip=3, site="NORTH")
    with runtime.db.transaction() as s:  # sara enrolled the last one herself
        s.execute(update(Application).where(Application.id == ids[2]).values(clerk_id=people.sara.id))
    csrf = sign_in(client, "sara")
    page = client.get("/supervisor/exceptions").text
    assert f'name="ids" value="{ids[0]}"' in page and f'name="ids" value="{ids[2]}"' not in page
    r = client.post("/supervisor/exceptions/bulk", data={
        "csrf_token": csrf, "decision": "approve", "reason": "documents checked at the counter",
        "ids": [str(i) for i in (*ids, north)]})
    assert r.status_code == 200
    assert [application_state(runtime.db, i) for i in ids] == [A.APPROVED, A.APPROVED, A.EXCEPTION]
    assert application_state(runtime.db, north) == A.EXCEPTION
    refusals = re.findall(r'<span lang="en" dir="ltr" class="refusal">([^<]+)</span>', r.text)
    assert len(refusals) == 2 and any("another supervisor must" in x for x in refusals)
    assert any("does not exist" in x for x in refusals)  # another site's, reported as missing
    # Nothing left to decide of those: every one refused, 409.
    r = client.post("/supervisor/exceptions/bulk", data={"csrf_token": csrf, "decision": "reject",
                                                      "reason": "again", "ids": [str(ids[0]), str(ids[2])]})
    assert r.status_code == 409 and "no longer in exception" in r.text


@pytest.mark.parametrize("form, field", [
    ({"decision": "approve", "reason": "x"}, "ids:"),
    ({"decision": "approve", "reason": "x", "ids": ["1", "x"]}, "ids:"),
    ({"decision": "approve", "reason": "x", "ids": ["99999999999"]}, "ids:"),
    ({"decision": "approve", "reason": "x", "ids": [str(i) for i in range(1, 202)]}, "ids:"),
    ({"decision": "both", "reason": "x", "ids": ["1"]}, "decision:"),
    ({"decision": "reject", "reason": "", "ids": ["1"]}, "reason:"),
])
def test_junk_bulk_input_is_refused_naming_the_field(runtime: Runtime, client: TestClient, people: People,
                                                     form: dict[str, object], field: str) -> None:
    [app_id] = hold(runtime, people.clerk, [reason("NAME_FUZZY")])
    csrf = sign_in(client, "sara")
    r = client.post("/supervisor/exceptions/bulk", data={"csrf_token": csrf, **form})
    assert r.status_code == 422 and field in r.text
    assert application_state(runtime.db, app_id) == A.EXCEPTION
