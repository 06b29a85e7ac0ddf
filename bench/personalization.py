"""Personalization of one card with the full profile (20 KB DG2): APDUs against the minimum the card's
declared limits allow, and milliseconds per card through pcscd against APDUs × the no-op round trip.

Targets from issue 12: APDUs ≤ 1.1 × minimum; ≤ 500 ms per card through pcscd; keystore ≤ 20 ms of it.
Usage: .venv/bin/python -m bench.personalization [--cards 5] [--port 35963]
(run as a module: as a script, this file would shadow the personalization package)
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.apdu_roundtrip import measure
from personalization.capabilities import CardCapabilities
from personalization.lds import profile
from personalization.lds.signer import Signer
from personalization.protocol.kdf import GP_TEST_KEY, StaticKeys
from personalization.station import specimen, training_pki
from personalization.station.ports import HolderSubject, IssuingCA, StationPki
from personalization.station.steps import CardOrder, personalize
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard
from personalization.vpcd import VirtualReaderSlot

REPO = Path(__file__).resolve().parents[1]
FACE_BYTES = 20 * 1024
CARD_SECONDS = 0.5
KEYSTORE_MS = 20.0
RATIO = 1.1


@dataclass
class Clock:
    """Milliseconds spent inside the keystore ports."""

    ms: float = 0.0

    def timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.ms += (time.perf_counter() - start) * 1000
        return wrapper


class TimedKeys:
    def __init__(self, inner: StationPki, clock: Clock) -> None:
        self.card_keys: Callable[[bytes], StaticKeys] = clock.timed(inner.card_keys.card_keys)


class TimedSigner:
    def __init__(self, inner: Signer, clock: Clock) -> None:
        self.certificate = inner.certificate
        self.sign: Callable[[bytes], bytes] = clock.timed(inner.sign)


class TimedCA:
    def __init__(self, inner: IssuingCA, clock: Clock) -> None:
        self.certificate = inner.certificate
        self.certify: Callable[[bytes, HolderSubject], bytes] = clock.timed(inner.certify)


def minimum_apdus(files: dict[str, bytes], certificate: int, caps: CardCapabilities) -> int:
    """The fewest APDUs the sequence allows: every write and read as large as the card's buffers."""
    # SCP03 command: header, extended Lc, ciphertext (at least one padding byte, 16-byte blocks), C-MAC.
    write = (caps.max_command - 4 - 3 - 8) // 16 * 16 - 1
    read = caps.max_response - 2 - 4 - 10 - 16  # DO87 header, DO99, DO8E, padding block
    sizes = [len(d) for d in files.values()]
    identify = 3  # EF.ATR by short id, SELECT ISD, GET DATA CPLC
    chip_keys = 3 + 2  # SELECT, SCP03, GENERATE the CA and the AA key
    lds_write = sum(1 + math.ceil(n / write) for n in sizes) + 3  # files; BAC seed, PACE MRZ, CAN
    holder = 3 + 1 + 1 + math.ceil(certificate / write) + 2  # SELECT, SCP03, GENERATE, cert, PIN, PUK
    pace = 2 + 5 + 1  # EF.CardAccess (SELECT MF, READ), MSE:Set AT and 4 GENERAL AUTHENTICATE, SELECT
    verify = (pace + sum(math.ceil(n / read) for n in sizes) + 2 + 1 + 1  # CA, DG1 re-read, AA
              + 1 + math.ceil(certificate / read))
    lock = 3 + 3  # SELECT ISD, SCP03, SET STATUS ×3
    return identify + chip_keys + lds_write + holder + verify + lock


def no_op_ms(transport: Transport) -> float:
    """Median no-op round trip in milliseconds (the same measure as bench/apdu_roundtrip.py)."""
    median_us, _ = measure(transport, 500)
    return median_us / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=5)
    parser.add_argument("--port", type=int, default=35963, choices=(35963, 35964))
    args = parser.parse_args()
    subprocess.run([str(REPO / "scripts" / "start-pcscd.sh")], check=True)

    clock = Clock()
    base = training_pki.generate(GP_TEST_KEY)
    pki = StationPki(TimedKeys(base, clock), TimedSigner(base.document_signer, clock),
                     TimedCA(base.issuing_ca, clock), base.csca)
    order = CardOrder(specimen.document(), specimen.holder(FACE_BYTES))

    local = InProcessTransport(VirtualCard.blank(1, GP_TEST_KEY))
    start = time.perf_counter()
    result = personalize(local, pki, order)
    in_process_ms = (time.perf_counter() - start) * 1000
    caps = CardCapabilities.from_atr(result.atr).with_ef_atr(profile.ef_atr_content())
    minimum = minimum_apdus(result.files, len(result.holder_certificate), caps)
    dg2 = len(result.files[profile.DG2.name])

    slot = VirtualReaderSlot(port=args.port)
    pcsc = PcscTransport(f"Virtual PCD 00 {args.port - 35963:02d}")
    pcsc.wait_for_removal(timeout=5)
    card_ms, keystore_ms, apdus = [], [], []
    try:
        for serial in range(2, 2 + args.cards):
            slot.insert(VirtualCard.blank(serial, GP_TEST_KEY))
            pcsc.wait_for_card(timeout=5)
            pcsc.connect()
            pcsc.apdus, clock.ms = 0, 0.0
            start = time.perf_counter()
            personalize(pcsc, pki, order)
            card_ms.append((time.perf_counter() - start) * 1000)
            keystore_ms.append(clock.ms)
            apdus.append(pcsc.apdus)
            round_trip = no_op_ms(pcsc)
            pcsc.disconnect()
            slot.remove()
            pcsc.wait_for_removal(timeout=5)
    finally:
        slot.remove()

    ms, ks = statistics.median(card_ms), statistics.median(keystore_ms)
    print(f"profile: {len(result.files)} LDS files, DG2 {dg2} bytes, holder certificate "
          f"{len(result.holder_certificate)} bytes; card limits {caps.max_command}/{caps.max_response} bytes")
    apdus_met = apdus[0] <= RATIO * minimum
    print(f"APDUs per card: {apdus[0]} (in-process {result.apdus}); minimum {minimum}; "
          f"ratio {apdus[0] / minimum:.2f} (target ≤ {RATIO}): {'met' if apdus_met else 'MISSED'}")
    print(f"through pcscd: median {ms:.1f} ms per card over {args.cards} cards; "
          f"APDUs × no-op round trip ({round_trip:.3f} ms) = {apdus[0] * round_trip:.1f} ms; "
          f"target ≤ {CARD_SECONDS * 1000:.0f} ms: {'met' if ms <= CARD_SECONDS * 1000 else 'MISSED'}")
    print(f"keystore (DS/CA signing, key derivation): median {ks:.1f} ms per card; "
          f"target ≤ {KEYSTORE_MS:.0f} ms: {'met' if ks <= KEYSTORE_MS else 'MISSED'}")
    print(f"in-process: {in_process_ms:.1f} ms per card")
    for step in result.steps:
        print(f"  {step.step.value:14} {step.apdus:3} APDUs {step.ms:7.1f} ms (in-process)")
    met = apdus_met and ms <= CARD_SECONDS * 1000 and ks <= KEYSTORE_MS
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
