"""Declared card capabilities: ATR historical bytes, EF.ATR/INFO (ISO/IEC 7816-3 §8.2, 7816-4 §12.7)."""

from __future__ import annotations

from dataclasses import dataclass

from personalization import tlv
from personalization.apdu import SHORT_MAX_LC, SHORT_MAX_LE, CommandAPDU
from personalization.channel import ApduSender
from personalization.status_words import SW

FID_EF_ATR = 0x2F01
SFI_EF_ATR = 0x01


def historical_bytes(atr: bytes) -> bytes:
    """Walk T0 and the TDi chain to find the historical bytes (ISO/IEC 7816-3 §8.2.2)."""
    if len(atr) < 2:
        raise ValueError("ATR too short")
    k = atr[1] & 0x0F
    pos = 1
    y = atr[1] >> 4
    while True:
        pos += 1
        present = bin(y & 0x07).count("1")  # TAi, TBi, TCi
        has_td = bool(y & 0x08)
        pos += present
        if not has_td:
            break
        y = atr[pos] >> 4
    hist = atr[pos : pos + k]
    if len(hist) != k:
        raise ValueError("ATR shorter than its historical bytes")
    return hist


@dataclass(frozen=True)
class CardCapabilities:
    """Extended length, chaining and buffer sizes the card declares."""

    extended_length: bool = False
    command_chaining: bool = False
    max_command: int = SHORT_MAX_LC
    max_response: int = SHORT_MAX_LE

    @classmethod
    def from_atr(cls, atr: bytes) -> CardCapabilities:
        """Card capabilities DO (tag 7, third software function table) in compact-TLV (§8.1.1.2.7)."""
        hist = historical_bytes(atr)
        if not hist or hist[0] != 0x80:
            return cls()
        pos = 1
        while pos < len(hist):
            tag, length = hist[pos] >> 4, hist[pos] & 0x0F
            value = hist[pos + 1 : pos + 1 + length]
            pos += 1 + length
            if tag == 0x7 and length >= 3:
                return cls(extended_length=bool(value[2] & 0x40),
                           command_chaining=bool(value[2] & 0x80))
        return cls()

    def with_ef_atr(self, content: bytes) -> CardCapabilities:
        """Buffer sizes from the extended length information DO 7F66 (ISO/IEC 7816-4 §12.7.1)."""
        info = tlv.find(content, 0x7F66)
        if info is None or not self.extended_length:
            return self
        sizes = [int.from_bytes(item.value, "big") for item in tlv.iterate(info)
                 if item.tag == 0x02]
        if len(sizes) < 2:
            return self
        return CardCapabilities(True, self.command_chaining, sizes[0], sizes[1])

    def write_chunk(self, overhead: int = 0) -> int:
        """Largest UPDATE BINARY data field, leaving room for secure-messaging overhead."""
        extended_body = self.max_command - 4 - 3 - 2  # header, extended Lc and Le
        if self.extended_length and extended_body - overhead > SHORT_MAX_LC:
            return extended_body - overhead
        return SHORT_MAX_LC - overhead

    def read_chunk(self, overhead: int = 0) -> int:
        """Largest READ BINARY Le that still leaves room for secure-messaging overhead."""
        if self.extended_length and self.max_response - overhead > SHORT_MAX_LE:
            return self.max_response - overhead
        return SHORT_MAX_LE - overhead


def read_capabilities(channel: ApduSender, atr: bytes) -> CardCapabilities:
    """ATR capabilities refined by EF.ATR/INFO when the card has one.

    One READ BINARY by short EF id 01 (ISO/IEC 7816-4 §12.7.1): right after reset the MF is current.
    """
    caps = CardCapabilities.from_atr(atr)
    if not caps.extended_length:
        return caps
    answer = channel.transmit(CommandAPDU(0x00, 0xB0, 0x80 | SFI_EF_ATR, 0x00, le=256))
    if answer.sw not in (SW.OK, SW.END_OF_FILE):
        return caps
    return caps.with_ef_atr(answer.data)
