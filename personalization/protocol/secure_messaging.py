"""ICAO secure messaging with 3DES session keys after BAC (ICAO 9303-11 §9.8)."""

from __future__ import annotations

import hmac
from dataclasses import replace

from personalization import tlv
from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.channel import ApduSender
from personalization.padding import PaddingError, pad, unpad
from personalization.protocol.des import retail_mac, tdes_cbc_decrypt, tdes_cbc_encrypt
from personalization.status_words import SW, CardError

CLA_SM = 0x0C
TAG_CRYPTOGRAM = 0x87
TAG_CRYPTOGRAM_ODD = 0x85
TAG_LE = 0x97
TAG_SW = 0x99
TAG_MAC = 0x8E
MAC_LEN = 8


def _le_value(le: int) -> bytes:
    if le <= 256:
        return bytes((le & 0xFF,))
    return (le & 0xFFFF).to_bytes(2, "big")


class SmSession:
    """Session keys KSenc, KSmac and the send sequence counter (ICAO 9303-11 §9.8.2-9.8.6).

    This class is the 3DES cipher suite of BAC; subclasses swap the block cipher and MAC
    (the AES suite after PACE or chip authentication, ICAO 9303-11 §9.8.7).
    """

    block = 8

    def __init__(self, ks_enc: bytes, ks_mac: bytes, ssc: bytes) -> None:
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.ssc = int.from_bytes(ssc, "big")
        self.ssc_len = len(ssc)

    def __repr__(self) -> str:
        return "SmSession(3DES)"

    @property
    def ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.ssc_len, "big")

    def _step(self) -> None:
        """Every command and every response first increments the SSC (ICAO 9303-11 §9.8.3)."""
        self.ssc = (self.ssc + 1) % (1 << (8 * self.ssc_len))

    def _mac(self, data: bytes) -> bytes:
        return retail_mac(self.ks_mac, pad(self.ssc_bytes + data, 8))

    def _encrypt(self, data: bytes) -> bytes:
        return tdes_cbc_encrypt(self.ks_enc, pad(data, 8))

    def _decrypt(self, body: bytes) -> bytes:
        return unpad(tdes_cbc_decrypt(self.ks_enc, body))

    def _cryptogram_do(self, data: bytes, odd: bool) -> bytes:
        body = self._encrypt(data)
        if odd:
            return tlv.encode(TAG_CRYPTOGRAM_ODD, body)
        return tlv.encode(TAG_CRYPTOGRAM, b"\x01" + body)

    def plain_capacity(self, limit: int, odd: bool = False) -> int:
        """Most plain bytes whose protected response fits in `limit` bytes (ICAO 9303-11 §9.8.6).

        Short Le=00 allows 256 bytes of protected response: DO87/85, DO99 and DO8E must fit.
        """
        fixed = 4 + 2 + MAC_LEN  # DO99 and DO8E
        n = max(0, limit - fixed)
        while n > 0:
            body = (n // self.block + 1) * self.block + (0 if odd else 1)
            if 1 + len(tlv.encode_length(body)) + body + fixed <= limit:
                return n
            n -= 1
        return 0

    # --- terminal side (ICAO 9303-11 §9.8.6.1) ----------------------------------------
    def protect_command(self, command: CommandAPDU) -> CommandAPDU:
        self._step()
        header = bytes((CLA_SM, command.ins, command.p1, command.p2))
        dos = b""
        if command.data:
            dos += self._cryptogram_do(command.data, bool(command.ins & 1))
        if command.le is not None:
            dos += tlv.encode(TAG_LE, _le_value(command.le))
        mac = self._mac(pad(header, self.block) + dos)
        data = dos + tlv.encode(TAG_MAC, mac)
        extended = command.is_extended or len(data) > 255
        return CommandAPDU(CLA_SM, command.ins, command.p1, command.p2, data,
                           65536 if extended else 256, extended)

    def unprotect_response(self, response: ResponseAPDU) -> ResponseAPDU:
        if not response.data:
            # A plain status word means the chip dropped secure messaging.
            raise CardError(response.sw, "secure messaging aborted by the chip")
        self._step()
        objects = {item.tag: item.value for item in tlv.iterate(response.data)}
        if TAG_MAC not in objects or TAG_SW not in objects:
            raise CardError(SW.SM_DATA_OBJECTS_MISSING, "response lacks DO8E or DO99")
        covered = response.data[: response.data.rindex(tlv.encode(TAG_MAC, objects[TAG_MAC]))]
        if not hmac.compare_digest(self._mac(covered), objects[TAG_MAC]):
            raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, "response MAC does not verify")
        data = b""
        if TAG_CRYPTOGRAM in objects:
            data = self._decrypt(objects[TAG_CRYPTOGRAM][1:])
        elif TAG_CRYPTOGRAM_ODD in objects:
            data = self._decrypt(objects[TAG_CRYPTOGRAM_ODD])
        return ResponseAPDU(data, int.from_bytes(objects[TAG_SW], "big"))

    # --- chip side (ICAO 9303-11 §9.8.6.2) -------------------------------------------
    def unprotect_command(self, command: CommandAPDU) -> CommandAPDU:
        """Verify and decrypt; raises CardError 6987/6988 (the caller then ends the session)."""
        if command.cla & 0x0C != CLA_SM:
            raise CardError(SW.SM_DATA_OBJECTS_MISSING, "plain command inside a BAC session")
        self._step()
        try:
            objects = tlv.decode(command.data)
        except tlv.TlvError as exc:
            raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, str(exc)) from exc
        if not objects or objects[-1].tag != TAG_MAC:
            raise CardError(SW.SM_DATA_OBJECTS_MISSING, "command lacks DO8E")
        covered = b"".join(o.to_bytes() for o in objects[:-1])
        header = bytes((command.cla, command.ins, command.p1, command.p2))
        if not hmac.compare_digest(self._mac(pad(header, self.block) + covered),
                                   objects[-1].value):
            raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, "command MAC does not verify")
        data = b""
        le: int | None = None
        try:
            for item in objects[:-1]:
                if item.tag == TAG_CRYPTOGRAM:
                    data = self._decrypt(item.value[1:])
                elif item.tag == TAG_CRYPTOGRAM_ODD:
                    data = self._decrypt(item.value)
                elif item.tag == TAG_LE:
                    le = int.from_bytes(item.value, "big") or (256 if len(item.value) == 1
                                                               else 65536)
                else:
                    raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, f"unexpected DO{item.tag:02X}")
        except (PaddingError, ValueError) as exc:
            raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, str(exc)) from exc
        return replace(command, cla=command.cla & ~0x0C & 0xFF, data=data, le=le, extended=False)

    def protect_response(self, response: ResponseAPDU, odd_ins: bool = False) -> ResponseAPDU:
        self._step()
        dos = b""
        if response.data:
            dos += self._cryptogram_do(response.data, odd_ins)
        dos += tlv.encode(TAG_SW, response.sw.to_bytes(2, "big"))
        return ResponseAPDU(dos + tlv.encode(TAG_MAC, self._mac(dos)), response.sw)


class SecureMessagingChannel:
    """Terminal-side channel that protects every command with an SmSession."""

    def __init__(self, sender: ApduSender, session: SmSession) -> None:
        self.sender = sender
        self.session = session

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        response = self.sender.transmit(self.session.protect_command(command))
        return self.session.unprotect_response(response)
