"""When the registry fails: an outage waits, a bad record is isolated, a poison record reaches a person."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select, update

from issuance.models import Application, AuditEvent, User
from issuance.registry.client import Registry, RegistryRejected, RegistryUnavailable
from issuance.registry.record import CitizenRecord
from issuance.runtime import Runtime
from tests.factories import enroll_citizens
from tests.workers.conftest import eligible
from workers import validation


class _FailingRecords:
    """The reference registry, except that lookups naming one of `bad` fail with `error`."""

    def __init__(self, inner: Registry, bad: set[str], error: Exception, healthy: bool = True) -> None:
        self.inner, self.bad, self.error, self.up = inner, bad, error, healthy

    def lookup_many(self, numbers: Sequence[str], *, retry: bool = True) -> dict[str, CitizenRecord | None]:
        if self.bad & set(numbers):
            raise self.error
        return self.inner.lookup_many(numbers)

    def healthy(self) -> bool:
        return self.up


def _lapse_leases(rt: Runtime, ids: list[int]) -> None:
    with rt.db.transaction() as s:
        s.execute(update(Application).where(Application.id.in_(ids))
                  .values(lease_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))


def _state_and_reasons(rt: Runtime, app_id: int) -> tuple[str, list[str]]:
    with rt.db.session() as s:
        app = s.get_one(Application, app_id)
        return str(app.state), [r["code"] for r in app.outcome_reasons or []]


def _count(rt: Runtime, action: str, app_id: int) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.entity_id == str(app_id))) or 0


@pytest.mark.parametrize("error", [RegistryUnavailable("timed out"),
                                   RegistryRejected("malformed record: birth_date")],
                         ids=["timeout", "malformed"])
def test_a_bad_record_anywhere_in_a_batch_holds_back_no_other(
    vruntime: Runtime, clerk: User, error: Exception
) -> None:
    reference = vruntime.registry
    for position in range(16):
        citizens = eligible(16, skip=16 * position)
        ids = enroll_citizens(vruntime.db, vruntime.vault, clerk, citizens)
        vruntime.__dict__["registry"] = _FailingRecords(
            reference, {citizens[position].national_number}, error)
        result = validation.validate(vruntime, ids)
        assert result.outcomes == {"approved": 15}, f"bad record at position {position}"
        assert result.waiting == [ids[position]]


def test_an_outage_postpones_everyone_without_counting_attempts(vruntime: Runtime, clerk: User) -> None:
    vruntime.settings = dataclasses.replace(vruntime.settings, validation_max_attempts=2)
    reference = vruntime.registry
    citizens = eligible(4)
    ids = enroll_citizens(vruntime.db, vruntime.vault, clerk, citizens)
    vruntime.__dict__["registry"] = _FailingRecords(
        reference, {c.national_number for c in citizens}, RegistryUnavailable("down"), healthy=False)
    for _ in range(4):  # twice the attempt limit: an outage is nobody's fault
        assert validation.validate(vruntime, ids).waiting == sorted(ids)
        _lapse_leases(vruntime, ids)
    vruntime.__dict__["registry"] = reference
    assert validation.validate(vruntime, ids).outcomes == {"approved": 4}
    assert _count(vruntime, "application.validation_retaken", ids[0]) == 4  # every run after the first


def test_a_record_that_keeps_failing_goes_to_a_supervisor(vruntime: Runtime, clerk: User) -> None:
    vruntime.settings = dataclasses.replace(vruntime.settings, validation_max_attempts=3)
    citizens = eligible(3)
    ids = enroll_citizens(vruntime.db, vruntime.vault, clerk, citizens)
    vruntime.__dict__["registry"] = _FailingRecords(
        vruntime.registry, {citizens[1].national_number}, RegistryRejected("registry refused (400)"))
    first = validation.validate(vruntime, ids)
    assert first.outcomes == {"approved": 2} and first.waiting == [ids[1]]
    for _ in range(2):
        _lapse_leases(vruntime, [ids[1]])
        validation.validate(vruntime, [ids[1]])
    state, reasons = _state_and_reasons(vruntime, ids[1])
    assert (state, reasons) == ("exception", ["REGISTRY_ERROR"])
    assert _count(vruntime, "application.validation_retaken", ids[1]) == 2


def test_a_job_that_dies_every_time_is_given_up_after_the_limit(vruntime: Runtime, clerk: User) -> None:
    vruntime.settings = dataclasses.replace(vruntime.settings, validation_max_attempts=2)
    citizens = eligible(1)
    ids = enroll_citizens(vruntime.db, vruntime.vault, clerk, citizens)
    vruntime.__dict__["registry"] = _FailingRecords(
        vruntime.registry, {citizens[0].national_number}, MemoryError("worker ran out of memory"))
    for _ in range(2):  # the worker dies mid-job: nothing recorded but the claim
        with pytest.raises(MemoryError):
            validation.validate(vruntime, ids)
        _lapse_leases(vruntime, ids)
    assert validation.validate(vruntime, ids).outcomes == {}
    assert _state_and_reasons(vruntime, ids[0]) == ("exception", ["REGISTRY_ERROR"])
    assert _count(vruntime, "application.validation_retaken", ids[0]) == 1
