"""Read an eMRTD the way an inspection system does and judge the chip (ICAO 9303-11 §4, §6).

PACE when EF.CardAccess offers it (else BAC), then chip authentication when DG14 is present
and active authentication when DG15 is. DG14 and DG15 must also match the SOD's hashes
(passive authentication, done by the caller): without that a clone could bring its own keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from personalization import bac, commands, tlv
from personalization.apdu import CommandAPDU
from personalization.channel import ApduSender
from personalization.protocol import active_auth, chip_auth, pace
from personalization.secure_messaging import SecureMessagingChannel
from personalization.status_words import SW, CardError

LDS_AID = bytes.fromhex("A0000002471001")  # ICAO 9303-10 §3.1
FID_MF = 0x3F00
SFI_CARD_ACCESS = 0x1C
FILES = {"EF.COM": 0x011E, "DG1": 0x0101, "DG2": 0x0102, "DG7": 0x0107, "DG11": 0x010B,
         "DG12": 0x010C, "DG14": 0x010E, "DG15": 0x010F, "EF.SOD": 0x011D}
READ_CHUNK = 0xDF  # what most inspection systems ask for (DESIGN §9)


@dataclass
class ChipReport:
    """What was read and whether the chip proved it is the one the issuer personalized."""

    access: str
    files: dict[str, bytes] = field(default_factory=dict)
    chip_authentication: str = "not offered"
    active_authentication: str = "not offered"

    @property
    def genuine(self) -> bool:
        return (self.chip_authentication == "passed" and self.active_authentication in (
            "passed", "not offered")) or (self.chip_authentication == "not offered"
                                          and self.active_authentication == "passed")

    @property
    def verdict(self) -> str:
        if self.genuine:
            return "genuine chip"
        return (f"not shown genuine: chip authentication {self.chip_authentication}, "
                f"active authentication {self.active_authentication}")


def read_ef(channel: ApduSender, fid: int) -> bytes | None:
    """A whole transparent EF whose content is one BER-TLV object; None when it is absent."""
    if channel.transmit(commands.select_fid(fid)).sw == SW.FILE_NOT_FOUND:
        return None
    head = channel.transmit(commands.read_binary(0, 4))
    if head.sw not in (SW.OK, SW.END_OF_FILE) or len(head.data) < 2:
        raise CardError(head.sw, f"READ BINARY {fid:04X}")
    try:
        _, pos = tlv.read_tag(head.data, 0)
        length, pos = tlv.read_length(head.data, pos)
    except tlv.TlvError as exc:
        raise CardError(SW.WRONG_DATA, f"EF {fid:04X}: {exc}") from exc
    return commands.read_file(channel, fid, pos + length, READ_CHUNK)


def _card_access(sender: ApduSender) -> bytes | None:
    if sender.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, FID_MF.to_bytes(2, "big"))).sw != SW.OK:
        return None
    answer = sender.transmit(CommandAPDU(0x00, 0xB0, 0x80 | SFI_CARD_ACCESS, 0, le=256))
    return answer.data if answer.sw in (SW.OK, SW.END_OF_FILE) and answer.data else None


def _open(sender: ApduSender, password: pace.PacePassword | None, bac_seed: bytes | None
          ) -> tuple[str, SecureMessagingChannel]:
    card_access = _card_access(sender) if password is not None else None
    if password is not None and card_access is not None:
        channel = pace.authenticate(sender, password, card_access)
        channel.transmit(commands.select_aid(LDS_AID, fci=False)).check("SELECT eMRTD")
        return "PACE", channel
    if bac_seed is None:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "the chip offers no PACE; BAC needs the MRZ")
    sender.transmit(commands.select_aid(LDS_AID, fci=False)).check("SELECT eMRTD")
    return "BAC", bac.authenticate(sender, bac_seed)


def read_and_authenticate(sender: ApduSender, password: pace.PacePassword | None = None,
                          bac_seed: bytes | None = None,
                          rng: Callable[[int], bytes] = os.urandom) -> ChipReport:
    """Access the chip, read every LDS file present, then run CA and AA where offered."""
    access, channel = _open(sender, password, bac_seed)
    report = ChipReport(access)
    for name, fid in FILES.items():
        content = read_ef(channel, fid)
        if content is not None:
            report.files[name] = content
    if "DG14" in report.files:
        try:
            channel = chip_auth.authenticate(channel, report.files["DG14"], rng)
            # Only the holder of DG14's private key answers under the new session keys.
            if read_ef(channel, FILES["DG1"]) != report.files.get("DG1"):
                raise CardError(SW.WRONG_DATA, "DG1 differs after chip authentication")
            report.chip_authentication = "passed"
        except (CardError, ValueError) as exc:
            report.chip_authentication = f"failed ({exc})"
            return report
    if "DG15" in report.files:
        try:
            active_auth.authenticate(channel, report.files["DG15"], rng)
            report.active_authentication = "passed"
        except (CardError, ValueError) as exc:
            report.active_authentication = f"failed ({exc})"
    return report
