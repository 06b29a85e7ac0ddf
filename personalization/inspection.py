"""Reading a card as a border inspection system does: BAC, secure messaging, passive authentication.

ICAO 9303-11 §4.3 (BAC), §9.8 (secure messaging), §5.1 (passive authentication); 9303-10 §3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509

from personalization import commands, tlv
from personalization.apdu import CommandAPDU
from personalization.capabilities import CardCapabilities
from personalization.channel import ApduSender
from personalization.lds import com, passive_auth, profile
from personalization.lds.mrz import mrz_information
from personalization.protocol import bac
from personalization.status_words import SW, CardError

SM_RESPONSE_OVERHEAD = 48  # DO87 header and padding, DO99, DO8E (ICAO 9303-11 §9.8.6)
FILES_BY_TAG = {f.tag: f for f in profile.LDS_FILES}


@dataclass
class InspectionResult:
    """The files read and the passive authentication verdict."""

    files: dict[profile.LdsFile, bytes] = field(default_factory=dict, repr=False)
    verdict: passive_auth.Verdict = field(default_factory=passive_auth.Verdict)

    @property
    def data_groups(self) -> dict[int, bytes]:
        return {f.number: d for f, d in self.files.items() if f.number is not None}


def read_ef(channel: ApduSender, ef: profile.LdsFile, chunk: int) -> bytes:
    """READ BINARY by short EF id, then by offset until the TLV's length is read (ICAO 9303-10 §3.2)."""
    first = channel.transmit(CommandAPDU(0x00, 0xB0, 0x80 | ef.sfi, 0, le=chunk))
    if first.sw not in (SW.OK, SW.END_OF_FILE) or not first.data:
        raise CardError(first.sw, f"READ BINARY {ef.name}")
    try:
        header, total = tlv.decode_header(first.data)
    except tlv.TlvError as exc:
        raise CardError(SW.WRONG_DATA, f"{ef.name} does not start with a TLV: {exc}") from exc
    data = first.data[: header + total]
    while len(data) < header + total:
        want = min(chunk, header + total - len(data))
        answer = channel.transmit(commands.read_binary(len(data), want))
        if answer.sw not in (SW.OK, SW.END_OF_FILE) or not answer.data:
            raise CardError(answer.sw, f"READ BINARY {ef.name}@{len(data)}")
        data += answer.data
    return data


def open_bac(transport: ApduSender, document_number: str, birth: str, expiry: str) -> ApduSender:
    """SELECT the LDS application and run BAC with the MRZ information (ICAO 9303-11 §4.3)."""
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check("SELECT LDS")
    seed = bac.key_seed(mrz_information(document_number, birth, expiry))
    return bac.authenticate(transport, seed)


def read_lds(channel: ApduSender, caps: CardCapabilities) -> dict[profile.LdsFile, bytes]:
    """EF.COM, then every data group it lists, then EF.SOD."""
    chunk = caps.read_chunk(SM_RESPONSE_OVERHEAD)
    files = {profile.EF_COM: read_ef(channel, profile.EF_COM, chunk)}
    for tag in com.data_group_tags(files[profile.EF_COM]):
        ef = FILES_BY_TAG.get(tag)
        if ef is None:
            raise CardError(SW.FILE_NOT_FOUND, f"EF.COM lists unknown tag {tag:02X}")
        files[ef] = read_ef(channel, ef, chunk)
    files[profile.EF_SOD] = read_ef(channel, profile.EF_SOD, chunk)
    return files


def inspect(transport: ApduSender, caps: CardCapabilities, document_number: str, birth: str,
            expiry: str, cscas: list[x509.Certificate],
            crls: list[x509.CertificateRevocationList] | None = None,
            at: datetime | None = None) -> InspectionResult:
    """Read the whole LDS under BAC and verify it against the CSCAs."""
    channel = open_bac(transport, document_number, birth, expiry)
    files = read_lds(channel, caps)
    result = InspectionResult(files)
    data_groups = result.data_groups
    result.verdict = passive_auth.verify(files[profile.EF_SOD], data_groups, cscas, crls, at)
    return result


def dump(files: dict[profile.LdsFile, bytes], directory: Path) -> list[Path]:
    """Write each file read as EF.COM.bin, DG1.bin, ..., EF.SOD.bin (the `card read --dump` layout)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for ef, data in files.items():
        path = directory / ef.dump_name
        path.write_bytes(data)
        written.append(path)
    return written
