"""The demo's encoding station: each batched application on a virtual card from a blank-stock folder.

Writes OUT/cards/<application-number>/card.json (the virtual card, for `issuance card-sim attach
--card`) and OUT/cards/<application-number>/chip/ (the files read back as an inspection system reads
them, named as `issuance card read --dump` names them).
"""

from __future__ import annotations

import shutil
from collections import Counter
from functools import partial
from pathlib import Path

from cryptography import x509
from sqlalchemy import func, select

from issuance.config import Settings
from issuance.keystore import Keystore, open_keystore
from issuance.models import Application, Card
from issuance.pki.bootstrap import DEMO_ADMINS, embedded_settings
from issuance.pki.ceremony import issue_master_key
from issuance.pki.store import PkiDirectory
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from personalization.capabilities import read_capabilities
from personalization.protocol.inspection import dump, inspect
from personalization.protocol.pace import PacePassword
from personalization.station.feeders import USED, StockFeeder
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import VirtualCard
from workers.personalization import enqueue_personalization
from workers.queues import open_queue
from workers.station import MASTER_KEY_LABEL, open_station

DEMO_STATION = "S1"
SPARE_CARDS = 2


def _master_key(rt: Runtime, keystore: Keystore, directory: PkiDirectory) -> None:
    """The issuer's SCP03 master key in the demo's software keystore, made on the first run."""
    if MASTER_KEY_LABEL not in {k.label for k in keystore.list_keys()}:
        issue_master_key(rt.db, keystore, directory, MASTER_KEY_LABEL, 128, DEMO_ADMINS, rt.settings.site)


def _stock(folder: Path, keystore: Keystore, count: int) -> StockFeeder:
    """Fresh blank cards, keys derived in the keystore (as `card-sim new-stock --master-key-label`)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    derive = partial(keystore.derive_scp03, MASTER_KEY_LABEL)
    for serial in range(1, count + 1):
        VirtualCard.blank(serial, derive, folder / f"card-{serial:010d}.json")
    return StockFeeder(folder)


def _write_card(card_file: Path, can: str, csca: x509.Certificate, target: Path) -> None:
    """card.json and chip/ for one card, read back through PACE with the CAN."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(card_file, target / "card.json")
    with InProcessTransport(VirtualCard.load(target / "card.json")) as transport:
        caps = read_capabilities(transport, transport.atr)
        report = inspect(transport, caps, [csca], PacePassword.can(can), None)
    dump(report.files, target / "chip")


def personalize_batched(rt: Runtime, settings: Settings, out_dir: Path) -> dict[str, int]:
    """Personalize every batched application at the demo's station; the cards by state."""
    directory = PkiDirectory(out_dir / "pki")
    keystore = open_keystore(embedded_settings(out_dir, settings))
    try:
        _master_key(rt, keystore, directory)
        with rt.db.session() as s:
            batched = list(s.scalars(select(Application.id).where(
                Application.state == ApplicationState.BATCHED)))
        feeder = _stock(out_dir / "stock", keystore, len(batched) + SPARE_CARDS)
        jobs = open_queue(rt.settings)
        enqueue_personalization(rt, jobs, batched)
        station = open_station(rt, jobs, keystore, DEMO_STATION, feeder, card_timeout=1)
        station.loop.run()
    finally:
        keystore.close()
    csca = x509.load_pem_x509_certificate((out_dir / "pki" / "csca.pem").read_bytes())
    with rt.db.session() as s:
        locked = s.execute(select(Application.number, Card.chip_serial, Card.can).join(Card).where(
            Card.state == CardState.LOCKED)).all()
        cards = Counter({str(state): n for state, n in s.execute(
            select(Card.state, func.count()).group_by(Card.state))})
    for number, serial, can in locked:
        if serial is None or can is None:  # a locked card always has both; nothing to write without them
            continue
        card_file = out_dir / "stock" / USED / f"card-{int(serial):010d}.json"
        _write_card(card_file, can, csca, out_dir / "cards" / str(number))
    return dict(sorted(cards.items()))
