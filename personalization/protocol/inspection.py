"""Read an eMRTD the way an inspection system does and judge the chip (ICAO 9303-11 §4-§6).

PACE when EF.CardAccess offers it (else BAC); the files EF.COM lists (every known file when there
is no EF.COM), read by short EF id with the largest answers the card declares; chip authentication
when DG14 is present and active authentication when DG15 is; passive authentication of the SOD
against the CSCAs. DG14 and DG15 must match the SOD's hashes, or a clone could bring its own keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from personalization import commands, tlv
from personalization.apdu import CommandAPDU
from personalization.capabilities import CardCapabilities
from personalization.channel import ApduSender
from personalization.lds import com, passive_auth, profile
from personalization.protocol import active_auth, bac, chip_auth, pace
from personalization.protocol.secure_messaging import SecureMessagingChannel
from personalization.status_words import SW, CardError

SM_RESPONSE_OVERHEAD = 48  # DO87 header and padding, DO99, DO8E (ICAO 9303-11 §9.8.6)
FILES_BY_TAG = {f.tag: f for f in profile.KNOWN_FILES}
FILES_BY_NAME = {f.name: f for f in profile.KNOWN_FILES}


@dataclass
class ChipReport:
    """What was read and whether the chip proved it is the one the issuer personalized."""

    access: str
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    chip_authentication: str = "not offered"
    active_authentication: str = "not offered"
    verdict: passive_auth.Verdict = field(default_factory=passive_auth.Verdict)

    @property
    def genuine(self) -> bool:
        return (self.chip_authentication == "passed" and self.active_authentication in (
            "passed", "not offered")) or (self.chip_authentication == "not offered"
                                          and self.active_authentication == "passed")

    @property
    def chip_verdict(self) -> str:
        if self.genuine:
            return "genuine chip"
        return (f"not shown genuine: chip authentication {self.chip_authentication}, "
                f"active authentication {self.active_authentication}")

    @property
    def data_groups(self) -> dict[int, bytes]:
        return {FILES_BY_NAME[n].number or 0: d for n, d in self.files.items()
                if n in FILES_BY_NAME and FILES_BY_NAME[n].number is not None}


def read_ef(channel: ApduSender, ef: profile.LdsFile, chunk: int) -> bytes | None:
    """READ BINARY by short EF id, then by offset until the TLV's length is read; None if absent."""
    first = channel.transmit(CommandAPDU(0x00, 0xB0, 0x80 | ef.sfi, 0, le=chunk))
    if first.sw == SW.FILE_NOT_FOUND:
        return None
    if first.sw not in (SW.OK, SW.END_OF_FILE) or not first.data:
        raise CardError(first.sw, f"READ BINARY {ef.name}")
    try:
        header, total = tlv.decode_header(first.data)
    except tlv.TlvError as exc:
        raise CardError(SW.WRONG_DATA, f"{ef.name} does not start with a TLV: {exc}") from exc
    data = first.data[: header + total]
    while len(data) < header + total:
        # Ask for a whole chunk even for the tail: under SM a short Le would make the chip cut the
        # answer to fit it (ICAO 9303-11 §9.8), and reading to the end is answered 6282.
        answer = channel.transmit(commands.read_binary(len(data), chunk))
        if answer.sw not in (SW.OK, SW.END_OF_FILE) or not answer.data:
            raise CardError(answer.sw, f"READ BINARY {ef.name}@{len(data)}")
        data += answer.data
    return data


def read_files(channel: ApduSender, chunk: int) -> dict[str, bytes]:
    """EF.COM, then every data group it lists (every known one without EF.COM), then EF.SOD."""
    files: dict[str, bytes] = {}
    ef_com = read_ef(channel, profile.EF_COM, chunk)
    wanted: list[profile.LdsFile] = [f for f in profile.KNOWN_FILES if f.number is not None]
    if ef_com is not None:
        files[profile.EF_COM.name] = ef_com
        wanted = []
        for tag in com.data_group_tags(ef_com):
            if tag not in FILES_BY_TAG:
                raise CardError(SW.FILE_NOT_FOUND, f"EF.COM lists unknown tag {tag:02X}")
            wanted.append(FILES_BY_TAG[tag])
    for ef in [*wanted, profile.EF_SOD]:
        content = read_ef(channel, ef, chunk)
        if content is not None:
            files[ef.name] = content
    return files


def _card_access(sender: ApduSender) -> bytes | None:
    if sender.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, profile.FID_MF.to_bytes(2, "big"))).sw != SW.OK:
        return None
    answer = sender.transmit(CommandAPDU(0x00, 0xB0, 0x80 | profile.SFI_EF_CARD_ACCESS, 0, le=256))
    return answer.data if answer.sw in (SW.OK, SW.END_OF_FILE) and answer.data else None


def _open(sender: ApduSender, password: pace.PacePassword | None, bac_seed: bytes | None
          ) -> tuple[str, SecureMessagingChannel]:
    card_access = _card_access(sender) if password is not None else None
    if password is not None and card_access is not None:
        channel = pace.authenticate(sender, password, card_access)
        channel.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check("SELECT eMRTD")
        return "PACE", channel
    if bac_seed is None:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "the chip offers no PACE; BAC needs the MRZ")
    sender.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check("SELECT eMRTD")
    return "BAC", bac.authenticate(sender, bac_seed)


def read_and_authenticate(sender: ApduSender, password: pace.PacePassword | None = None,
                          bac_seed: bytes | None = None, caps: CardCapabilities | None = None,
                          rng: Callable[[int], bytes] = os.urandom) -> ChipReport:
    """Access the chip, read every LDS file present, then run CA and AA where offered."""
    access, channel = _open(sender, password, bac_seed)
    chunk = (caps or CardCapabilities()).read_chunk(SM_RESPONSE_OVERHEAD)
    report = ChipReport(access, read_files(channel, chunk))
    # DG14 and DG15 come from the card: a malformed key is the chip's failure, not the reader's.
    if "DG14" in report.files:
        try:
            channel = chip_auth.authenticate(channel, report.files["DG14"], rng)
            # Only the holder of DG14's private key answers under the new session keys.
            if read_ef(channel, profile.DG1, chunk) != report.files.get("DG1"):
                raise CardError(SW.WRONG_DATA, "DG1 differs after chip authentication")
            report.chip_authentication = "passed"
        except (CardError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            report.chip_authentication = f"failed ({exc})"
            return report
    if "DG15" in report.files:
        try:
            active_auth.authenticate(channel, report.files["DG15"], rng)
            report.active_authentication = "passed"
        except (CardError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            report.active_authentication = f"failed ({exc})"
    return report


def inspect(sender: ApduSender, caps: CardCapabilities, cscas: list[x509.Certificate],
            password: pace.PacePassword | None = None, bac_seed: bytes | None = None,
            crls: list[x509.CertificateRevocationList] | None = None,
            at: datetime | None = None) -> ChipReport:
    """Read, authenticate the chip, and verify the EF.SOD (passive authentication)."""
    report = read_and_authenticate(sender, password, bac_seed, caps)
    sod = report.files.get(profile.EF_SOD.name)
    if sod is None:
        report.verdict.add("EF.SOD present", False, "the card has no EF.SOD")
    else:
        report.verdict = passive_auth.verify(sod, report.data_groups, cscas, crls, at)
    return report


def dump(files: dict[str, bytes], directory: Path) -> list[Path]:
    """Write each file read as EF.COM.bin, DG1.bin, ..., EF.SOD.bin (the `card read --dump` layout)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        path = directory / f"{name}.bin"
        path.write_bytes(data)
        written.append(path)
    return written
