"""Milliseconds per inspection of a chip: PACE (CAN), then chip and active authentication and
reading DG1, DG14, DG15, in-process and through pcscd (ICAO 9303-11 §4.4, §6.1, §6.2).

Usage: .venv/bin/python bench/chip_access.py [--rounds 20] [--port 35963]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from personalization import commands
from personalization.apdu import CommandAPDU
from personalization.lds import profile
from personalization.lds.profile import AC_BAC, AC_NEVER
from personalization.protocol import active_auth, chip_auth, pace
from personalization.protocol.ec_params import by_id
from personalization.protocol.inspection import read_and_authenticate
from personalization.protocol.kdf import GP_TEST_KEY
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard
from personalization.virtual_card.filesystem import ElementaryFile
from personalization.vpcd import VirtualReaderSlot

REPO = Path(__file__).resolve().parents[1]
CAN = "123456"


def _card() -> VirtualCard:
    """A card in the state personalization leaves it (set directly: this measures reading)."""
    card = VirtualCard.blank(1, GP_TEST_KEY)
    state = card.state
    ca, aa = by_id(profile.CA_PARAMETER_ID), by_id(profile.AA_PARAMETER_ID)
    ca_scalar, aa_scalar = ca.random_scalar(), aa.random_scalar()
    state.ca_key, state.aa_key = ca_scalar.to_bytes(32, "big"), aa_scalar.to_bytes(32, "big")
    state.can = CAN.encode()
    access = pace.card_access(profile.PACE_PARAMETER_ID)
    state.mf.files[profile.FID_EF_CARD_ACCESS] = ElementaryFile(
        profile.FID_EF_CARD_ACCESS, len(access), profile.SFI_EF_CARD_ACCESS, 0, AC_NEVER,
        bytearray(access))
    dg14 = chip_auth.dg14(chip_auth.public_key_info(ca.encode_point(ca.generator * ca_scalar), ca),
                          profile.PACE_PARAMETER_ID, active_authentication=True)
    dg15 = active_auth.dg15(chip_auth.public_key_info(aa.encode_point(aa.generator * aa_scalar),
                                                      aa))
    dg1 = bytes.fromhex("615B5F1F58") + b"I<UTO" + b"<" * 83
    lds = state.application(profile.LDS_AID)
    assert lds is not None
    for fid, data in ((0x0101, dg1), (profile.FID_DG14, dg14), (profile.FID_DG15, dg15)):
        lds.files[fid] = ElementaryFile(fid, len(data), None, AC_BAC, AC_NEVER, bytearray(data))
    return card


def _pace_only(transport: Transport) -> None:
    transport.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")).check()
    access = transport.transmit(CommandAPDU(0x00, 0xB0, 0x9C, 0, le=256)).check()
    channel = pace.authenticate(transport, pace.PacePassword.can(CAN), access)
    channel.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()


def _full(transport: Transport) -> None:
    report = read_and_authenticate(transport, pace.PacePassword.can(CAN))
    if report.chip_verdict != "genuine chip":
        raise SystemExit(report.chip_verdict)


def measure(transport: Transport, rounds: int) -> dict[str, float]:
    out = {}
    for name, run in (("PACE", _pace_only), ("PACE+read+CA+AA", _full)):
        samples = []
        for _ in range(rounds):
            transport.reconnect()
            start = time.perf_counter()
            run(transport)
            samples.append((time.perf_counter() - start) * 1000)
        out[name] = statistics.median(samples)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--port", type=int, default=35963, choices=(35963, 35964))
    args = parser.parse_args()
    subprocess.run([str(REPO / "scripts" / "start-pcscd.sh")], check=True)
    card = _card()
    local = InProcessTransport(card)
    local.connect()
    results = {"in-process": measure(local, args.rounds)}
    local.disconnect()
    slot = VirtualReaderSlot(port=args.port)
    pcsc = PcscTransport(f"Virtual PCD 00 {args.port - 35963:02d}")
    pcsc.wait_for_removal(timeout=5)
    slot.insert(card)
    try:
        pcsc.wait_for_card(timeout=5)
        pcsc.connect()
        results["through pcscd"] = measure(pcsc, args.rounds)
    finally:
        pcsc.disconnect()
        slot.remove()
    print(f"median of {args.rounds} runs, milliseconds per inspection")
    for where, figures in results.items():
        line = "  ".join(f"{name} {ms:7.1f}" for name, ms in figures.items())
        print(f"{where:14s} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
