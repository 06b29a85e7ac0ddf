"""The card transport interface (ISO/IEC 7816-4 §5.3, DESIGN §2)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

from personalization.apdu import CommandAPDU, ResponseAPDU, chain
from personalization.status_words import TransportError

MAX_GET_RESPONSE_ROUNDS = 512


class Transport(ABC):
    """A connection to one card: connect, ATR, transmit, disconnect.

    Implementations provide transmit_raw(); transmit() adds the ISO/IEC 7816-4 §5.3.4
    transport rules every station needs: 61xx → GET RESPONSE, 6Cxx → resend with Le=xx.
    """

    @abstractmethod
    def connect(self) -> None:
        """Power the card and open the connection; raises TransportError if there is no card."""

    @abstractmethod
    def disconnect(self) -> None:
        """Close the connection (and power the card down where the link allows)."""

    _atr: bytes = b""
    apdus: int = 0  # command APDUs sent, GET RESPONSE and 6Cxx resends included

    def _exchange(self, raw: bytes) -> ResponseAPDU:
        self.apdus += 1
        return ResponseAPDU.parse(self.transmit_raw(raw))

    @property
    def connected(self) -> bool:
        return bool(self._atr)

    @property
    def atr(self) -> bytes:
        """The answer to reset of the connected card."""
        if not self._atr:
            raise TransportError("not connected")
        return self._atr

    @abstractmethod
    def transmit_raw(self, apdu: bytes) -> bytes:
        """Send one encoded command APDU and return the raw response with SW1-SW2."""

    def reconnect(self) -> None:
        """Cold reset: a fresh power-on session (no secure channel, nothing selected)."""
        self.disconnect()
        self.connect()

    def transmit(self, command: CommandAPDU | bytes) -> ResponseAPDU:
        cmd = CommandAPDU.parse(command) if isinstance(command, bytes) else command
        response = self._exchange(cmd.to_bytes())
        if response.sw1 == 0x6C:
            response = self._exchange(cmd.with_le(response.sw2 or 256).to_bytes())
        data = response.data
        rounds = 0
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE_ROUNDS:
                raise TransportError("card keeps answering 61xx")
            get = CommandAPDU(cmd.cla & 0x80, 0xC0, 0, 0, le=response.sw2 or 256)
            response = self._exchange(get.to_bytes())
            data += response.data
        return ResponseAPDU(data, response.sw)

    def transmit_chained(self, command: CommandAPDU, max_data: int = 255) -> ResponseAPDU:
        """Send a long command as a chain (ISO/IEC 7816-4 §5.3.3); stops at the first error."""
        parts = chain(command, max_data)
        for part in parts[:-1]:
            response = self.transmit(part)
            if not response.ok:
                return response
        return self.transmit(parts[-1])

    def __enter__(self) -> Transport:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()
