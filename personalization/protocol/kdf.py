"""Key derivation: NIST SP 800-108 counter-mode KDF with AES-CMAC, as GPC Amd D §4.1.5 uses it."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from issuance.keystore.kdf import (  # noqa: F401  (re-exported for the chip layer)
    DIVERSIFY_DEK,
    DIVERSIFY_ENC,
    DIVERSIFY_MAC,
    StaticKeys,
    aes_cmac,
    counter_kdf,
    diversify,
    diversify_keys,
)

# Derivation constants (GPC 2.3 Amendment D §4.1.5 table 4-1).
CARD_CRYPTOGRAM = 0x00
HOST_CRYPTOGRAM = 0x01
CARD_CHALLENGE = 0x02
S_ENC = 0x04
S_MAC = 0x06
S_RMAC = 0x07


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def scp03_kdf(key: bytes, constant: int, context: bytes, bits: int) -> bytes:
    """SCP03 data derivation: label 11x00||constant, 00, L, i, context (GPC Amd D §4.1.5)."""
    before = bytes(11) + bytes((constant, 0)) + bits.to_bytes(2, "big")
    return counter_kdf(key, before, context, bits // 8)


def aes_kcv(key: bytes) -> bytes:
    """Key check value: first 3 bytes of AES(key, 16 x 01) (GPC Amd D §6.2.? / GPC 2.3 B.6)."""
    return aes_cbc_encrypt(key, bytes(16), b"\x01" * 16)[:3]


# GlobalPlatform's well-known default test key (40..4F); only for training and test stock.
GP_TEST_KEY = bytes(range(0x40, 0x50))
