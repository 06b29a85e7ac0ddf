"""ISO/IEC 9797-1 padding method 2 (80 00 .. 00), used by SCP03 and ICAO secure messaging."""

from __future__ import annotations


class PaddingError(ValueError):
    """Padding bytes are not a valid ISO/IEC 9797-1 method 2 padding."""


def pad(data: bytes, block: int) -> bytes:
    """Append 80 then zeros up to a multiple of the block size (ISO/IEC 9797-1 §6.3.3)."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= 16:
        raise PaddingError("bad ISO/IEC 9797-1 method 2 padding")
    return stripped[:-1]
