"""GlobalPlatform Secure Channel Protocol '03' for host and card (GPC 2.3 Amendment D §6)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.channel import ApduSender
from personalization.padding import PaddingError, pad, unpad
from personalization.protocol.kdf import (
    CARD_CRYPTOGRAM,
    HOST_CRYPTOGRAM,
    S_ENC,
    S_MAC,
    S_RMAC,
    StaticKeys,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_cmac,
    aes_kcv,
    scp03_kdf,
)
from personalization.status_words import SW, CardError, is_success

# Security levels (GPC 2.3 Amendment D §5.1, table 5-1 / EXTERNAL AUTHENTICATE P1).
C_MAC = 0x01
C_DECRYPTION = 0x02
R_MAC = 0x10
R_ENCRYPTION = 0x20
LEVEL_FULL = C_MAC | C_DECRYPTION | R_MAC | R_ENCRYPTION
VALID_LEVELS = (0x00, 0x01, 0x03, 0x11, 0x13, 0x33)

INS_INITIALIZE_UPDATE = 0x50
INS_EXTERNAL_AUTHENTICATE = 0x82
CLA_GP = 0x80
CLA_SECURE_MESSAGING = 0x04
I_PARAMETER = 0x70  # pseudo-random card challenge, R-MAC and R-ENC supported

MAC_LEN = 8


def _lc_field(n: int, extended: bool) -> bytes:
    return (b"\x00" + n.to_bytes(2, "big")) if extended else bytes((n,))


class Scp03Session:
    """Session keys, MAC chaining value and encryption counter (GPC Amd D §6.2.1-6.2.7)."""

    def __init__(self, keys: StaticKeys, host_challenge: bytes, card_challenge: bytes) -> None:
        context = host_challenge + card_challenge
        bits = len(keys.enc) * 8
        self.context = context
        self.s_enc = scp03_kdf(keys.enc, S_ENC, context, bits)
        self.s_mac = scp03_kdf(keys.mac, S_MAC, context, bits)
        self.s_rmac = scp03_kdf(keys.mac, S_RMAC, context, bits)
        self.dek = keys.dek
        self.mcv = bytes(16)
        self.counter = 0
        self.level = 0

    def __repr__(self) -> str:
        return f"Scp03Session(level={self.level:#04x}, counter={self.counter})"

    def card_cryptogram(self) -> bytes:
        """GPC Amd D §6.2.2.2."""
        return scp03_kdf(self.s_mac, CARD_CRYPTOGRAM, self.context, 64)

    def host_cryptogram(self) -> bytes:
        """GPC Amd D §6.2.2.3."""
        return scp03_kdf(self.s_mac, HOST_CRYPTOGRAM, self.context, 64)

    def c_mac(self, mac_input: bytes) -> bytes:
        """Chain and return the 8-byte C-MAC (GPC Amd D §6.2.4)."""
        self.mcv = aes_cmac(self.s_mac, self.mcv + mac_input)
        return self.mcv[:MAC_LEN]

    def r_mac(self, data_and_sw: bytes) -> bytes:
        """R-MAC over the chaining value of the command (GPC Amd D §6.2.5)."""
        return aes_cmac(self.s_rmac, self.mcv + data_and_sw)[:MAC_LEN]

    def _icv(self, response: bool) -> bytes:
        block = bytearray(self.counter.to_bytes(16, "big"))
        if response:
            block[0] = 0x80  # GPC Amd D §6.2.7
        return aes_cbc_encrypt(self.s_enc, bytes(16), bytes(block))

    def encrypt_command(self, data: bytes) -> bytes:
        """C-DECRYPTION on the host side; the caller has already advanced the counter (§6.2.6)."""
        return aes_cbc_encrypt(self.s_enc, self._icv(False), pad(data, 16))

    def decrypt_command(self, data: bytes) -> bytes:
        if len(data) % 16:
            raise PaddingError("encrypted data is not whole blocks")
        return unpad(aes_cbc_decrypt(self.s_enc, self._icv(False), data))

    def encrypt_response(self, data: bytes) -> bytes:
        """R-ENCRYPTION (GPC Amd D §6.2.7)."""
        return aes_cbc_encrypt(self.s_enc, self._icv(True), pad(data, 16))

    def decrypt_response(self, data: bytes) -> bytes:
        if len(data) % 16:
            raise PaddingError("encrypted data is not whole blocks")
        return unpad(aes_cbc_decrypt(self.s_enc, self._icv(True), data))

    def mac_input(self, command: CommandAPDU, body: bytes) -> bytes:
        """Header with the GP SM class, modified Lc, and data (GPC Amd D §6.2.4)."""
        cla = (command.cla & 0xF0) | CLA_SECURE_MESSAGING
        lc = _lc_field(len(body) + MAC_LEN, command.is_extended or len(body) + MAC_LEN > 255)
        return bytes((cla, command.ins, command.p1, command.p2)) + lc + body

    # --- host side -------------------------------------------------------------------
    def wrap(self, command: CommandAPDU) -> CommandAPDU:
        """Protect a command at the session's security level (GPC Amd D §6.2.4, §6.2.6)."""
        body = command.data
        if self.level & C_DECRYPTION:
            self.counter += 1
            if body:
                body = self.encrypt_command(body)
        mac = self.c_mac(self.mac_input(command, body))
        # Le stays as asked: the card may add the R-MAC and R-ENC padding beyond it.
        le = command.le
        extended = command.is_extended or len(body) + MAC_LEN > 255
        cla = (command.cla & 0xF0) | CLA_SECURE_MESSAGING
        return CommandAPDU(cla, command.ins, command.p1, command.p2, body + mac, le, extended)

    def unwrap(self, response: ResponseAPDU) -> ResponseAPDU:
        """Check R-MAC and decrypt (GPC Amd D §6.2.5, §6.2.7); raises CardError(6988)."""
        if not self.level & R_MAC or not is_success(response.sw):
            return response
        if len(response.data) < MAC_LEN:
            raise CardError(SW.SM_DATA_OBJECTS_MISSING, "R-MAC missing")
        data, mac = response.data[:-MAC_LEN], response.data[-MAC_LEN:]
        if not hmac.compare_digest(mac, self.r_mac(data + response.sw.to_bytes(2, "big"))):
            raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, "R-MAC does not verify")
        if self.level & R_ENCRYPTION and data:
            data = self.decrypt_response(data)
        return ResponseAPDU(data, response.sw)

    # --- card side -------------------------------------------------------------------
    def verify_command(self, command: CommandAPDU) -> CommandAPDU:
        """Check C-MAC, decrypt, and return the plain command; raises CardError(6982)."""
        if not command.cla & CLA_SECURE_MESSAGING or len(command.data) < MAC_LEN:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "command without C-MAC")
        body, mac = command.data[:-MAC_LEN], command.data[-MAC_LEN:]
        saved = self.mcv
        if not hmac.compare_digest(mac, self.c_mac(self.mac_input(command, body))):
            self.mcv = saved
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "C-MAC does not verify")
        if self.level & C_DECRYPTION:
            self.counter += 1
            if body:
                try:
                    body = self.decrypt_command(body)
                except PaddingError as exc:
                    raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, str(exc)) from exc
        return replace(
            command, cla=command.cla & ~CLA_SECURE_MESSAGING & 0xFC, data=body, extended=False
        )

    def protect_response(self, response: ResponseAPDU) -> ResponseAPDU:
        """Add R-ENC and R-MAC to a success response (GPC Amd D §6.2.5, §6.2.7)."""
        if not self.level & R_MAC:
            return response
        if not is_success(response.sw):
            return ResponseAPDU(b"", response.sw)
        data = response.data
        if self.level & R_ENCRYPTION and data:
            data = self.encrypt_response(data)
        return ResponseAPDU(data + self.r_mac(data + response.sw.to_bytes(2, "big")), response.sw)

    def encrypt_key(self, key: bytes) -> bytes:
        """Key component under the static DEK, AES-CBC zero ICV (GPC 2.3 §11.8.2.3, Amd D §7)."""
        return aes_cbc_encrypt(self.dek, bytes(16), pad(key, 16) if len(key) % 16 else key)

    def decrypt_key(self, blob: bytes, length: int) -> bytes:
        return aes_cbc_decrypt(self.dek, bytes(16), blob)[:length]


