"""Key derivation: NIST SP 800-108 counter-mode KDF with AES-CMAC, as GPC Amd D §4.1.5 uses it."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

# Derivation constants (GPC 2.3 Amendment D §4.1.5 table 4-1).
CARD_CRYPTOGRAM = 0x00
HOST_CRYPTOGRAM = 0x01
CARD_CHALLENGE = 0x02
S_ENC = 0x04
S_MAC = 0x06
S_RMAC = 0x07

# Diversification constants of the "KDF3" scheme (GlobalPlatformPro PlaintextKeys).
DIVERSIFY_ENC = bytes.fromhex("0000000100")
DIVERSIFY_MAC = bytes.fromhex("0000000200")
DIVERSIFY_DEK = bytes.fromhex("0000000300")


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC with full 16-byte output (NIST SP 800-38B)."""
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def counter_kdf(key: bytes, before: bytes, after: bytes, length: int) -> bytes:
    """SP 800-108 §5.1 counter mode, 8-bit counter placed between two fixed parts."""
    out = b""
    counter = 1
    while len(out) < length:
        out += aes_cmac(key, before + bytes((counter,)) + after)
        counter += 1
    return out[:length]


def scp03_kdf(key: bytes, constant: int, context: bytes, bits: int) -> bytes:
    """SCP03 data derivation: label 11x00||constant, 00, L, i, context (GPC Amd D §4.1.5)."""
    before = bytes(11) + bytes((constant, 0)) + bits.to_bytes(2, "big")
    return counter_kdf(key, before, context, bits // 8)


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


def aes_kcv(key: bytes) -> bytes:
    """Key check value: first 3 bytes of AES(key, 16 x 01) (GPC Amd D §6.2.? / GPC 2.3 B.6)."""
    return aes_cbc_encrypt(key, bytes(16), b"\x01" * 16)[:3]


# GlobalPlatform's well-known default test key (40..4F); only for training and test stock.
GP_TEST_KEY = bytes(range(0x40, 0x50))
