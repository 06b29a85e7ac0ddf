"""The in-process transport: a card object in this process, the embedded default (DESIGN §2)."""

from __future__ import annotations

from typing import Protocol

from personalization.status_words import CardRemovedError, TransportError
from personalization.transport.base import Transport


class InProcessCard(Protocol):
    """What the in-process transport needs of a card: contacts and one APDU at a time.

    process() raises CardRemovedError (or a subclass) when the card loses power mid-command.
    """

    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...

    def process(self, apdu: bytes) -> bytes: ...


class InProcessTransport(Transport):
    """Straight into a card object in this process, e.g. the virtual card."""

    def __init__(self, card: InProcessCard) -> None:
        self.card = card
        self._atr = b""

    def __repr__(self) -> str:
        return f"InProcessTransport({self.card!r})"

    def connect(self) -> None:
        self._atr = self.card.power_on()

    def disconnect(self) -> None:
        self.card.power_off()
        self._atr = b""

    def transmit_raw(self, apdu: bytes) -> bytes:
        if not self._atr:
            raise TransportError("not connected")
        try:
            return self.card.process(apdu)
        except CardRemovedError:
            self._atr = b""
            raise
