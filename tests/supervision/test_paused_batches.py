"""A paused batch gives no work: stations, the printer and the reconciler skip it until it resumes."""

from __future__ import annotations

from sqlalchemy import select

from issuance.batches import assign_equipment, pause_batch, resume_batch
from issuance.equipment import add_station
from issuance.models import Application, Batch, Role
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from issuance.transitions import Actor
from tests.factories import application_state, make_user
from tests.printing.print_cards import make_card
from tests.station.conftest import batched_applications
from tests.supervision.conftest import empty_batch, equip
from workers import print_stage
from workers.personalization import DbJobSource, enqueue_personalization, reconcile_personalization
from workers.pipeline import QueuePipeline
from workers.print_jobs import enqueue_printing
from workers.queues import JobQueue, open_queue
from workers.reconciler import reconcile_printing

A = ApplicationState
BOSS = Actor("sara", "HQ")


def _number(rt: Runtime, app_id: int) -> str:
    with rt.db.session() as s:
        return str(s.scalars(select(Batch.number).join(Application, Application.batch_id == Batch.id)
                             .where(Application.id == app_id)).one())


def _source(rt: Runtime, jobs: JobQueue, station: str = "S1") -> DbJobSource:
    return DbJobSource(rt, jobs, station, ds_label=lambda _: "ds-1")


def test_a_paused_batch_is_not_claimed_until_it_resumes(runtime: Runtime) -> None:
    [app_id] = batched_applications(runtime, 1)
    jobs, number = open_queue(runtime.settings), _number(runtime, app_id)
    with runtime.db.transaction() as s:
        pause_batch(s, number, BOSS)
    assert enqueue_personalization(runtime, jobs, [app_id]) == []
    assert reconcile_personalization(runtime, jobs) == ([], [])
    source = _source(runtime, jobs)
    assert source.claim() is None and application_state(runtime.db, app_id) == A.BATCHED
    with runtime.db.transaction() as s:
        released = resume_batch(s, number, BOSS)
    assert released.application_ids == [app_id]
    QueuePipeline(runtime, jobs).batched(released.application_ids)
    job = source.claim()
    assert job is not None and application_state(runtime.db, app_id) == A.PERSONALIZING


def test_a_job_queued_before_the_pause_is_dropped_and_queued_again_on_resume(runtime: Runtime) -> None:
    [app_id] = batched_applications(runtime, 1)
    jobs, number = open_queue(runtime.settings), _number(runtime, app_id)
    assert enqueue_personalization(runtime, jobs, [app_id]) == [app_id]
    with runtime.db.transaction() as s:
        pause_batch(s, number, BOSS, reason="reader swap")
    source = _source(runtime, jobs)
    assert source.claim() is None and application_state(runtime.db, app_id) == A.BATCHED
    # The reconciler leaves it alone while paused, however often it runs.
    assert reconcile_personalization(runtime, jobs) == ([], [])
    with runtime.db.transaction() as s:
        released = resume_batch(s, number, BOSS)
    QueuePipeline(runtime, jobs).batched(released.application_ids)
    assert source.claim() is not None and application_state(runtime.db, app_id) == A.PERSONALIZING


def test_a_station_taken_off_the_batch_claims_nothing_of_it(runtime: Runtime) -> None:
    [app_id] = batched_applications(runtime, 1)
    jobs, number = open_queue(runtime.settings), _number(runtime, app_id)
    with runtime.db.transaction() as s:
        add_station(s, "S2", "HQ", "", actor="test")
    assert enqueue_personalization(runtime, jobs, [app_id]) == [app_id]  # on S1's queue
    with runtime.db.transaction() as s:
        released = assign_equipment(s, number, BOSS, stations=["S2"])
    assert released.application_ids == [app_id]
    assert _source(runtime, jobs, "S1").claim() is None
    QueuePipeline(runtime, jobs).batched(released.application_ids)
    assert _source(runtime, jobs, "S2").claim() is not None
    assert application_state(runtime.db, app_id) == A.PERSONALIZING


def test_the_printer_skips_a_paused_batchs_cards_until_it_resumes(runtime: Runtime) -> None:
    clerk = make_user(runtime.db, "clerk1", Role.CLERK)
    equip(runtime.db, spool=runtime.settings.data_dir / "spool")
    batch_id = empty_batch(runtime.db, "HQ-B000007")
    card_id = make_card(runtime.db, runtime, clerk, seed=8, batch_id=batch_id)
    jobs = open_queue(runtime.settings)
    with runtime.db.transaction() as s:
        pause_batch(s, "HQ-B000007", BOSS)
    assert enqueue_printing(runtime, jobs, [card_id]) == []
    assert reconcile_printing(runtime, jobs) == []
    assert print_stage.claim(runtime, card_id, print_stage.utcnow()) == "batch HQ-B000007 is paused"
    with runtime.db.transaction() as s:
        released = resume_batch(s, "HQ-B000007", BOSS)
    assert released.card_ids == [card_id]
    QueuePipeline(runtime, jobs).printable(released.card_ids)
    assert jobs.pending("print.P1") and card_id in jobs.pending("print.P1")
    assert isinstance(print_stage.claim(runtime, card_id, print_stage.utcnow()), print_stage.Claim)
    assert application_state(runtime.db, _app_of(runtime, card_id)) == A.PRINTING


def _app_of(rt: Runtime, card_id: int) -> int:
    with rt.db.session() as s:
        return int(s.scalars(select(Application.id).where(Application.cards.any(id=card_id))).one())
