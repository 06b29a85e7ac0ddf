"""Command and response APDUs, short and extended length (ISO/IEC 7816-4 §5.1-5.3)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from personalization.status_words import SW, CardError

SHORT_MAX_LC = 255
SHORT_MAX_LE = 256
EXTENDED_MAX_LE = 65536
CLA_CHAINING = 0x10


@dataclass(frozen=True)
class CommandAPDU:
    """A command APDU; le=None means no Le field, le=256/65536 mean 'all' (ISO/IEC 7816-4 §5.1)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} out of range")
        if self.le is not None and not 1 <= self.le <= EXTENDED_MAX_LE:
            raise ValueError("Le must be 1..65536")
        if len(self.data) > 65535:
            raise ValueError("command data longer than 65535 bytes")

    @property
    def needs_extended(self) -> bool:
        """True when the data or Le do not fit in a short APDU."""
        return len(self.data) > SHORT_MAX_LC or (self.le or 0) > SHORT_MAX_LE

    @property
    def is_extended(self) -> bool:
        return self.extended or self.needs_extended

    @property
    def ne(self) -> int:
        """Maximum number of response bytes expected (Ne), 0 without Le."""
        return self.le or 0

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def with_le(self, le: int | None) -> CommandAPDU:
        return replace(self, le=le)

    def to_bytes(self) -> bytes:
        """Encode as case 1-4, short or extended (ISO/IEC 7816-4 §5.1 table 1)."""
        out = bytearray(self.header)
        ext = self.is_extended
        if self.data:
            if ext:
                out += b"\x00" + len(self.data).to_bytes(2, "big")
            else:
                out.append(len(self.data))
            out += self.data
        if self.le is not None:
            if ext:
                le = 0 if self.le == EXTENDED_MAX_LE else self.le
                # Without a body, extended Le carries its own leading 00.
                out += (b"" if self.data else b"\x00") + le.to_bytes(2, "big")
            else:
                out.append(self.le & 0xFF)
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes) -> CommandAPDU:
        """Decode any of the seven encodings; raises CardError(6700) on a malformed length."""
        if len(raw) < 4:
            raise CardError(SW.WRONG_LENGTH, "APDU shorter than its header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        n = len(body)
        data = b""
        le: int | None = None
        extended = False
        if n == 0:
            pass
        elif n == 1:
            le = body[0] or 256
        elif body[0] != 0 or n < 3:
            lc = body[0]
            if lc == 0:
                raise CardError(SW.WRONG_LENGTH, "short Lc of zero")
            if n == 1 + lc:
                data = body[1:]
            elif n == 2 + lc:
                data = body[1:-1]
                le = body[-1] or 256
            else:
                raise CardError(SW.WRONG_LENGTH, "Lc does not match the body")
        else:
            extended = True
            if n == 3:
                le = int.from_bytes(body[1:3], "big") or EXTENDED_MAX_LE
            else:
                lc = int.from_bytes(body[1:3], "big")
                if lc == 0:
                    raise CardError(SW.WRONG_LENGTH, "extended Lc of zero")
                if n == 3 + lc:
                    data = body[3:]
                elif n == 5 + lc:
                    data = body[3:-2]
                    le = int.from_bytes(body[-2:], "big") or EXTENDED_MAX_LE
                else:
                    raise CardError(SW.WRONG_LENGTH, "extended Lc does not match the body")
        return cls(cla, ins, p1, p2, bytes(data), le, extended)

    def __repr__(self) -> str:
        # Never show the data field: it may carry PINs or key material.
        le = "" if self.le is None else f" Le={self.le}"
        return f"CommandAPDU({self.header.hex().upper()} Lc={len(self.data)}{le})"


@dataclass(frozen=True)
class ResponseAPDU:
    """A response APDU: data field plus SW1-SW2 (ISO/IEC 7816-4 §5.1)."""

    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW.OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise ValueError("response shorter than SW1-SW2")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def check(self, context: str = "") -> bytes:
        """Return the data, or raise CardError naming the status word."""
        if self.sw != SW.OK:
            raise CardError(self.sw, context)
        return self.data

    def __repr__(self) -> str:
        return f"ResponseAPDU(len={len(self.data)} sw={self.sw:04X})"


def chain(command: CommandAPDU, max_data: int) -> list[CommandAPDU]:
    """Split a command into a chain; all but the last set CLA bit b5 (ISO/IEC 7816-4 §5.3.3)."""
    if len(command.data) <= max_data:
        return [command]
    parts = [command.data[i : i + max_data] for i in range(0, len(command.data), max_data)]
    out = [
        replace(command, cla=command.cla | CLA_CHAINING, data=p, le=None) for p in parts[:-1]
    ]
    out.append(replace(command, data=parts[-1]))
    return out
