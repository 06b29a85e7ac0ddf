"""Chip authentication (DG14) and active authentication (DG15) with keys made on the card,
and clones that lack them (issue 13, point 3)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from personalization import commands
from personalization.apdu import CommandAPDU
from personalization.lds import profile
from personalization.protocol import active_auth, chip_auth, pace
from personalization.protocol import security_infos as si
from personalization.protocol.inspection import read_and_authenticate
from personalization.status_words import CardError
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import VirtualCard
from tests.personalization.chip_setup import CAN, DG1, DOCUMENT, Keys, bac_seed, personalize
from tests.personalization.conftest import MASTER_KEY


def _pace(transport: Transport) -> pace.SecureMessagingChannel:
    transport.reconnect()
    transport.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")).check()
    card_access = transport.transmit(CommandAPDU(0x00, 0xB0, 0x9C, 0x00, le=256)).check()
    channel = pace.authenticate(transport, pace.PacePassword.can(CAN), card_access)
    channel.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    return channel


def test_dg14_and_dg15_describe_the_keys_the_card_made(transport: Transport, card_keys: Keys,
                                                       blank_card: VirtualCard) -> None:
    issued = personalize(transport, card_keys)
    body = si.data_group_body(issued.dg14, chip_auth.TAG_DG14, "DG14")
    infos = {i.protocol: i for i in si.parse(body)}
    assert set(infos) == {si.CA_ECDH_AES_128, si.PK_ECDH, si.PACE_ECDH_GM_AES_128,
                          si.ACTIVE_AUTHENTICATION}
    assert infos[si.CA_ECDH_AES_128].integer() == 1
    key = chip_auth.chip_key(issued.dg14)
    assert key.params.parameter_id == profile.CA_PARAMETER_ID
    assert active_auth.public_key(issued.dg15).curve.name == "secp256r1"
    # The private key never leaves the card: reading the key back gives DG14's point only.
    channel = _pace(transport)
    answer = channel.transmit(CommandAPDU(0x00, 0x47, 0x81, 0x01, le=256)).check()
    assert key.point in answer
    assert blank_card.state.ca_key is not None and blank_card.state.ca_key not in answer
    # Generating again needs the personalization channel.
    assert channel.transmit(CommandAPDU(0x00, 0x47, 0x80, 0x01, le=256)).sw == 0x6982


def test_ca_and_aa_prove_a_genuine_chip(transport: Transport, card_keys: Keys) -> None:
    issued = personalize(transport, card_keys)
    channel = _pace(transport)
    assert commands.read_file(channel, profile.FID_DG14, len(issued.dg14), 223) == issued.dg14
    authenticated = chip_auth.authenticate(channel, issued.dg14)
    assert authenticated.session is not channel.session
    assert commands.read_file(authenticated, 0x0101, len(DG1), 223) == DG1
    active_auth.authenticate(authenticated, issued.dg15)
    # A signature over another challenge does not pass as this one.
    signature = authenticated.transmit(active_auth.internal_authenticate(b"12345678")).check()
    assert active_auth.verify(issued.dg15, b"12345678", signature)
    assert not active_auth.verify(issued.dg15, b"87654321", signature)


def test_read_and_authenticate_reports_a_genuine_chip(transport: Transport, card_keys: Keys
                                                      ) -> None:
    issued = personalize(transport, card_keys)
    transport.reconnect()
    report = read_and_authenticate(transport, pace.PacePassword.mrz(*DOCUMENT))
    assert report.access == "PACE" and report.chip_verdict == "genuine chip"
    assert report.files["DG1"] == DG1 and report.files["DG15"] == issued.dg15
    # An inspection system that knows only BAC still reads the chip and runs CA and AA.
    transport.reconnect()
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    report = read_and_authenticate(transport, bac_seed=bac_seed())
    assert report.access == "BAC" and report.chip_verdict == "genuine chip"


def test_openssl_verifies_the_active_authentication_signature(transport: Transport,
                                                              card_keys: Keys, tmp_path: Path
                                                              ) -> None:
    """An independent check: the openssl command accepts the chip's signature under DG15's key."""
    issued = personalize(transport, card_keys)
    channel = _pace(transport)
    challenge = bytes(range(8))
    plain = channel.transmit(active_auth.internal_authenticate(challenge)).check()
    (tmp_path / "challenge.bin").write_bytes(challenge)
    (tmp_path / "dg15.der").write_bytes(si.data_group_body(issued.dg15, 0x6F, "DG15"))
    (tmp_path / "sig.der").write_bytes(encode_dss_signature(
        int.from_bytes(plain[:32], "big"), int.from_bytes(plain[32:], "big")))
    verify = ["openssl", "dgst", "-sha256", "-keyform", "DER", "-verify",
              str(tmp_path / "dg15.der"), "-signature", str(tmp_path / "sig.der"),
              str(tmp_path / "challenge.bin")]
    ok = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    (tmp_path / "challenge.bin").write_bytes(b"tampered")
    assert subprocess.run(verify, capture_output=True, check=False).returncode != 0


def _clone(source: VirtualCard, folder: Path) -> VirtualCard:
    assert source.path is not None
    path = folder / "clone.json"
    shutil.copy(source.path, path)
    return VirtualCard.load(path)


def test_a_copy_without_the_private_keys_is_refused(blank_card: VirtualCard, card_keys: Keys,
                                                    tmp_path: Path) -> None:
    genuine = InProcessTransport(blank_card)
    genuine.connect()
    personalize(genuine, card_keys)
    clone = _clone(blank_card, tmp_path)
    clone.state.ca_key = clone.state.aa_key = None  # everything a reader can copy, no keys
    transport = InProcessTransport(clone)
    transport.connect()
    report = read_and_authenticate(transport, pace.PacePassword.can(CAN))
    assert not report.genuine
    assert report.chip_authentication.startswith("failed") and "6A88" in report.chip_authentication


def test_a_card_with_another_cards_dg14_and_dg15_is_refused(
    blank_card: VirtualCard, card_keys: Keys, tmp_path: Path
) -> None:
    genuine = InProcessTransport(blank_card)
    genuine.connect()
    issued = personalize(genuine, card_keys)
    other = VirtualCard.blank(0x2002, MASTER_KEY, tmp_path / "other.json")
    transport = InProcessTransport(other)
    transport.connect()
    personalize(transport, card_keys, dg14=issued.dg14, dg15=issued.dg15)
    transport.reconnect()
    report = read_and_authenticate(transport, pace.PacePassword.can(CAN))
    assert not report.genuine and report.chip_authentication.startswith("failed")

    # Active authentication alone also catches it: the signature is not DG15's key's.
    channel = _pace(transport)
    with pytest.raises(CardError, match="does not match DG15"):
        active_auth.authenticate(channel, issued.dg15)


def test_ca_and_aa_need_secure_messaging(transport: Transport, card_keys: Keys) -> None:
    personalize(transport, card_keys)
    transport.reconnect()
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    assert transport.transmit(active_auth.internal_authenticate(bytes(8))).sw == 0x6982
    assert transport.transmit(chip_auth.mse_set_at()).sw == 0x6982
