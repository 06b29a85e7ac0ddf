"""Locked cards made directly through the state machine, for the print stage's tests.

Personalization (another stage) leaves a card locked with DG1's MRZ written; here the same rows
are made with `allocate_card` and `move`, the MRZ composed by personalization's TD1 code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
from pathlib import Path

from PIL import Image

from issuance.applications import open_application
from issuance.biometrics import ImageMeta, store_biometric
from issuance.config import Settings
from issuance.db import Database
from issuance.demo import population
from issuance.equipment import add_printer
from issuance.models import Application, BiometricKind, Card, User
from issuance.pki.bootstrap import embedded_settings, ensure_pki
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, allocate_card, move
from personalization.lds.mrz import compose, yymmdd
from printing.samples import sample_photo
from workers.print_jobs import print_queue_names
from workers.queues import open_queue
from workers.worker import drain

ACTOR = Actor("test", "HQ")
_TO_PERSONALIZED = [ApplicationState.SUBMITTED, ApplicationState.VALIDATING, ApplicationState.APPROVED,
                    ApplicationState.BATCHED, ApplicationState.PERSONALIZING, ApplicationState.PERSONALIZED]
_TO_LOCKED = [CardState.ENCODING, CardState.ENCODED, CardState.VERIFIED, CardState.LOCKED]


def _mrz_name(citizen: population.Citizen) -> str:
    def part(text: str) -> str:
        return "<".join(re.sub(r"[^A-Z]", "", w) for w in text.upper().split() if re.sub(r"[^A-Z]", "", w))
    return f"{part(citizen.surname_latin)}<<{part(citizen.given_names_latin)}"[:30]


def make_card(db: Database, rt: Runtime, clerk: User, seed: int, *, to: CardState = CardState.LOCKED,
              batch_id: int | None = None) -> int:
    """An application carried to `personalized` and its card to `to` (DG1's MRZ written); the card id."""
    citizen = population.generate(1, seed=seed)[0]
    photo = sample_photo()
    width, height = Image.open(io.BytesIO(photo)).size
    with db.transaction() as s:
        app = open_application(s, citizen, clerk, mrz_name=_mrz_name(citizen))
        for state in _TO_PERSONALIZED:
            batched = state == ApplicationState.BATCHED and batch_id is not None
            move(s, Application, app.id, state, ACTOR, values={"batch_id": batch_id} if batched else None)
        store_biometric(s, rt.vault, app.id, BiometricKind.PHOTO, photo,
                        ImageMeta("image/jpeg", width, height), "test", quality_passed=True)
        card = allocate_card(s, app.id, ACTOR)
        number = f"T{app.id:08d}"
        expiry = dt.date(2036, 11, 27)
        mrz = compose(document_code="ID", issuing_state="UTO", document_number=number,
                      birth_date=yymmdd(citizen.birth_date), sex=citizen.sex, expiry_date=yymmdd(expiry),
                      nationality="UTO", name=_mrz_name(citizen), optional1=citizen.national_number[:15])
        values = {"document_number": number, "mrz": "\n".join(mrz.lines), "can": "123456",
                  "expires_on": expiry, "issued_on": dt.date(2026, 11, 28),
                  "chip_serial": f"CHIP{app.id:06d}"}
        for state in _TO_LOCKED[:_TO_LOCKED.index(to) + 1]:
            move(s, Card, card.id, state, ACTOR, values=values if state == CardState.ENCODED else None)
        return card.id


def add_folder_printer(db: Database, folder: Path, code: str = "P1") -> int:
    with db.transaction() as s:
        return add_printer(s, code, "HQ", "folder", str(folder), actor="test").id


def add_cups_printer(db: Database, code: str, queue: str, server: str) -> None:
    with db.transaction() as s:
        add_printer(s, code, "HQ", "cups", f"{queue}@{server}", actor="test")


def with_pki(settings: Settings, template: Path) -> Settings:
    """Settings whose data folder holds a copy of a PKI made once (keystore passphrase included)."""
    shutil.copytree(template / "pki", settings.data_dir / "pki")
    local = embedded_settings(template, settings)
    return dataclasses.replace(local, keystore_path=str(settings.data_dir / "pki" / "keystore.json"))


def make_pki_template(folder: Path) -> Path:
    """A demo-style PKI (software keystore under folder/pki), made once per session."""
    settings = dataclasses.replace(Settings(), data_dir=folder, database_url=f"sqlite:///{folder / 'pki.db'}")
    rt = Runtime(settings)
    try:
        ensure_pki(folder, settings, rt.db)
    finally:
        rt.close()
    return folder


def card_state(db: Database, card_id: int) -> tuple[str, str]:
    with db.session() as s:
        card = s.get_one(Card, card_id)
        return str(card.state), str(s.get_one(Application, card.application_id).state)


def run_queue(rt: Runtime) -> None:
    """Work every print queue in this process until it is empty."""
    drain(rt, open_queue(rt.settings), print_queue_names(rt))
