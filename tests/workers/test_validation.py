"""The validation stage on fakeredis in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, update

from issuance.db import Database
from issuance.demo.population import Citizen
from issuance.models import Application, ApplicationKind, AuditEvent, User
from issuance.registry.client import HttpRegistry, RegistryUnavailable
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from tests.factories import enroll_citizens
from tests.workers.conftest import POPULATION, eligible, first
from workers import queues, validation
from workers.jobs import enqueue_validation
from workers.reconciler import reconcile
from workers.worker import drain


def _outcomes(db: Database, ids: list[int]) -> dict[int, tuple[str, list[str]]]:
    with db.session() as s:
        rows = s.scalars(select(Application).where(Application.id.in_(ids)))
        return {a.id: (str(a.state), [r["code"] for r in a.outcome_reasons or []]) for a in rows}


def _outcome_entries(db: Database, app_id: int) -> list[AuditEvent]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent).where(
            AuditEvent.entity_id == str(app_id), AuditEvent.from_state == "validating")))


def _enroll(vruntime: Runtime, clerk: User, citizens: list[Citizen], **kw: object) -> list[int]:
    return enroll_citizens(vruntime.db, vruntime.vault, clerk, citizens, **kw)  # type: ignore[arg-type]


def test_queue_to_outcomes_in_process(vruntime: Runtime, clerk: User) -> None:
    good = eligible(6)
    dead = first(lambda c: c.death_date is not None and c.active_card is None)
    carded = first(lambda c: c.active_card is not None and c.death_date is None)
    typo = dataclasses.replace(eligible(1, skip=6)[0])
    typo = dataclasses.replace(typo, family_name_ar=typo.family_name_ar + "ي")
    wrong = dataclasses.replace(eligible(1, skip=7)[0], first_name_ar="زبيدة", family_name_ar="قاسم")
    ids = _enroll(vruntime, clerk, [*good, dead, carded, typo, wrong, good[0]])
    jobs = queues.open_queue(vruntime.settings)
    enqueue_validation(vruntime, jobs, ids)
    drain(vruntime, jobs, [queues.VALIDATE])
    got = _outcomes(vruntime.db, ids)
    assert [got[i][0] for i in ids[:6]] == ["approved"] * 6
    assert got[ids[6]] == ("rejected", ["DECEASED"])
    assert got[ids[7]] == ("rejected", ["CARD_ACTIVE"])
    assert got[ids[8]] == ("exception", ["NAME_FUZZY"])
    assert got[ids[9]][0] == "rejected" and "NAME_MISMATCH" in got[ids[9]][1]
    assert got[ids[10]] == ("rejected", ["DUPLICATE_IN_FLIGHT"])
    assert jobs.pending(queues.VALIDATE) == {}


def test_running_twice_changes_nothing(vruntime: Runtime, clerk: User) -> None:
    ids = _enroll(vruntime, clerk, eligible(4))
    first_run = validation.validate(vruntime, ids)
    assert first_run.outcomes == {"approved": 4}
    before = _outcomes(vruntime.db, ids)
    second = validation.validate(vruntime, ids)
    assert second.outcomes == {} and second.skipped == sorted(ids)
    assert _outcomes(vruntime.db, ids) == before
    assert all(len(_outcome_entries(vruntime.db, i)) == 1 for i in ids)


def test_renewal_must_name_the_active_card(vruntime: Runtime, clerk: User) -> None:
    holder = first(lambda c: c.active_card is not None and c.death_date is None)
    ids = _enroll(vruntime, clerk, [holder, holder], submit_them=False)
    with vruntime.db.transaction() as s:
        s.execute(update(Application).where(Application.id == ids[0]).values(
            kind=ApplicationKind.RENEWAL, replaces_document_number=holder.active_card))
        s.execute(update(Application).where(Application.id == ids[1]).values(
            kind=ApplicationKind.RENEWAL, replaces_document_number="C99999999",
            state=ApplicationState.SUBMITTED))
    validation.validate(vruntime, [ids[1]])
    with vruntime.db.transaction() as s:
        s.execute(update(Application).where(Application.id == ids[0]).values(
            state=ApplicationState.SUBMITTED))
    validation.validate(vruntime, [ids[0]])
    got = _outcomes(vruntime.db, ids)
    assert got[ids[1]] == ("rejected", ["OLD_CARD_UNKNOWN"])
    assert got[ids[0]] == ("approved", [])


def test_missing_photo_goes_to_exception(vruntime: Runtime, clerk: User) -> None:
    ids = _enroll(vruntime, clerk, eligible(1), photo=False)
    validation.validate(vruntime, ids)
    assert _outcomes(vruntime.db, ids)[ids[0]] == ("exception", ["PHOTO_MISSING"])


def test_registry_outage_leaves_the_application_waiting(vruntime: Runtime, clerk: User) -> None:
    ids = _enroll(vruntime, clerk, eligible(3))
    working = vruntime.registry
    # A registry nobody listens on: connection refused, retried, then given up.
    vruntime.__dict__["registry"] = HttpRegistry("http://127.0.0.1:9", retries=2, backoff=0.01,
                                                 timeout=0.5)
    with pytest.raises(RegistryUnavailable, match="after 3 attempts"):
        vruntime.registry.lookup_many(["1"])
    result = validation.validate(vruntime, ids)
    assert result.waiting == sorted(ids) and not result.outcomes
    got = _outcomes(vruntime.db, ids)
    assert {state for state, _ in got.values()} == {"validating"}
    with vruntime.db.session() as s:
        postponed = s.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.action == "application.validation_postponed")).all()
        leases = s.scalars(select(Application.lease_until).where(Application.id.in_(ids))).all()
    assert sorted(map(int, postponed)) == sorted(ids)
    assert all(lease is not None for lease in leases)
    # Nothing to do while the lease holds; once it lapses, the reconciler retries.
    assert reconcile(vruntime, queues.open_queue(vruntime.settings)).requeued == []
    with vruntime.db.transaction() as s:
        s.execute(update(Application).where(Application.id.in_(ids))
                  .values(lease_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    vruntime.__dict__["registry"] = working
    assert reconcile(vruntime, queues.open_queue(vruntime.settings)).expired == sorted(ids)
    drain(vruntime, queues.open_queue(vruntime.settings), [queues.VALIDATE])
    assert {state for state, _ in _outcomes(vruntime.db, ids).values()} == {"approved"}


class _OneSlowRecord:
    """A registry in which one record's lookup always fails (times out)."""

    def __init__(self, inner: object, bad: str) -> None:
        self.inner, self.bad, self.calls, self.retried = inner, bad, 0, 0

    def lookup_many(self, numbers: list[str], *, retry: bool = True) -> dict[str, object]:
        self.calls += 1
        self.retried += retry
        if self.bad in numbers:
            raise RegistryUnavailable("timed out")
        return self.inner.lookup_many(numbers)  # type: ignore[attr-defined,no-any-return]

    def healthy(self) -> bool:
        return True  # the registry is up: only one record times out


def test_one_slow_record_does_not_hold_the_others(vruntime: Runtime, clerk: User) -> None:
    citizens = eligible(16)
    ids = _enroll(vruntime, clerk, citizens)
    slow = _OneSlowRecord(vruntime.registry, citizens[5].national_number)
    vruntime.__dict__["registry"] = slow
    result = validation.validate(vruntime, ids)
    assert result.waiting == [ids[5]]
    assert result.outcomes == {"approved": 15}
    assert slow.calls <= 2 * 5 + 1  # a bisection, not one call per record
    assert slow.retried == 1  # only the whole batch is retried; the halves fail fast


def test_every_population_member_gets_exactly_one_outcome(vruntime: Runtime, clerk: User) -> None:
    ids = _enroll(vruntime, clerk, POPULATION[:60])
    jobs = queues.open_queue(vruntime.settings)
    enqueue_validation(vruntime, jobs, ids)
    drain(vruntime, jobs, [queues.VALIDATE])
    got = _outcomes(vruntime.db, ids)
    assert all(state in ("approved", "exception", "rejected") for state, _ in got.values())
    assert all(len(_outcome_entries(vruntime.db, i)) == 1 for i in ids)
