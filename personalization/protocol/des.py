"""Two-key 3DES helpers for BAC: CBC with zero IV and the ISO/IEC 9797-1 retail MAC."""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

ZERO_IV = bytes(8)


def _three_keys(key: bytes) -> bytes:
    # Two-key 3DES is K1 K2 K1; spelling it out avoids the library's deprecation path.
    return key + key[:8] if len(key) == 16 else key


def tdes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV) -> bytes:
    enc = Cipher(TripleDES(_three_keys(key)), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def tdes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV) -> bytes:
    dec = Cipher(TripleDES(_three_keys(key)), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES, data already padded (ICAO 9303-11 §9.8.3)."""
    ka, kb = key[:8], key[8:16]
    # Single DES is 3DES with one key repeated; the chain runs under Ka alone.
    state = tdes_cbc_encrypt(ka + ka + ka, data[:-8])[-8:] if len(data) > 8 else ZERO_IV
    last = bytes(a ^ b for a, b in zip(state, data[-8:], strict=True))
    return tdes_cbc_encrypt(ka + kb + ka, last)


def adjust_parity(key: bytes) -> bytes:
    """Set the DES odd-parity bit of every byte (FIPS 46-3 §3)."""
    out = bytearray()
    for b in key:
        high = b & 0xFE
        out.append(high | ((bin(high).count("1") + 1) & 1))
    return bytes(out)
