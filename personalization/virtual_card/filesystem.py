"""The card file system: MF, application DFs selected by AID, transparent EFs (ISO/IEC 7816-4 §7)."""

from __future__ import annotations

from dataclasses import dataclass, field

from personalization import tlv
from personalization.lds.profile import AC_ALWAYS, AC_NEVER, AC_SECURE_CHANNEL
from personalization.status_words import SW, CardError


def access_granted(rule: int, satisfied: int) -> bool:
    if rule == AC_NEVER:
        return False
    return rule == AC_ALWAYS or bool(rule & satisfied)


@dataclass
class ElementaryFile:
    """A transparent EF: FID, optional short EF id, fixed size and access rules."""

    fid: int
    size: int
    sfi: int | None = None
    read_ac: int = AC_ALWAYS
    write_ac: int = AC_SECURE_CHANNEL
    data: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        if len(self.data) < self.size:
            self.data.extend(bytes(self.size - len(self.data)))

    def fcp(self) -> bytes:
        """File control parameters (ISO/IEC 7816-4 §7.4.3 table 12)."""
        items = [
            (0x80, self.size.to_bytes(2, "big")),
            (0x82, b"\x01"),
            (0x83, self.fid.to_bytes(2, "big")),
        ]
        if self.sfi is not None:
            items.append((0x88, bytes((self.sfi << 3,))))
        items.append((0x86, bytes((self.read_ac, self.write_ac))))
        return tlv.encode(0x62, tlv.encode_all(*items))

    @classmethod
    def from_fcp(cls, fcp: bytes) -> ElementaryFile:
        """Parse CREATE FILE data (ISO/IEC 7816-9 §6.1); raises CardError(6A80)."""
        try:
            outer = tlv.find(fcp, 0x62)
            if outer is None:
                raise CardError(SW.WRONG_DATA, "CREATE FILE needs an FCP template (62)")
            size = tlv.find(outer, 0x80)
            fid = tlv.find(outer, 0x83)
            descriptor = tlv.find(outer, 0x82)
            sfi = tlv.find(outer, 0x88)
            rules = tlv.find(outer, 0x86)
        except tlv.TlvError as exc:
            raise CardError(SW.WRONG_DATA, str(exc)) from exc
        if size is None or fid is None or len(fid) != 2:
            raise CardError(SW.WRONG_DATA, "FCP needs file size (80) and FID (83)")
        if descriptor not in (None, b"\x01"):
            raise CardError(SW.FUNCTION_NOT_SUPPORTED, "only transparent EFs can be created")
        fid_value = int.from_bytes(fid, "big")
        if fid_value in (0x3F00, 0x3FFF, 0xFFFF):
            raise CardError(SW.WRONG_DATA, "reserved FID")
        read_ac, write_ac = (rules[0], rules[1]) if rules and len(rules) == 2 else (
            AC_ALWAYS, AC_SECURE_CHANNEL)
        return cls(
            fid=fid_value,
            size=int.from_bytes(size, "big"),
            sfi=(sfi[0] >> 3) if sfi else None,
            read_ac=read_ac,
            write_ac=write_ac,
        )


@dataclass
class DedicatedFile:
    """A DF: the MF or an application DF named by its AID, holding EFs."""

    fid: int
    aid: bytes | None = None
    life_cycle: int = 0x07
    files: dict[int, ElementaryFile] = field(default_factory=dict)

    def find(self, fid: int) -> ElementaryFile:
        try:
            return self.files[fid]
        except KeyError:
            raise CardError(SW.FILE_NOT_FOUND, f"EF {fid:04X}") from None

    def find_sfi(self, sfi: int) -> ElementaryFile:
        for ef in self.files.values():
            if ef.sfi == sfi:
                return ef
        raise CardError(SW.FILE_NOT_FOUND, f"short EF {sfi:02X}")

    def create(self, ef: ElementaryFile, free_space: int) -> None:
        if ef.fid in self.files:
            raise CardError(SW.FILE_EXISTS, f"EF {ef.fid:04X}")
        if ef.sfi is not None and any(f.sfi == ef.sfi for f in self.files.values()):
            raise CardError(SW.FILE_EXISTS, f"short EF {ef.sfi:02X}")
        if ef.size > free_space:
            raise CardError(SW.NOT_ENOUGH_MEMORY, "card memory full")
        self.files[ef.fid] = ef

    def fci(self) -> bytes:
        """FCI for SELECT by DF name (ISO/IEC 7816-4 §7.4.1)."""
        body = tlv.encode(0x84, self.aid or b"") + tlv.encode(0x8A, bytes((self.life_cycle,)))
        return tlv.encode(0x6F, body)
