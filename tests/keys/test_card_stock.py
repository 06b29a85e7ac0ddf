"""Card stock whose SCP03 keys come from the keystore's master key (never from a key file)."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuance.cli.main import main
from issuance.config import Settings
from issuance.keystore import open_keystore
from personalization import commands
from personalization.lds import profile
from personalization.protocol.scp03 import LEVEL_FULL, Scp03Channel
from personalization.status_words import CardError
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import VirtualCard
from tests.keys.conftest import env_of

LABEL = "scp03-master-1"
DG1 = b"I<UTOD23145890<7349<<<<<<<<<<<3407127M9507122UTO<<<<<<<<<<<2STEVENSON<<PETER"


class RecordingTransport(InProcessTransport):
    """The in-process transport, noting each instruction byte the host sends."""

    def __init__(self, card: VirtualCard) -> None:
        super().__init__(card)
        self.instructions: list[int] = []

    def transmit_raw(self, apdu: bytes) -> bytes:
        self.instructions.append(apdu[1])
        return super().transmit_raw(apdu)


def _personalize(card: VirtualCard, settings: Settings) -> RecordingTransport:
    transport = RecordingTransport(card)
    transport.connect()
    transport.transmit(commands.select_aid(profile.LDS_AID)).check("SELECT LDS")
    with open_keystore(settings) as store:
        channel = Scp03Channel(transport, partial(store.derive_scp03, LABEL), LEVEL_FULL)
        channel.open()
    channel.transmit(commands.create_ef(0x0101, len(DG1), sfi=1)).check("CREATE DG1")
    commands.write_file(channel, 0x0101, DG1, 200)
    assert commands.read_file(channel, 0x0101, len(DG1), 200) == DG1
    return transport


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stock_from_the_keystore_master_key_personalizes(pki_settings: Settings, tmp_path: Path) -> None:
    env = env_of(pki_settings)
    made = CliRunner().invoke(main, ["pki", "issue-master-key", "--label", LABEL, "--admin", "alice"],
                              env=env)
    assert made.exit_code == 0, made.output
    stock = tmp_path / "stock"
    result = CliRunner().invoke(main, ["card-sim", "new-stock", str(stock), "--count", "2",
                                       "--first-serial", "900", "--master-key-label", LABEL], env=env)
    assert result.exit_code == 0, result.output
    assert "GlobalPlatform test key" not in result.output
    for card_file in sorted(stock.glob("card-*.json")):
        _personalize(VirtualCard.load(card_file), pki_settings)

    # A card made from another master key is refused at INITIALIZE UPDATE: nothing is written.
    foreign_file = tmp_path / "foreign.json"
    VirtualCard.blank(902, os.urandom(16), foreign_file)
    foreign = VirtualCard.load(foreign_file)
    with pytest.raises(CardError, match="wrong keys"):
        _personalize(foreign, pki_settings)
    reloaded = VirtualCard.load(foreign_file)  # what the card kept (its challenge counter moved on)
    assert [df.files for df in reloaded.state.applications()] == [{}, {}]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_foreign_card_stops_after_initialize_update(pki_settings: Settings, tmp_path: Path) -> None:
    with open_keystore(pki_settings, create=True) as store:
        store.generate_aes(LABEL)
    transport = RecordingTransport(VirtualCard.blank(903, os.urandom(16), tmp_path / "c.json"))
    transport.connect()
    transport.transmit(commands.select_aid(profile.LDS_AID)).check()
    with open_keystore(pki_settings) as store, pytest.raises(CardError):
        Scp03Channel(transport, partial(store.derive_scp03, LABEL), LEVEL_FULL).open()
    assert transport.instructions == [0xA4, 0x50]  # SELECT, INITIALIZE UPDATE, and nothing after


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_new_stock_with_an_unknown_label_is_one_line(pki_settings: Settings, tmp_path: Path) -> None:
    with open_keystore(pki_settings, create=True):
        pass
    result = CliRunner().invoke(main, ["card-sim", "new-stock", str(tmp_path / "s"), "--master-key-label",
                                       "absent"], env=env_of(pki_settings))
    assert result.exit_code == 1 and "no key labelled 'absent'" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "s").exists()
