"""SCP03 card-key diversification: NIST SP 800-108 counter-mode KDF with AES-CMAC (pure functions).

The keystore derives card keys with it, and the chip layer re-exports it; it lives in the core so the
core never imports a stage package.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

# Diversification constants of the "KDF3" scheme (GlobalPlatformPro PlaintextKeys).
DIVERSIFY_ENC = bytes.fromhex("0000000100")
DIVERSIFY_MAC = bytes.fromhex("0000000200")
DIVERSIFY_DEK = bytes.fromhex("0000000300")


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC with full 16-byte output (NIST SP 800-38B)."""
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def counter_blocks(before: bytes, after: bytes, length: int) -> list[bytes]:
    """The PRF inputs of SP 800-108 §5.1 counter mode: before || i (8 bits) || after, i = 1..n."""
    return [before + bytes((i,)) + after for i in range(1, -(-length // 16) + 1)]


def counter_kdf(key: bytes, before: bytes, after: bytes, length: int) -> bytes:
    """SP 800-108 §5.1 counter mode, 8-bit counter placed between two fixed parts."""
    return b"".join(aes_cmac(key, block) for block in counter_blocks(before, after, length))[:length]


@dataclass(frozen=True)
class StaticKeys:
    """An SCP03 static key set: K-ENC, K-MAC, K-DEK and its version number (GPC Amd D §5.1)."""

    enc: bytes
    mac: bytes
    dek: bytes
    kvn: int = 0x30

    def __repr__(self) -> str:
        # Keys never reach logs or tracebacks.
        return f"StaticKeys(kvn={self.kvn:#04x}, AES-{len(self.enc) * 8})"


def diversify(master: bytes, constant: bytes, kdd: bytes) -> bytes:
    """One card key from the issuer master key and the card's KDD (SP 800-108 counter, 'KDF3')."""
    return counter_kdf(master, b"", constant + kdd, len(master))


def diversify_keys(master: bytes, kdd: bytes, kvn: int = 0x30) -> StaticKeys:
    """The card's static SCP03 keys from the issuer master key and its diversification data."""
    return StaticKeys(
        diversify(master, DIVERSIFY_ENC, kdd),
        diversify(master, DIVERSIFY_MAC, kdd),
        diversify(master, DIVERSIFY_DEK, kdd),
        kvn,
    )