@dataclass(frozen=True)
class InitializeUpdateResponse:
    """Fields of the INITIALIZE UPDATE answer (GPC Amd D §7.1.1.6 table 7-3)."""

    kdd: bytes
    kvn: int
    scp: int
    i_param: int
    card_challenge: bytes
    card_cryptogram: bytes
    sequence_counter: bytes

    @classmethod
    def parse(cls, data: bytes) -> InitializeUpdateResponse:
        if len(data) not in (29, 32):
            raise CardError(SW.WRONG_LENGTH, "INITIALIZE UPDATE answer has a wrong length")
        return cls(data[:10], data[10], data[11], data[12], data[13:21], data[21:29], data[29:])

    def to_bytes(self) -> bytes:
        return (
            self.kdd
            + bytes((self.kvn, self.scp, self.i_param))
            + self.card_challenge
            + self.card_cryptogram
            + self.sequence_counter
        )


class Scp03Channel:
    """Host side of an SCP03 session over any APDU sender (GPC Amd D §7.1-7.2)."""

    def __init__(
        self,
        sender: ApduSender,
        keys: StaticKeys | Callable[[bytes], StaticKeys],
        level: int = LEVEL_FULL,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if level not in VALID_LEVELS:
            raise ValueError(f"unsupported security level {level:#04x}")
        self.sender = sender
        self._keys = keys
        self.level = level
        self.rng = rng
        self.session: Scp03Session | None = None
        self.info: InitializeUpdateResponse | None = None

    def open(self, kvn: int = 0) -> InitializeUpdateResponse:
        """INITIALIZE UPDATE then EXTERNAL AUTHENTICATE; keys may be a function of the KDD."""
        host_challenge = self.rng(8)
        answer = self.sender.transmit(
            CommandAPDU(CLA_GP, INS_INITIALIZE_UPDATE, kvn, 0, host_challenge, 256)
        )
        info = InitializeUpdateResponse.parse(answer.check("INITIALIZE UPDATE"))
        keys = self._keys(info.kdd) if callable(self._keys) else self._keys
        session = Scp03Session(keys, host_challenge, info.card_challenge)
        if not hmac.compare_digest(session.card_cryptogram(), info.card_cryptogram):
            raise CardError(SW.AUTHENTICATION_FAILED, "card cryptogram does not verify (wrong keys)")
        session.level = C_MAC
        auth = session.wrap(
            CommandAPDU(CLA_GP, INS_EXTERNAL_AUTHENTICATE, self.level, 0, session.host_cryptogram())
        )
        self.sender.transmit(auth).check("EXTERNAL AUTHENTICATE")
        session.level = self.level
        self.session = session
        self.info = info
        return info

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        if self.session is None:
            raise RuntimeError("secure channel not open")
        response = self.sender.transmit(self.session.wrap(command))
        return self.session.unwrap(response)

    def encrypt_key(self, key: bytes) -> bytes:
        if self.session is None:
            raise RuntimeError("secure channel not open")
        return self.session.encrypt_key(key)


def put_key_data(session: Scp03Session, new: StaticKeys) -> bytes:
    """PUT KEY data field for three AES keys (GPC 2.3 §11.8.2.3, Amd D §7.2 key type 88)."""
    out = bytearray((new.kvn,))
    for key in (new.enc, new.mac, new.dek):
        block = bytes((len(key),)) + session.encrypt_key(key)
        out += bytes((0x88, len(block))) + block + b"\x03" + aes_kcv(key)
    return bytes(out)
