"""The same personalization-level session over InProcessTransport and over pcscd (issue 5)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256

from personalization import commands, tlv
from personalization.apdu import CommandAPDU
from personalization.capabilities import read_capabilities
from personalization.lds import profile
from personalization.lds.mrz import mrz_information
from personalization.lds.profile import AC_BAC, AC_SECURE_CHANNEL, pin_block
from personalization.protocol import bac
from personalization.protocol.kdf import StaticKeys
from personalization.protocol.scp03 import LEVEL_FULL, Scp03Channel
from personalization.transport.base import Transport
from personalization.virtual_card import VirtualCard

DG1 = b"a\x5b\x5f\x1f\x58" + b"I<UTOD23145890<7349<<<<<<<<<<<3407127M9507122UTO<<<<<<<<<<<2STEVENSON<<PETER"
PHOTO = os.urandom(3000)  # bigger than any short APDU: exercises extended length


def test_personalize_then_read_back(
    transport: Transport, blank_card: VirtualCard, card_keys: Callable[[bytes], StaticKeys]
) -> None:
    caps = read_capabilities(transport, transport.atr)
    assert caps.extended_length and caps.max_command == profile.MAX_COMMAND
    chunk = caps.write_chunk(overhead=16 + 8)  # C-DEC padding and C-MAC

    transport.transmit(commands.select_aid(profile.LDS_AID)).check("SELECT LDS")
    channel = Scp03Channel(transport, card_keys, LEVEL_FULL)
    info = channel.open()
    assert info.kdd == blank_card.state.kdd

    rules = AC_BAC | AC_SECURE_CHANNEL
    channel.transmit(commands.create_ef(0x0101, len(DG1), sfi=0x01, read_ac=rules)).check()
    channel.transmit(commands.create_ef(0x0102, len(PHOTO), sfi=0x02, read_ac=rules)).check()
    commands.write_file(channel, 0x0101, DG1, chunk)
    commands.write_file(channel, 0x0102, PHOTO, chunk)
    seed = bac.key_seed(mrz_information("D23145890", "340712", "950712"))
    channel.transmit(CommandAPDU(0x00, 0xDA, 0x00, 0x62, seed)).check("PUT DATA seed")

    assert commands.read_file(channel, 0x0101, len(DG1), chunk) == DG1
    assert commands.read_file(channel, 0x0102, len(PHOTO), chunk) == PHOTO

    # Read back the way a border inspection system does: new selection, BAC, SM reads.
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    inspection = bac.authenticate(transport, seed)
    assert commands.read_file(inspection, 0x0101, len(DG1), 223) == DG1
    assert commands.read_file(inspection, 0x0102, len(PHOTO), 1024) == PHOTO

    # The file survives in the card file, like EEPROM across a power cycle.
    reloaded = VirtualCard.load(blank_card.path) if blank_card.path else blank_card
    lds = reloaded.state.application(profile.LDS_AID)
    assert lds is not None and bytes(lds.files[0x0102].data) == PHOTO


def test_signature_application(
    transport: Transport, card_keys: Callable[[bytes], StaticKeys]
) -> None:
    transport.transmit(commands.select_aid(profile.SIGNATURE_AID)).check()
    channel = Scp03Channel(transport, card_keys, LEVEL_FULL)
    channel.open()
    answer = channel.transmit(CommandAPDU(0x00, 0x47, 0x80, 0x00, le=256)).check("GENERATE")
    point = tlv.find(tlv.find(answer, 0x7F49) or b"", 0x86)
    assert point is not None and len(point) == 65
    channel.transmit(CommandAPDU(0x00, 0x24, 0x01, 0x81, pin_block("1234"))).check("set PIN")
    channel.transmit(CommandAPDU(0x00, 0x24, 0x01, 0x82, pin_block("12345678"))).check()

    transport.transmit(commands.select_aid(profile.SIGNATURE_AID, fci=False)).check()
    digest = hashlib.sha256(b"document").digest()
    sign = CommandAPDU(0x00, 0x2A, 0x9E, 0x9A, digest, le=256)
    assert transport.transmit(sign).sw == 0x6982
    transport.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x81, pin_block("1234"))).check()
    raw = transport.transmit(sign).check("PSO CDS")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, digest, ec.ECDSA(Prehashed(SHA256())))
