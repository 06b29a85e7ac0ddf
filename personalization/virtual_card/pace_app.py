"""Chip side of PACE, generic mapping on ECDH, AES-128 (ICAO 9303-11 §4.4.3, §4.4.4.2)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from personalization.protocol import pace
from personalization.protocol.aes_sm import KDF_MAC, AesSmSession, icao_kdf, session_from_secret
from personalization.protocol.ec_params import DomainParameters, Point, shared_x
from personalization.status_words import SW, CardError


@dataclass
class PaceChip:
    """One PACE run after MSE:Set AT: the four GENERAL AUTHENTICATE steps, in order."""

    params: DomainParameters
    password_key: bytes
    rng: Callable[[int], bytes]
    step: int = 1
    nonce: bytes = b""
    map_ifd: bytes = b""
    g_hat: Point = None
    pk_ifd: bytes = b""
    pk_ic: bytes = b""
    secret: bytes = b""
    session: AesSmSession | None = None

    def __repr__(self) -> str:
        return f"PaceChip(step={self.step}, {self.params.name})"

    def authenticate(self, data: bytes) -> bytes:
        """Answer the next step; ValueError for malformed data, CardError(6300) for a bad token."""
        handler = (self._nonce, self._map, self._agree, self._confirm)[self.step - 1]
        answer = handler(data)
        self.step += 1
        return answer

    def _nonce(self, data: bytes) -> bytes:
        if data != pace.dynamic_data(0, b""):
            raise ValueError("step 1 takes an empty 7C template")
        self.nonce = self.rng(pace.NONCE_LEN)
        return pace.dynamic_data(0x80, pace.encrypt_nonce(self.password_key, self.nonce))

    def _map(self, data: bytes) -> bytes:
        self.map_ifd = pace.read_dynamic(data, 0x81)
        peer = self.params.decode_point(self.map_ifd)
        sk_map = self.params.random_scalar(self.rng)
        self.g_hat = pace.map_generator(self.params, self.nonce, peer * sk_map)
        return pace.dynamic_data(0x82, self.params.encode_point(self.params.generator * sk_map))

    def _agree(self, data: bytes) -> bytes:
        self.pk_ifd = pace.read_dynamic(data, 0x83)
        if hmac.compare_digest(self.pk_ifd, self.map_ifd):
            raise ValueError("ephemeral key repeats the mapping key")
        peer = self.params.decode_point(self.pk_ifd)
        sk = self.params.random_scalar(self.rng)
        self.pk_ic = self.params.encode_point(self.g_hat * sk)
        self.secret = shared_x(sk, peer, self.params)
        return pace.dynamic_data(0x84, self.pk_ic)

    def _confirm(self, data: bytes) -> bytes:
        ks_mac = icao_kdf(self.secret, KDF_MAC)
        if not hmac.compare_digest(pace.read_dynamic(data, 0x85), pace.token(ks_mac, self.pk_ic)):
            raise CardError(SW.AUTHENTICATION_FAILED, "PACE terminal token")
        self.session = session_from_secret(self.secret)
        return pace.dynamic_data(0x86, pace.token(ks_mac, self.pk_ifd))
