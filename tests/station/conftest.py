"""The encoding station on the database: a PKI and master key in a real keystore, batched applications."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.batches import create_batch
from issuance.biometrics import ImageMeta, store_biometric
from issuance.config import Settings
from issuance.equipment import add_printer, add_station
from issuance.keystore import Keystore, Pkcs11Keystore, open_keystore
from issuance.models import Applicant, Application, BiometricKind, Card, Role
from issuance.pki import pki_folder
from issuance.pki.bootstrap import DEMO_ADMINS
from issuance.pki.ceremony import init_pki, issue_master_key
from issuance.pki.store import PkiDirectory
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, move, move_many
from issuance.vault import Vault
from personalization.station.feeders import CardFeeder, StockFeeder
from personalization.station.specimen import jpeg
from personalization.virtual_card import VirtualCard
from tests.factories import TEST_PASSWORD, make_applications, make_user
from tests.keys.conftest import quick_scrypt, softhsm  # noqa: F401  (fixtures)
from tests.personalization.conftest import pcscd, slot  # noqa: F401  (fixtures)
from workers.queues import JobQueue, open_queue
from workers.station import MASTER_KEY_LABEL, Station, open_station

A, C = ApplicationState, CardState
ACTOR = Actor("test", "HQ")
PRINTER = Actor("printer", "HQ")


OPERATOR = "op1"  # who `issuance station run --as` signs in

@dataclass
class Stage:
    """A database, the keystore with the PKI and master key, the station S1, and its queue."""

    rt: Runtime
    keystore: Keystore
    jobs: JobQueue

    @property
    def csca_pem(self) -> Path:
        return pki_folder(self.rt.settings) / "csca.pem"

    def blank(self, serial: int, path: Path | None = None, foreign: bool = False) -> VirtualCard:
        """A blank card keyed from the master key in the keystore (or another issuer's, when foreign)."""
        keys = bytes(16) if foreign else partial(self.keystore.derive_scp03, MASTER_KEY_LABEL)
        return VirtualCard.blank(serial, keys, path)

    def stock(self, folder: Path, serials: list[int], foreign: set[int] | None = None) -> StockFeeder:
        folder.mkdir(parents=True, exist_ok=True)
        for serial in serials:
            self.blank(serial, folder / f"card-{serial:010d}.json", serial in (foreign or set()))
        return StockFeeder(folder)

    def station(self, feeder: CardFeeder, card_timeout: float = 0.5) -> Station:
        return open_station(self.rt, self.jobs, self.keystore, "S1", feeder, card_timeout=card_timeout)


def printed_by_moves(rt: Runtime, card_id: int) -> None:
    """What the print stage records for a printed card: the locked card and its application printed."""
    with rt.db.transaction() as s:
        card = s.get_one(Card, card_id)
        move(s, Card, card_id, C.PRINTED, PRINTER, expected=C.LOCKED)
        for before, after in ((A.PERSONALIZED, A.PRINTING), (A.PRINTING, A.PRINTED)):
            move(s, Application, card.application_id, after, PRINTER, expected=before)


def mrz_name(surname: str, given: str) -> str:
    """A reviewed TD1 name from Latin names (what the clerk confirms at enrollment)."""
    def part(text: str) -> str:
        return re.sub(r"[^A-Z]+", "<", text.upper()).strip("<")
    return f"{part(surname)}<<{part(given)}"[:30].rstrip("<")


def _png_signature() -> bytes:
    image = Image.new("L", (300, 80), 255)
    image.paste(0, (20, 38, 280, 42))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def ready_for_chip(s: Session, vault: Vault, ids: list[int]) -> None:
    """What a station needs of these applications: a reviewed MRZ name, a chip photo and a signature."""
    for applicant in s.scalars(select(Applicant).where(Applicant.application_id.in_(ids))):
        applicant.mrz_name = mrz_name(applicant.surname_latin, applicant.given_names_latin)
    for app_id in ids:
        store_biometric(s, vault, app_id, BiometricKind.CHIP_PHOTO, jpeg((240, 320), 12_000),
                        ImageMeta("image/jpeg", 240, 320), "test", quality_passed=True)
        store_biometric(s, vault, app_id, BiometricKind.SIGNATURE, _png_signature(),
                        ImageMeta("image/png", 300, 80), "test")


def batched_applications(rt: Runtime, count: int, seed: int = 1) -> list[int]:
    """`count` applications with a reviewed MRZ name, chip photo and signature, batched for S1."""
    clerk = make_user(rt.db, "clerk1", Role.CLERK)
    make_user(rt.db, OPERATOR, Role.OPERATOR)
    ids = make_applications(rt.db, clerk, count, seed)
    with rt.db.transaction() as s:
        add_station(s, "S1", "HQ", "", actor="test")
        add_printer(s, "P1", "HQ", "folder", str(rt.settings.data_dir / "spool"), actor="test")
        ready_for_chip(s, rt.vault, ids)
        for before, after in ((A.DRAFT, A.SUBMITTED), (A.SUBMITTED, A.VALIDATING),
                              (A.VALIDATING, A.APPROVED)):
            move_many(s, Application, ids, after, ACTOR, expected=before)
        create_batch(s, "HQ", ACTOR)
    return ids


def _pki(settings: Settings) -> Keystore:
    rt = Runtime(settings)
    keystore = open_keystore(settings, create=True)
    directory = PkiDirectory(pki_folder(settings))
    init_pki(rt.db, keystore, directory, "UTO", "Test authority", DEMO_ADMINS, site="HQ")
    issue_master_key(rt.db, keystore, directory, MASTER_KEY_LABEL, 128, DEMO_ADMINS, "HQ")
    rt.close()
    return keystore


@pytest.fixture(params=["software"])
def keystore_kind(request: pytest.FixtureRequest) -> str:
    """Software by default; the full-path tests ask for both keystores."""
    return str(request.param)


@pytest.fixture
def stage_settings(keystore_kind: str, database_url: str, tmp_path: Path,
                   request: pytest.FixtureRequest) -> Settings:
    base = replace(Settings(), data_dir=tmp_path / "var", database_url=database_url)
    if keystore_kind == "software":
        return replace(base, keystore="software", keystore_passphrase="correct horse battery staple",
                       keystore_path=str(tmp_path / "keystore.json"))
    hsm = request.getfixturevalue("softhsm")
    return replace(base, keystore="pkcs11", pkcs11_library=hsm.library, pkcs11_token=hsm.token,
                   pkcs11_pin=hsm.pin)


@pytest.fixture
def stage(stage_settings: Settings) -> Iterator[Stage]:
    rt = Runtime(stage_settings)
    keystore = _pki(stage_settings)
    yield Stage(rt, keystore, open_queue(stage_settings))
    if isinstance(keystore, Pkcs11Keystore):  # PKI labels are fixed: empty the shared token
        for key in keystore.list_keys():
            keystore.destroy(key.label)
    keystore.close()
    rt.close()


def card_rows(rt: Runtime, app_id: int) -> list[Card]:
    with rt.db.session() as s:
        return list(s.scalars(select(Card).where(Card.application_id == app_id).order_by(Card.attempt)))


def station_env(settings: Settings) -> dict[str, str]:
    """The environment of an `issuance` process on the same database, data folder and keystore."""
    return {**os.environ, "ISSUANCE_DATA_DIR": str(settings.data_dir),
            "ISSUANCE_DATABASE_URL": settings.effective_database_url, "ISSUANCE_REDIS_URL": "",
            "ISSUANCE_KEYSTORE": "software", "ISSUANCE_KEYSTORE_PATH": settings.keystore_path,
            "ISSUANCE_KEYSTORE_PASSPHRASE": settings.keystore_passphrase, "ISSUANCE_LEASE_SECONDS": "2",
            "ISSUANCE_AS": OPERATOR, "ISSUANCE_PASSWORD": TEST_PASSWORD}
