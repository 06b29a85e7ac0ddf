"""Sites: a supervisor sees and decides only their own site's items; a batch's site must exist."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from issuance.batches import BatchError, create_batch
from issuance.equipment import add_printer, add_station
from issuance.models import Application, Role, User
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from issuance.transitions import Actor
from issuance.web.app import create_app
from tests.factories import TEST_PASSWORD, enroll_citizens, make_user
from tests.workers.conftest import eligible


def _two_sites(rt: Runtime) -> tuple[list[int], list[int], str]:
    """An exception and a batch at each of sites A and B; returns (A ids, B ids, B's batch)."""
    ids: dict[str, list[int]] = {}
    for i, site in enumerate(("A", "B")):
        clerk = make_user(rt.db, f"clerk{site.lower()}", Role.CLERK, site=site)
        ids[site] = enroll_citizens(rt.db, rt.vault, clerk, eligible(3, skip=3 * i))
        with rt.db.transaction() as s:
            add_station(s, f"S{site}", site, "", actor="test")
            add_printer(s, f"P{site}", site, "folder", "spool", actor="test")
            s.execute(update(Application).where(Application.id.in_(ids[site][:1]))
                      .values(state=ApplicationState.EXCEPTION))
            s.execute(update(Application).where(Application.id.in_(ids[site][1:]))
                      .values(state=ApplicationState.APPROVED))
    with rt.db.transaction() as s:
        batch_b = create_batch(s, "B", Actor("test", "B"))
        assert batch_b is not None
        number_b = batch_b.number
    return ids["A"], ids["B"], number_b


def test_a_supervisor_of_site_a_gets_404_for_site_b(vruntime: Runtime) -> None:
    ids_a, ids_b, batch_b = _two_sites(vruntime)
    make_user(vruntime.db, "boss-a", Role.SUPERVISOR, site="A")
    app = create_app(vruntime.settings)
    client = TestClient(app)
    token = client.post("/api/session", json={"username": "boss-a", "password": TEST_PASSWORD}).json()
    h = {"Authorization": f"Bearer {token['token']}"}
    assert [e["id"] for e in client.get("/api/exceptions", headers=h).json()] == ids_a[:1]
    decision = {"approve": True, "reason": "documents seen"}
    assert client.post(f"/api/exceptions/{ids_b[0]}/decision", headers=h, json=decision).status_code == 404
    assert client.post(f"/api/applications/{ids_b[0]}/photo-override", headers=h,
                       json={"reason": "scar"}).status_code == 404
    assert client.get(f"/api/batches/{batch_b}", headers=h).status_code == 404
    assert client.post("/api/batches", headers=h, json={"site": "B"}).status_code == 404
    made = client.post("/api/batches", headers=h, json={"site": "A"})
    assert made.status_code == 201 and made.json()["counts"] == {"batched": 2}
    assert client.post(f"/api/exceptions/{ids_a[0]}/decision", headers=h, json=decision).status_code == 200
    app.state.runtime.close()


def test_a_batch_needs_a_site_that_exists(vruntime: Runtime, clerk: User) -> None:
    with pytest.raises(BatchError, match="site: NOWHERE does not exist"), vruntime.db.transaction() as s:
        create_batch(s, "NOWHERE", Actor("test", "NOWHERE"))
