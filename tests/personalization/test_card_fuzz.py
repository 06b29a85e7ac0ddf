"""Fuzzing the card OS through the real pcscd: random and mutated APDUs, chained, extended and
under secure messaging; afterwards the card still answers and pcscd still serves (issue 13)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from personalization import commands, tlv
from personalization.apdu import CommandAPDU, ResponseAPDU, chain
from personalization.lds import profile
from personalization.protocol import active_auth, bac, pace
from personalization.protocol.secure_messaging import SecureMessagingChannel
from personalization.status_words import CardError, TransportError
from personalization.transport.pcsc import PcscTransport, list_readers
from personalization.virtual_card import VirtualCard
from personalization.vpcd import CONTROL_GRACE
from tests.personalization.chip_setup import CAN, Keys, bac_seed, personalize
from tests.personalization.conftest import worker_reader

APDUS = 3000
SEED = 13
TIME_LIMIT = 120.0  # seconds; a few thousand APDUs take a few seconds through pcscd

CORPUS = [
    commands.select_aid(profile.LDS_AID),
    commands.select_aid(profile.ISD_AID),
    commands.select_aid(profile.SIGNATURE_AID),
    CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"),
    commands.select_fid(0x0101),
    commands.select_fid(profile.FID_EF_CARD_ACCESS),
    commands.read_binary(0, 256),
    CommandAPDU(0x00, 0xB0, 0x9C, 0x00, le=256),
    CommandAPDU(0x00, 0xB0, 0x81, 0x00, le=65536, extended=True),
    CommandAPDU(0x00, 0xB1, 0x01, 0x02, b"\x54\x02\x01\x00", le=256),
    CommandAPDU(0x00, 0x84, 0x00, 0x00, le=8),
    pace.mse_set_at(pace.PacePassword.can(CAN), pace.PaceInfo(profile.PACE_PARAMETER_ID)),
    pace.general_authenticate(0, b"", last=False),
    pace.general_authenticate(0x81, b"\x04" + bytes(64), last=False),
    pace.general_authenticate(0x85, bytes(8), last=True),
    CommandAPDU(0x00, 0x22, 0x41, 0xA4, b"\x80\x0a\x04\x00\x7f\x00\x07\x02\x02\x03\x02\x02"),
    active_auth.internal_authenticate(bytes(8)),
    CommandAPDU(0x80, 0xCA, 0x9F, 0x7F, le=256),
    CommandAPDU(0x80, 0x50, 0x00, 0x00, bytes(8), le=256),
    CommandAPDU(0x80, 0xF2, 0x80, 0x02, b"\x4f\x00", le=256),
    CommandAPDU(0x00, 0x20, 0x00, 0x81, b"1234\xff\xff\xff\xff"),
    CommandAPDU(0x00, 0x47, 0x81, 0x01, le=256),
    CommandAPDU(0x00, 0xDA, 0x00, 0x64, b"123456"),
    commands.update_binary(0, bytes(300)),
    commands.create_ef(0x0120, 64),
    CommandAPDU(0x00, 0xC0, 0x00, 0x00, le=256),
]


def _random_apdu(rng: random.Random) -> bytes:
    size = rng.choice((rng.randint(2, 12), rng.randint(4, 300), rng.randint(256, 4200)))
    return rng.randbytes(size)


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        action = rng.randrange(5)
        if action == 0 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif action == 1 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif action == 2 and len(data) > 2:
            del data[rng.randrange(2, len(data)):]
        elif action == 3:
            data += rng.randbytes(rng.randint(1, 40))
        elif action == 4:
            data[0] = rng.choice((0x00, 0x0C, 0x10, 0x1C, 0x80, 0x84, 0x94, 0x40, 0x20, 0xFF))
    return bytes(data)


def _chained(rng: random.Random) -> list[bytes]:
    ins = rng.choice((0xD6, 0xDA, 0xE0, 0x2A, 0xA4, 0x86, 0x84, rng.randrange(256)))
    body = rng.randbytes(rng.randint(1, 900))
    parts = chain(CommandAPDU(0x00, ins, rng.randrange(256), rng.randrange(256), body),
                  rng.randint(20, 255))
    if rng.random() < 0.5:
        rng.shuffle(parts)
    return [p.to_bytes() for p in parts]


class Fuzzer:
    """Sends and counts; a 6F00 answer is an internal error of the card OS (a crash)."""

    def __init__(self, transport: PcscTransport, rng: random.Random) -> None:
        self.transport = transport
        self.rng = rng
        self.sent = 0
        self.crashes = 0
        self.session: SecureMessagingChannel | None = None

    def send(self, raw: bytes) -> bytes:
        if len(raw) == 1 and raw[0] in CONTROL_GRACE:
            raw += b"\x00"  # those wait out the grace period by design (test_card_conformance)
        answer = self.transport.transmit_raw(raw)
        self.sent += 1
        assert len(answer) >= 2
        if answer[-2:] == b"\x6f\x00":
            self.crashes += 1
        return answer

    def protected(self) -> list[bytes]:
        """A valid protected command from the corpus, often mutated after protection."""
        if self.session is None or self.rng.random() < 0.05:
            self.session = self._open()
        if self.session is None:
            return []
        protect: Callable[[CommandAPDU], CommandAPDU] = self.session.session.protect_command
        raw = protect(self.rng.choice(CORPUS)).to_bytes()
        if self.rng.random() < 0.5:
            raw = _mutate(self.rng, raw)
            self.session = None  # a damaged MAC ends the session on the card
        return [raw]

    def _open(self) -> SecureMessagingChannel | None:
        """BAC (3DES) or PACE with the CAN (AES) in turn, so both SM suites get fuzzed."""
        try:
            if self.rng.random() < 0.3:
                self.send(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00").to_bytes())
                card_access = self.send(CommandAPDU(0x00, 0xB0, 0x9C, 0, le=256).to_bytes())
                return pace.authenticate(self.transport, pace.PacePassword.can(CAN),
                                         card_access[:-2])
            self.send(commands.select_aid(profile.LDS_AID, fci=False).to_bytes())
            return bac.authenticate(self.transport, bac_seed())
        except (CardError, ValueError):
            return None


@pytest.mark.pcsc
def test_fuzz_through_pcscd(pcsc_transport: PcscTransport, card_keys: Keys,
                            blank_card: VirtualCard, capsys: pytest.CaptureFixture[str]) -> None:
    personalize(pcsc_transport, card_keys)
    pcsc_transport.reconnect()
    rng = random.Random(SEED)
    fuzzer = Fuzzer(pcsc_transport, rng)
    started = time.monotonic()
    while fuzzer.sent < APDUS and time.monotonic() - started < TIME_LIMIT:
        pick = rng.random()
        if pick < 0.25:
            batch = [_random_apdu(rng)]
        elif pick < 0.55:
            batch = [_mutate(rng, rng.choice(CORPUS).to_bytes())]
        elif pick < 0.65:
            batch = _chained(rng)
        else:
            batch = fuzzer.protected()
        for raw in batch:
            fuzzer.send(raw)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nfuzz: {fuzzer.sent} APDUs through pcscd in {elapsed:.1f} s, "
              f"{fuzzer.crashes} internal errors, 0 hangs")
    assert fuzzer.sent >= APDUS, "bounded in time: pcscd or the card slowed down or hung"
    assert fuzzer.crashes == 0

    # The card still answers, with its data intact, and pcscd still serves the other reader.
    pcsc_transport.reconnect()
    answer = ResponseAPDU.parse(pcsc_transport.transmit_raw(
        commands.select_aid(profile.LDS_AID).to_bytes()))
    assert answer.sw == 0x9000 and tlv.find(answer.data, 0x6F) is not None
    channel = bac.authenticate(pcsc_transport, bac_seed())
    assert commands.read_file(channel, 0x0101, 4, 4)[:1] == b"\x61"
    _, mine = worker_reader()
    other = next(r for r in list_readers() if r != mine and "Virtual PCD" in r)
    try:
        PcscTransport(other).card_present()
    except TransportError as exc:  # pragma: no cover - only if pcscd stopped answering
        pytest.fail(f"pcscd no longer serves {other}: {exc}")
