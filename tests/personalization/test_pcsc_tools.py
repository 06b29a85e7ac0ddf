"""Independent PC/SC tools see the virtual card as any card (issue 5, tooling check)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from personalization.lds import profile
from personalization.transport.pcsc import CardEvents, PcscTransport, list_readers
from personalization.virtual_card import VirtualCard
from personalization.vpcd import VirtualReaderSlot

pytestmark = pytest.mark.pcsc


def _spaced(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


def test_pcsc_scan_lists_the_card(pcsc_transport: PcscTransport,
                                  vpcd_reader: tuple[int, str]) -> None:
    assert shutil.which("pcsc_scan"), "Debian pcsc-tools is required"
    _, name = vpcd_reader
    out = subprocess.run(["pcsc_scan", "-c", "-n", "-t", "1"], capture_output=True, text=True,
                         timeout=20).stdout
    block = out[out.index(name):]
    assert re.search(r"Card state: Card inserted", block)
    assert f"ATR: {_spaced(profile.atr())}" in block


def test_opensc_tool_reads_atr_and_sends_apdus(
    pcsc_transport: PcscTransport, blank_card: VirtualCard, vpcd_reader: tuple[int, str]
) -> None:
    assert shutil.which("opensc-tool"), "Debian opensc is required"
    _, name = vpcd_reader
    index = str(list_readers().index(name))
    atr = subprocess.run(["opensc-tool", "-r", index, "--atr"], capture_output=True, text=True,
                         timeout=20, check=True).stdout
    assert atr.strip().lower() == profile.atr().hex(":")
    pcsc_transport.disconnect()  # opensc-tool wants the reader to itself for its APDUs
    sent = subprocess.run(
        ["opensc-tool", "-r", index, "-s", "00A4040007" + profile.LDS_AID.hex().upper(),
         "-s", "00A4040008" + profile.ISD_AID.hex().upper(), "-s", "80CA004500"],
        capture_output=True, text=True, timeout=20, check=True).stdout
    answers = re.findall(r"Received \(SW1=0x([0-9A-F]{2}), SW2=0x([0-9A-F]{2})\)", sent)
    assert answers == [("90", "00"), ("90", "00"), ("90", "00")]
    assert _spaced(blank_card.state.serial.to_bytes(8, "big")) in sent


def test_card_events_follow_insertion_and_removal(slot: VirtualReaderSlot,
                                                  vpcd_reader: tuple[int, str]) -> None:
    _, name = vpcd_reader
    with CardEvents(name) as events:
        slot.insert(VirtualCard.blank(9, bytes(16)))
        inserted = events.next(timeout=5)
        assert inserted.inserted and inserted.atr == profile.atr()
        slot.remove()
        assert not events.next(timeout=5).inserted
