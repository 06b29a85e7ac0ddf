"""Personalization on the database path: claim, intent record, locked cards, spoiled cards and requeue."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from mrz.checker.td1 import TD1CodeChecker
from sqlalchemy import select, update

from issuance.models import Applicant, AuditEvent, Card, utcnow
from issuance.pki import pki_folder
from issuance.pki.bootstrap import DEMO_ADMINS
from issuance.pki.ceremony import rotate_ds
from issuance.pki.store import PkiDirectory
from issuance.states import ApplicationState, CardState
from personalization.capabilities import read_capabilities
from personalization.lds import sod
from personalization.protocol.inspection import ChipReport, inspect
from personalization.protocol.pace import PacePassword
from personalization.station.feeders import SPOILED, USED, StockFeeder
from personalization.station.result import Step
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import FaultPlan, VirtualCard
from tests.factories import application_state
from tests.personalization.conftest import REPO
from tests.station.conftest import Stage, batched_applications, card_rows, station_env
from workers.personalization import enqueue_personalization, reconcile_personalization

A, C = ApplicationState, CardState


def read_back(transport: Transport, can: str, csca_pem: Path) -> ChipReport:
    """The card read as a border inspection system reads it: PACE with the CAN, CSCA as trust anchor."""
    csca = x509.load_pem_x509_certificate(csca_pem.read_bytes())
    with transport:
        caps = read_capabilities(transport, transport.atr)
        return inspect(transport, caps, [csca], PacePassword.can(can), None)


def openssl_verify_sod(ef_sod: bytes, csca_pem: Path, tmp_path: Path) -> dict[int, bytes]:
    """`openssl cms -verify` on the EF.SOD against the CSCA; the data group hashes it signs."""
    (tmp_path / "sod.der").write_bytes(sod.parse(ef_sod).cms)
    done = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sod.der"),
                           "-CAfile", str(csca_pem), "-purpose", "any", "-binary",
                           "-out", str(tmp_path / "so.der")], capture_output=True)
    assert done.returncode == 0, done.stderr
    content = sod.LdsSecurityObject.load((tmp_path / "so.der").read_bytes())
    return {h["number"].native: h["hash"].native for h in content["hashes"]}


def assert_locked(stage: Stage, app_id: int, transport: Transport, tmp_path: Path) -> None:
    """One locked card whose chip reads back valid, with everything printing needs recorded."""
    [card] = card_rows(stage.rt, app_id)
    assert card.state == C.LOCKED and application_state(stage.rt.db, app_id) == A.PERSONALIZED
    assert card.ds_key_label == "ds-1" and card.can is not None and len(card.can) == 6
    assert card.steps is not None and [s["step"] for s in card.steps] == [s.value for s in Step]
    assert card.issued_on is not None and card.expires_on is not None and card.lease_until is None
    lines = (card.mrz or "").split("\n")
    assert TD1CodeChecker("\n".join(lines)) and card.document_number in lines[0]
    report = read_back(transport, card.can, stage.csca_pem)
    assert report.verdict.valid and report.genuine
    assert report.files["DG1"][5:] == "".join(lines).encode()
    hashes = openssl_verify_sod(report.files["EF.SOD"], stage.csca_pem, tmp_path)
    assert hashes == {n: hashlib.sha256(d).digest() for n, d in report.data_groups.items()}


@pytest.mark.parametrize("keystore_kind", ["software", "pkcs11"], indirect=True)
def test_batched_applications_end_locked_through_the_in_process_transport(stage: Stage,
                                                                          tmp_path: Path) -> None:
    ids = batched_applications(stage.rt, 2)
    assert enqueue_personalization(stage.rt, stage.jobs, ids) == ids
    feeder = stage.stock(tmp_path / "stock", [1, 2])
    stats = stage.station(feeder).loop.run()
    assert (stats.personalized, stats.spoiled) == (2, 0)
    for app_id in ids:
        [card] = card_rows(stage.rt, app_id)
        card_file = tmp_path / "stock" / USED / f"card-{int(card.chip_serial or 0):010d}.json"
        assert_locked(stage, app_id, InProcessTransport(VirtualCard.load(card_file)), tmp_path)
    mailers = sorted((stage.rt.settings.data_dir / "stations" / "S1" / "pin-mailers").iterdir())
    assert len(mailers) == 2 and all(stat.S_IMODE(m.stat().st_mode) == 0o600 for m in mailers)


class TearingStock(StockFeeder):
    """Blank stock whose next cards tear on a chosen APDU (a card pulled out mid-command)."""

    def __init__(self, folder: Path, tears: list[int]) -> None:
        super().__init__(folder)
        self.tears = list(tears)

    def next_card(self, timeout: float | None) -> Transport | None:
        transport = super().next_card(timeout)
        card = transport.card if isinstance(transport, InProcessTransport) else None
        if isinstance(card, VirtualCard) and self.tears:
            card.faults = FaultPlan(tear_at=self.tears.pop(0))
        return transport


def spoil_audits(stage: Stage, card_id: int) -> list[AuditEvent]:
    with stage.rt.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "card",
                                                       AuditEvent.entity_id == str(card_id),
                                                       AuditEvent.action == "card.spoiled")))


def test_a_tear_at_each_step_spoils_the_card_and_the_next_card_succeeds(stage: Stage, tmp_path: Path) -> None:
    first, second = batched_applications(stage.rt, 2)
    enqueue_personalization(stage.rt, stage.jobs, [first])
    stage.station(stage.stock(tmp_path / "stock", [1])).loop.run()
    [reference] = card_rows(stage.rt, first)
    starts, done = [], 0
    for step in reference.steps or []:
        starts.append(done + 1)  # the step's first APDU
        done += step["apdus"]
    enqueue_personalization(stage.rt, stage.jobs, [second])
    feeder = TearingStock(tmp_path / "stock", [])
    stage.stock(tmp_path / "stock", list(range(10, 10 + len(starts) + 1)))
    feeder.tears = starts
    stats = stage.station(feeder).loop.run()
    assert (stats.personalized, stats.spoiled) == (1, len(Step))
    cards = card_rows(stage.rt, second)
    assert [c.state for c in cards] == [C.SPOILED] * len(Step) + [C.LOCKED]
    assert [c.failure_step for c in cards[:-1]] == [s.value for s in Step]
    assert len({c.document_number for c in cards}) == len(cards)  # no number is ever reused
    for card in cards[:-1]:
        [entry] = spoil_audits(stage, card.id)
        assert card.failure_step in entry.details
    # A tear after the intent record leaves the chip serial recorded: that chip is never encoded again.
    assert all(c.chip_serial for c in cards[2:])
    assert application_state(stage.rt.db, second) == A.PERSONALIZED


def test_a_card_from_another_issuer_is_refused_untouched(stage: Stage, tmp_path: Path) -> None:
    [app_id] = batched_applications(stage.rt, 1)
    enqueue_personalization(stage.rt, stage.jobs, [app_id])
    feeder = stage.stock(tmp_path / "stock", [1, 2], foreign={1})
    before = json.loads((tmp_path / "stock" / "card-0000000001.json").read_bytes())
    stats = stage.station(feeder).loop.run()
    assert (stats.personalized, stats.spoiled) == (1, 1)
    after = json.loads((tmp_path / "stock" / SPOILED / "card-0000000001.json").read_bytes())
    # Only INITIALIZE UPDATE's sequence counter moves (GPC Amd D §6.2.2.1); nothing was written.
    assert after.pop("sequence_counter") == before.pop("sequence_counter") + 1
    assert after == before
    refused, locked = card_rows(stage.rt, app_id)
    assert (refused.state, refused.failure_step, refused.failure_status_word) == (
        C.SPOILED, "open_channel", "6300")
    assert refused.chip_serial is None and refused.steps is not None  # never reached the intent record
    assert locked.state == C.LOCKED


def test_a_lapsed_card_is_spoiled_by_the_reconciler_and_requeued(stage: Stage, tmp_path: Path) -> None:
    [app_id] = batched_applications(stage.rt, 1)
    enqueue_personalization(stage.rt, stage.jobs, [app_id])
    source = stage.station(stage.stock(tmp_path / "stock", [1])).source
    job = source.claim()
    assert job is not None and application_state(stage.rt.db, app_id) == A.PERSONALIZING
    assert reconcile_personalization(stage.rt, stage.jobs) == ([], [])  # the lease still runs
    with stage.rt.db.transaction() as s:
        s.execute(update(Card).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    [card] = card_rows(stage.rt, app_id)
    assert reconcile_personalization(stage.rt, stage.jobs) == ([card.id], [app_id])
    [spoiled] = card_rows(stage.rt, app_id)
    assert (spoiled.state, spoiled.failure_step) == (C.SPOILED, "lease_expired")
    assert stage.jobs.pending("personalize.S1") and application_state(stage.rt.db, app_id) == A.BATCHED


def test_station_run_command_on_a_blank_stock(stage: Stage, tmp_path: Path) -> None:
    """On embedded defaults the station finds its own work: its reconciler queues the batched applications."""
    ids = batched_applications(stage.rt, 2)
    stage.stock(tmp_path / "stock", [21, 22, 23])
    done = subprocess.run([sys.executable, "-m", "issuance", "station", "run", "--station", "S1",
                           "--stock", str(tmp_path / "stock"), "--wait", "0"],
                          cwd=REPO, env=station_env(stage.rt.settings), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "station S1: 2 personalized, 0 spoiled" in done.stdout
    assert {application_state(stage.rt.db, i) for i in ids} == {A.PERSONALIZED}
    assert len(list((tmp_path / "stock").glob("card-*.json"))) == 1  # the unused card went back


@pytest.mark.parametrize("name", ["", "SMITH<<<JOHN", "Ä<<B"])
def test_data_that_cannot_go_on_a_chip_is_refused_before_any_card(stage: Stage, tmp_path: Path,
                                                                   name: str) -> None:
    [app_id] = batched_applications(stage.rt, 1)
    with stage.rt.db.transaction() as s:
        s.execute(update(Applicant).where(Applicant.application_id == app_id).values(mrz_name=name))
    enqueue_personalization(stage.rt, stage.jobs, [app_id])
    stats = stage.station(stage.stock(tmp_path / "stock", [31])).loop.run()
    assert (stats.personalized, stats.spoiled) == (0, 0) and card_rows(stage.rt, app_id) == []
    assert application_state(stage.rt.db, app_id) == A.BATCHED
    with stage.rt.db.session() as s:
        [entry] = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "application.personalization_refused"))
    assert json.loads(entry.details)["field"] == "mrz_name"
    assert len(list((tmp_path / "stock").glob("card-*.json"))) == 1  # the card went back to the stock


def test_a_running_station_signs_with_the_new_ds_after_a_rotation(stage: Stage, tmp_path: Path) -> None:
    first, second = batched_applications(stage.rt, 2)
    enqueue_personalization(stage.rt, stage.jobs, [first])
    station = stage.station(stage.stock(tmp_path / "stock", [41, 42]))
    station.loop.run(once=True)
    rotate_ds(stage.rt.db, stage.keystore, PkiDirectory(pki_folder(stage.rt.settings)), DEMO_ADMINS)
    enqueue_personalization(stage.rt, stage.jobs, [second])
    station.loop.run(once=True)
    [old], [new] = card_rows(stage.rt, first), card_rows(stage.rt, second)
    assert (old.state, old.ds_key_label, new.state, new.ds_key_label) == (C.LOCKED, "ds-1", C.LOCKED, "ds-2")
    card = VirtualCard.load(tmp_path / "stock" / USED / "card-0000000042.json")
    report = read_back(InProcessTransport(card), new.can or "", stage.csca_pem)
    assert report.verdict.valid
