"""Chip side of Basic Access Control (ICAO 9303-11 §4.3.4)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable

from personalization.padding import pad
from personalization.protocol.bac import basic_access_keys, session_from_key_material
from personalization.protocol.des import retail_mac, tdes_cbc_decrypt, tdes_cbc_encrypt
from personalization.protocol.secure_messaging import SmSession
from personalization.status_words import SW, CardError


class BacChip:
    """Chip side of BAC: GET CHALLENGE and MUTUAL AUTHENTICATE (ICAO 9303-11 §4.3.4)."""

    def __init__(self, seed: bytes, rng: Callable[[int], bytes] = os.urandom) -> None:
        self.k_enc, self.k_mac = basic_access_keys(seed)
        self.rng = rng
        self.rnd_ic: bytes | None = None

    def __repr__(self) -> str:
        return "BacChip()"

    def get_challenge(self) -> bytes:
        self.rnd_ic = self.rng(8)
        return self.rnd_ic

    def mutual_authenticate(self, data: bytes) -> tuple[bytes, SmSession]:
        """Check the terminal's cryptogram; raise CardError(6300) on any mismatch."""
        rnd_ic, self.rnd_ic = self.rnd_ic, None
        if rnd_ic is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "GET CHALLENGE first")
        if len(data) != 40:
            raise CardError(SW.WRONG_LENGTH, "MUTUAL AUTHENTICATE needs 40 bytes")
        e_ifd, m_ifd = data[:32], data[32:]
        if not hmac.compare_digest(retail_mac(self.k_mac, pad(e_ifd, 8)), m_ifd):
            raise CardError(SW.AUTHENTICATION_FAILED, "terminal MAC")
        s = tdes_cbc_decrypt(self.k_enc, e_ifd)
        rnd_ifd, echoed, k_ifd = s[:8], s[8:16], s[16:]
        if not hmac.compare_digest(echoed, rnd_ic):
            raise CardError(SW.AUTHENTICATION_FAILED, "terminal nonce")
        k_ic = self.rng(16)
        e_ic = tdes_cbc_encrypt(self.k_enc, rnd_ic + rnd_ifd + k_ic)
        answer = e_ic + retail_mac(self.k_mac, pad(e_ic, 8))
        return answer, session_from_key_material(k_ifd, k_ic, rnd_ic, rnd_ifd)
