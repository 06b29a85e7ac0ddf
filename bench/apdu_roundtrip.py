"""Median microseconds per no-op APDU: through pcscd (pyscard → pcscd → vpcd → virtual card)
and in-process. Target from issue 5: under 300 µs through pcscd.

Usage: .venv/bin/python bench/apdu_roundtrip.py [--rounds 2000] [--port 35963]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from personalization.protocol.kdf import GP_TEST_KEY
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard
from personalization.vpcd import VirtualReaderSlot

NO_OP = bytes.fromhex("00A4000C023F00")  # SELECT MF: the card does nearly nothing
REPO = Path(__file__).resolve().parents[1]
TARGET_US = 300.0


def measure(transport: Transport, rounds: int) -> tuple[float, float]:
    """Median and 95th percentile in microseconds of transmit_raw(NO_OP)."""
    for _ in range(min(200, rounds)):
        transport.transmit_raw(NO_OP)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        answer = transport.transmit_raw(NO_OP)
        samples.append((time.perf_counter_ns() - start) / 1000)
        if answer[-2:] != b"\x90\x00":
            raise SystemExit(f"unexpected answer {answer.hex()}")
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--port", type=int, default=35963, choices=(35963, 35964))
    args = parser.parse_args()

    subprocess.run([str(REPO / "scripts" / "start-pcscd.sh")], check=True)
    card = VirtualCard.blank(1, GP_TEST_KEY)

    local = InProcessTransport(card)
    local.connect()
    in_median, in_p95 = measure(local, args.rounds)
    local.disconnect()

    slot = VirtualReaderSlot(port=args.port)
    pcsc = PcscTransport(f"Virtual PCD 00 {args.port - 35963:02d}")
    pcsc.wait_for_removal(timeout=5)  # a card left by an earlier run must be gone first
    slot.insert(card)
    try:
        pcsc.wait_for_card(timeout=5)
        pcsc.connect()
        pc_median, pc_p95 = measure(pcsc, args.rounds)
    finally:
        pcsc.disconnect()
        slot.remove()

    print(f"no-op APDU {NO_OP.hex().upper()}, {args.rounds} rounds")
    print(f"through pcscd: median {pc_median:8.1f} µs  (p95 {pc_p95:.1f} µs)  "
          f"target < {TARGET_US:.0f} µs: {'met' if pc_median < TARGET_US else 'MISSED'}")
    print(f"in-process:    median {in_median:8.1f} µs  (p95 {in_p95:.1f} µs)")
    return 0 if pc_median < TARGET_US else 1


if __name__ == "__main__":
    sys.exit(main())
