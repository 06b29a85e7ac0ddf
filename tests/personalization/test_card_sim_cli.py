"""`card-sim`: blank stock on disk and a card attached to pcscd, scripted from outside."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from personalization import commands
from personalization.cli import card_sim
from personalization.lds import profile
from personalization.protocol.kdf import GP_TEST_KEY, diversify_keys
from personalization.protocol.scp03 import Scp03Channel
from personalization.status_words import TransportError
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard

REPO = Path(__file__).resolve().parents[2]


def test_new_stock_makes_distinct_blank_cards(tmp_path: Path) -> None:
    result = CliRunner().invoke(card_sim, ["new-stock", str(tmp_path / "stock"), "--count", "3",
                                           "--first-serial", "500"])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "stock").glob("card-*.json"))
    assert len(files) == 3
    cards = [VirtualCard.load(f) for f in files]
    assert [c.state.serial for c in cards] == [500, 501, 502]
    assert len({c.state.kdd for c in cards}) == 3
    assert len({c.state.keys.enc for c in cards}) == 3  # per-card keys, never shared
    assert all(c.state.life_cycle == profile.OP_READY for c in cards)
    again = CliRunner().invoke(card_sim, ["new-stock", str(tmp_path / "stock"), "--count", "1",
                                          "--first-serial", "500"])
    assert again.exit_code != 0 and "never overwritten" in again.output
    shown = CliRunner().invoke(card_sim, ["info", str(files[0])])
    assert "serial        500" in shown.output
    assert cards[0].state.keys.enc.hex() not in shown.output.lower()


def _control(path: Path, line: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        stream = s.makefile("rw")
        stream.write(line + "\n")
        stream.flush()
        return stream.readline().strip()


@pytest.mark.pcsc
def test_attach_insert_remove_over_the_control_socket(
    pcscd: None, tmp_path: Path, vpcd_reader: tuple[int, str]
) -> None:
    port, name = vpcd_reader
    card_file = tmp_path / "card.json"
    VirtualCard.blank(77, GP_TEST_KEY, card_file)
    control = tmp_path / "control.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "personalization.cli", "attach", "--port", str(port),
         "--card", str(card_file), "--control", str(control), "--insert-after", "0.2"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not control.exists():
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
            time.sleep(0.05)
        reader = PcscTransport(name)
        reader.wait_for_card(timeout=5)
        reader.connect()
        reader.transmit(commands.select_aid(profile.LDS_AID)).check()
        channel = Scp03Channel(reader, lambda kdd: diversify_keys(GP_TEST_KEY, kdd))
        channel.open()
        channel.transmit(commands.create_ef(0x0101, 4)).check()
        reader.disconnect()
        assert _control(control, "status") == "ok inserted serial=77"
        assert _control(control, "remove") == "ok removed"
        reader.wait_for_removal(timeout=5)
        with pytest.raises(TransportError):
            reader.connect()
        assert _control(control, "insert") == "ok inserted serial=77"
        reader.wait_for_card(timeout=5)
        # The card file kept what the first session wrote.
        lds = VirtualCard.load(card_file).state.application(profile.LDS_AID)
        assert lds is not None and 0x0101 in lds.files
        assert _control(control, "quit") == "ok bye"
        assert proc.wait(timeout=10) == 0
        reader.wait_for_removal(timeout=5)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.mark.pcsc
def test_attach_follows_signals(pcscd: None, tmp_path: Path, vpcd_reader: tuple[int, str]) -> None:
    port, name = vpcd_reader
    proc = subprocess.Popen(
        [sys.executable, "-m", "personalization.cli", "attach", "--port", str(port), "--no-insert"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and "card-sim pid" in proc.stdout.readline()
        reader = PcscTransport(name)
        proc.send_signal(signal.SIGUSR1)
        reader.wait_for_card(timeout=5)
        proc.send_signal(signal.SIGUSR2)
        reader.wait_for_removal(timeout=5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.pcsc
def test_attach_notices_a_link_that_ended(pcscd: None, tmp_path: Path,
                                          vpcd_reader: tuple[int, str]) -> None:
    """A card torn mid-command drops its link; attach says so instead of sitting silent."""
    port, name = vpcd_reader
    control = tmp_path / "control.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "personalization.cli", "attach", "--port", str(port),
         "--control", str(control)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not control.exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        reader = PcscTransport(name)
        reader.wait_for_card(timeout=5)
        reader.connect()
        assert _control(control, "tear 1") == "ok"
        with pytest.raises(TransportError):
            reader.transmit(commands.select_aid(profile.LDS_AID))
        reader.disconnect()
        reader.wait_for_removal(timeout=5)
        time.sleep(1.0)  # attach looks every 0.5 s
        assert _control(control, "status") == "ok empty"
        assert _control(control, "quit") == "ok bye"
        _, err = proc.communicate(timeout=10)
        assert "card link ended" in err
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
