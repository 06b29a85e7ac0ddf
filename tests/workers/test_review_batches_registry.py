"""Exception review (four eyes), batches, and the registry service's HTTP protocol."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from issuance.batches import BatchError, batch_counts, create_batch
from issuance.db import Database
from issuance.equipment import add_printer, add_station
from issuance.models import Application, AuditEvent, Role, User
from issuance.registry.client import HttpRegistry, RegistryUnavailable
from issuance.registry.service import create_registry_app
from issuance.registry.store import RegistryStore
from issuance.review import FourEyesViolation, ReviewError, resolve_exception
from issuance.roles import PermissionDenied
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from issuance.transitions import Actor
from tests.factories import enroll_citizens, make_user
from tests.workers.conftest import POPULATION, eligible


def _in_state(db: Database, ids: list[int], state: ApplicationState) -> None:
    with db.transaction() as s:
        s.execute(update(Application).where(Application.id.in_(ids)).values(state=state))


def test_four_eyes_on_exceptions(vruntime: Runtime, clerk: User, supervisor: User) -> None:
    db = vruntime.db
    [app_id] = enroll_citizens(db, vruntime.vault, clerk, eligible(1))
    _in_state(db, [app_id], ApplicationState.EXCEPTION)
    with pytest.raises(PermissionDenied), db.transaction() as s:
        resolve_exception(s, app_id, clerk, approve=True, reason="looks fine")
    # A supervisor who enrolled the application (say, covering a counter) may not decide it.
    with db.transaction() as s:
        s.execute(update(Application).where(Application.id == app_id).values(clerk_id=supervisor.id))
    with pytest.raises(FourEyesViolation, match="another supervisor must"), db.transaction() as s:
        resolve_exception(s, app_id, supervisor, approve=True, reason="looks fine")
    other = make_user(db, "super2", Role.SUPERVISOR)
    with pytest.raises(ReviewError, match="reason"), db.transaction() as s:
        resolve_exception(s, app_id, other, approve=True, reason="  ")
    with db.transaction() as s:
        assert resolve_exception(s, app_id, other, approve=True, reason="birth certificate seen")
    with db.session() as s:
        assert s.get_one(Application, app_id).state == ApplicationState.APPROVED
        entry = s.scalars(select(AuditEvent).where(AuditEvent.to_state == "approved")).one()
    assert entry.actor == "super2" and "birth certificate seen" in entry.details


def test_batch_gathers_approved_applications(vruntime: Runtime, clerk: User) -> None:
    db = vruntime.db
    ids = enroll_citizens(db, vruntime.vault, clerk, eligible(5))
    _in_state(db, ids[:4], ApplicationState.APPROVED)
    with pytest.raises(BatchError, match="no active encoding station"), db.transaction() as s:
        create_batch(s, "HQ", Actor("super1"))
    with db.transaction() as s:
        add_station(s, "S1", "HQ", "", actor="test")
        add_station(s, "S2", "HQ", "", actor="test")
        add_printer(s, "P1", "HQ", "folder", "spool", actor="test")
    with db.transaction() as s:
        batch = create_batch(s, "HQ", Actor("super1"), max_size=3)
        assert batch is not None
        number, batch_id = batch.number, batch.id
        assert [st.code for st in batch.stations] == ["S1", "S2"]
        assert batch.printer is not None and batch.printer.code == "P1"
    with db.transaction() as s:
        second = create_batch(s, "HQ", Actor("super1"), max_size=3)
        assert second is not None and second.number != number
        assert create_batch(s, "HQ", Actor("super1")) is None
    with db.session() as s:
        assert batch_counts(s, batch_id) == {"batched": 3}
        in_batch = s.scalars(select(Application.id).where(Application.batch_id == batch_id)).all()
    assert sorted(in_batch) == ids[:3]


@pytest.fixture
def registry_http(registry_db: str) -> Iterator[tuple[str, list[int]]]:
    """The registry service on a real port; the first N requests fail with 503 when asked."""
    store = RegistryStore(registry_db)
    app = create_registry_app(store)
    failures = [0]

    @app.middleware("http")
    async def flaky(request, call_next):  # type: ignore[no-untyped-def]
        if failures[0] > 0:
            failures[0] -= 1
            from fastapi.responses import JSONResponse

            return JSONResponse({"detail": "maintenance"}, status_code=503)
        return await call_next(request)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        pass
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", failures
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


def test_http_client_retries_then_succeeds_or_gives_up(registry_http: tuple[str, list[int]]) -> None:
    url, failures = registry_http
    nn = POPULATION[0].national_number
    client = HttpRegistry(url, retries=3, backoff=0.01)
    failures[0] = 2
    assert client.lookup_many([nn, "0000000000"]) == {
        nn: client.lookup_many([nn])[nn], "0000000000": None,
    }
    assert failures[0] == 0
    failures[0] = 10
    with pytest.raises(RegistryUnavailable, match="after 4 attempts"):
        client.lookup_many([nn])
    assert failures[0] == 6
    with pytest.raises(RegistryUnavailable, match="after 1 attempt:"):
        client.lookup_many([nn], retry=False)
    assert failures[0] == 5


def test_registry_protocol(registry_db: str) -> None:
    store = RegistryStore(registry_db)
    client = TestClient(create_registry_app(store))
    citizen = POPULATION[3]
    one = client.get(f"/v1/citizens/{citizen.national_number}")
    assert one.status_code == 200 and one.json()["family_name_ar"] == citizen.family_name_ar
    assert client.get("/v1/citizens/0000000000").status_code == 404
    many = client.post("/v1/citizens/lookup",
                       json={"national_numbers": [citizen.national_number, "0000000000"]}).json()
    assert list(many["found"]) == [citizen.national_number] and many["missing"] == ["0000000000"]
    too_many = client.post("/v1/citizens/lookup", json={"national_numbers": ["1"] * 1001})
    assert too_many.status_code == 422 and "at most 1000" in too_many.text
    assert client.get("/health").json() == {"status": "ok", "citizens": len(POPULATION)}
    store.close()


def test_supervisor_api_decides_exceptions_with_four_eyes(vruntime: Runtime, clerk: User) -> None:
    from issuance.web.app import create_app
    from tests.factories import TEST_PASSWORD

    db = vruntime.db
    ids = enroll_citizens(db, vruntime.vault, clerk, eligible(2))
    _in_state(db, ids, ApplicationState.EXCEPTION)
    boss = make_user(db, "boss", Role.SUPERVISOR)
    with db.transaction() as s:  # the boss enrolled the second one while covering a counter
        s.execute(update(Application).where(Application.id == ids[1]).values(clerk_id=boss.id))
    app = create_app(vruntime.settings)
    with TestClient(app) as client:
        token = client.post("/api/session", json={"username": "boss", "password": TEST_PASSWORD}).json()
        h = {"Authorization": f"Bearer {token['token']}"}
        listed = client.get("/api/exceptions", headers=h).json()
        assert [(e["id"], e["own"]) for e in listed] == [(ids[0], False), (ids[1], True)]
        ok = client.post(f"/api/exceptions/{ids[0]}/decision", headers=h,
                         json={"approve": False, "reason": "registry photo differs"})
        assert ok.json() == {"state": "rejected"}
        refused = client.post(f"/api/exceptions/{ids[1]}/decision", headers=h,
                              json={"approve": True, "reason": "fine"})
        assert refused.status_code == 409 and "another supervisor must" in refused.text
        again = client.post(f"/api/exceptions/{ids[0]}/decision", headers=h,
                            json={"approve": True, "reason": "changed my mind"})
        assert again.status_code == 409
    app.state.runtime.close()
    with db.session() as s:
        states = dict(s.execute(select(Application.id, Application.state)
                                .where(Application.id.in_(ids))).all())
    assert states == {ids[0]: ApplicationState.REJECTED, ids[1]: ApplicationState.EXCEPTION}


def test_supervisor_overrides_a_failed_photo_and_validation_accepts_it(
    vruntime: Runtime, clerk: User
) -> None:
    from issuance.biometrics import ImageMeta, store_biometric
    from issuance.models import BiometricKind
    from issuance.web.app import create_app
    from tests.factories import TEST_PASSWORD
    from workers import validation

    db = vruntime.db
    [app_id] = enroll_citizens(db, vruntime.vault, clerk, eligible(1), submit_them=False, photo=False)
    with db.transaction() as s:
        store_biometric(s, vruntime.vault, app_id, BiometricKind.PHOTO, b"jpeg",
                        ImageMeta("image/jpeg", 413, 531), "clerk1", quality_passed=False)
    make_user(db, "boss", Role.SUPERVISOR)
    app = create_app(vruntime.settings)
    with TestClient(app) as client:
        token = client.post("/api/session", json={"username": "boss", "password": TEST_PASSWORD}).json()
        h = {"Authorization": f"Bearer {token['token']}"}
        url = f"/api/applications/{app_id}/photo-override"
        assert client.post(url, headers=h, json={"reason": ""}).status_code == 422
        ok = client.post(url, headers=h, json={"reason": "facial scar, medical certificate seen"})
        assert ok.json()["overridden_by"] == "boss" and ok.json()["digest"].startswith("hmac-sha256:")
    app.state.runtime.close()
    _in_state(db, [app_id], ApplicationState.SUBMITTED)
    assert validation.validate(vruntime, [app_id]).outcomes == {"approved": 1}
    with db.session() as s:
        logged = s.scalars(select(AuditEvent).where(AuditEvent.action == "application.photo_override")).one()
    assert logged.actor == "boss" and "medical certificate" in logged.details
