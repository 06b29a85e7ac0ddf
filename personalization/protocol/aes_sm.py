"""AES secure messaging and the ICAO key derivation after PACE or chip authentication.

ICAO 9303-11 §9.7.1 (KDF) and §9.8.7 (AES: 16-byte SSC, IV = E(KSenc, SSC), AES-CMAC cut to 8).
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from personalization.padding import pad, unpad
from personalization.protocol.kdf import aes_cbc_decrypt, aes_cbc_encrypt, aes_cmac
from personalization.protocol.secure_messaging import MAC_LEN, SmSession

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3


def icao_kdf(secret: bytes, counter: int, key_bytes: int = 16) -> bytes:
    """KDF(K, c): SHA-1 for 3DES and AES-128, SHA-256 for longer AES keys (ICAO 9303-11 §9.7.1)."""
    data = secret + counter.to_bytes(4, "big")
    digest = hashlib.sha1(data).digest() if key_bytes <= 16 else hashlib.sha256(data).digest()
    return digest[:key_bytes]


def aes_ecb_block(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_ecb_block_decrypt(key: bytes, block: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return dec.update(block) + dec.finalize()


class AesSmSession(SmSession):
    """ICAO secure messaging with AES-CBC and AES-CMAC (ICAO 9303-11 §9.8.7.2)."""

    block = 16

    def __repr__(self) -> str:
        return f"AesSmSession(AES-{len(self.ks_enc) * 8})"

    def _mac(self, data: bytes) -> bytes:
        return aes_cmac(self.ks_mac, pad(self.ssc_bytes + data, 16))[:MAC_LEN]

    def _iv(self) -> bytes:
        return aes_ecb_block(self.ks_enc, self.ssc_bytes)

    def _encrypt(self, data: bytes) -> bytes:
        return aes_cbc_encrypt(self.ks_enc, self._iv(), pad(data, 16))

    def _decrypt(self, body: bytes) -> bytes:
        if not body or len(body) % 16:
            raise ValueError("AES cryptogram is not whole blocks")
        return unpad(aes_cbc_decrypt(self.ks_enc, self._iv(), body))


def session_from_secret(shared_secret: bytes) -> AesSmSession:
    """KSenc = KDF(K,1), KSmac = KDF(K,2), SSC = 0 (ICAO 9303-11 §4.4.3.4, §6.2.4.3)."""
    return AesSmSession(icao_kdf(shared_secret, KDF_ENC), icao_kdf(shared_secret, KDF_MAC),
                        bytes(16))
