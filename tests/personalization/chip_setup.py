"""A card personalized the way the station does for inspection: passwords, CA and AA keys, DGs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from personalization import commands, tlv
from personalization.apdu import CommandAPDU
from personalization.channel import ApduSender
from personalization.lds import profile
from personalization.lds.mrz import mrz_information
from personalization.lds.profile import AC_BAC, AC_SECURE_CHANNEL
from personalization.protocol import active_auth, bac, chip_auth
from personalization.protocol.ec_params import BRAINPOOL_P256R1, NIST_P256
from personalization.protocol.kdf import StaticKeys
from personalization.protocol.pace import PacePassword
from personalization.protocol.scp03 import LEVEL_FULL, Scp03Channel

# ICAO 9303-11 Appendix G's document: T22000129, born 1964-08-12, expires 2010-10-31.
DOCUMENT = ("T22000129", "640812", "101031")
CAN = "123456"
MRZ = ("I<UTOT220001293<<<<<<<<<<<<<<<" "6408125F1010318UTO<<<<<<<<<<<4" "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
DG1 = tlv.encode(0x61, tlv.encode(0x5F1F, MRZ.encode("ascii")))
LARGE = bytes(i % 253 for i in range(1500))  # bigger than one short READ BINARY
READ_RULE = AC_BAC | AC_SECURE_CHANNEL
Keys = Callable[[bytes], StaticKeys]


@dataclass(frozen=True)
class IssuedChip:
    """What the station wrote, as an inspection system will compare it."""

    dg14: bytes
    dg15: bytes


def _public_point(answer: bytes) -> bytes:
    point = tlv.find(tlv.find(answer, 0x7F49) or b"", 0x86)
    assert point is not None
    return point


def _write(channel: ApduSender, fid: int, sfi: int, data: bytes) -> None:
    channel.transmit(commands.create_ef(fid, len(data), sfi=sfi, read_ac=READ_RULE)).check()
    commands.write_file(channel, fid, data, 1000)


def personalize(sender: ApduSender, keys: Keys, dg14: bytes | None = None,
                dg15: bytes | None = None) -> IssuedChip:
    """Generate the chip's CA and AA keys, build DG14/DG15 from them, write files and passwords."""
    sender.transmit(commands.select_aid(profile.LDS_AID)).check()
    channel = Scp03Channel(sender, keys, LEVEL_FULL)
    channel.open()
    generate = CommandAPDU(0x00, 0x47, 0x80, profile.KEY_CHIP_AUTHENTICATION, le=256)
    ca_point = _public_point(channel.transmit(generate).check("GENERATE CA key"))
    generate = CommandAPDU(0x00, 0x47, 0x80, profile.KEY_ACTIVE_AUTHENTICATION, le=256)
    aa_point = _public_point(channel.transmit(generate).check("GENERATE AA key"))
    if dg14 is None:
        ca_key = chip_auth.public_key_info(ca_point, BRAINPOOL_P256R1)
        dg14 = chip_auth.dg14(ca_key, profile.PACE_PARAMETER_ID, active_authentication=True)
    if dg15 is None:
        dg15 = active_auth.dg15(chip_auth.public_key_info(aa_point, NIST_P256))
    _write(channel, 0x0101, 0x01, DG1)
    _write(channel, 0x0102, 0x02, LARGE)
    _write(channel, profile.FID_DG14, 0x0E, dg14)
    _write(channel, profile.FID_DG15, 0x0F, dg15)
    info = mrz_information(*DOCUMENT)
    channel.transmit(CommandAPDU(0x00, 0xDA, 0x00, 0x62, bac.key_seed(info))).check("BAC seed")
    mrz_secret = PacePassword.mrz(*DOCUMENT).secret
    channel.transmit(CommandAPDU(0x00, 0xDA, 0x00, 0x63, mrz_secret)).check("PACE MRZ")
    channel.transmit(CommandAPDU(0x00, 0xDA, 0x00, 0x64, CAN.encode())).check("CAN")
    return IssuedChip(dg14, dg15)


def bac_seed() -> bytes:
    return bac.key_seed(mrz_information(*DOCUMENT))


def scripted(*chunks: bytes) -> Callable[[int], bytes]:
    """An RNG that hands out the given values, then random bytes (for worked examples)."""
    queue = list(chunks)

    def rng(n: int) -> bytes:
        if queue:
            value = queue.pop(0)
            assert len(value) == n, f"scripted value of {len(value)} bytes for a {n}-byte draw"
            return value
        return os.urandom(n)

    return rng
