"""Fixtures for the chip layer: blank cards, the real pcscd with vpcd, one reader per worker."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from personalization.protocol.kdf import StaticKeys, diversify_keys
from personalization.station import training_pki
from personalization.station.ports import StationPki
from personalization.station.specimen import document, holder
from personalization.station.steps import CardOrder
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard
from personalization.vpcd import ABSENCE, VirtualReaderSlot

REPO = Path(__file__).resolve().parents[2]
MASTER_KEY = bytes.fromhex("404142434445464748494A4B4C4D4E4F")  # GP test key, never production


def worker_reader() -> tuple[int, str]:
    """vpcd port and reader name for this xdist worker: gw0 → reader 0, gw1 → reader 1."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw") or 0) % 2
    return 35963 + index, f"Virtual PCD 00 {index:02d}"


@pytest.fixture
def vpcd_reader() -> tuple[int, str]:
    """(vpcd port, PC/SC reader name) reserved for this test worker."""
    return worker_reader()


@pytest.fixture(scope="session")
def pcscd() -> None:
    """The real pcscd with the vpcd driver, started if needed (DESIGN §9)."""
    subprocess.run([str(REPO / "scripts" / "start-pcscd.sh")], check=True, timeout=30)


@pytest.fixture
def master_key() -> bytes:
    return MASTER_KEY


@pytest.fixture
def card_keys() -> Callable[[bytes], StaticKeys]:
    return lambda kdd: diversify_keys(MASTER_KEY, kdd)


@pytest.fixture
def blank_card(tmp_path: Path) -> VirtualCard:
    return VirtualCard.blank(0x1001, MASTER_KEY, tmp_path / "card.json")


@pytest.fixture
def slot(pcscd: None) -> Iterator[VirtualReaderSlot]:
    port, name = worker_reader()
    # A card left by an earlier test (or a card-sim process) must be gone as far as pcscd
    # knows, or a quick re-insertion looks like the old card still sitting there.
    PcscTransport(name).wait_for_removal(timeout=5)
    s = VirtualReaderSlot(port=port)
    yield s
    s.remove()
    # The next test's slot is a new object: give pcscd one poll with the reader empty (vpcd.ABSENCE),
    # as VirtualReaderSlot does between its own cards, or it may miss the next insertion.
    time.sleep(ABSENCE)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


@pytest.fixture
def pcsc_transport(slot: VirtualReaderSlot, blank_card: VirtualCard) -> Iterator[PcscTransport]:
    _, name = worker_reader()
    slot.insert(blank_card)
    transport = PcscTransport(name)
    transport.wait_for_card(timeout=5)
    transport.connect()
    yield transport
    transport.disconnect()
    slot.remove()
    # pcscd polls the slot: wait until it has seen the card go, or the next test's
    # insertion could look like the same card still sitting there unpowered.
    transport.wait_for_removal(timeout=5)


@pytest.fixture(params=["in-process", pytest.param("pcsc", marks=pytest.mark.pcsc)])
def transport(request: pytest.FixtureRequest, blank_card: VirtualCard) -> Iterator[Transport]:
    """The same card behind both transports, for tests that must pass over each."""
    if request.param == "pcsc":
        yield request.getfixturevalue("pcsc_transport")
        return
    t = InProcessTransport(blank_card)
    t.connect()
    yield t
    t.disconnect()


@pytest.fixture(scope="module")
def pki() -> StationPki:
    return training_pki.generate(MASTER_KEY, "UT")


@pytest.fixture(scope="module")
def order(pki: StationPki) -> CardOrder:
    return CardOrder(document(), holder())
