"""Where the station's cards come from: a PC/SC reader, or a blank-stock folder of virtual cards."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal, Protocol

from personalization.status_words import TransportError
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard

USED = "personalized"
SPOILED = "spoiled"
Outcome = Literal["personalized", "spoiled", "unused"]
IDLE = 0.5  # seconds an empty stock or reader is polled


class CardFeeder(Protocol):
    """Hands the station one card at a time and takes it back when done."""

    def next_card(self, timeout: float | None) -> Transport | None:
        """A connected transport with a fresh card, or None when none came in time."""
        ...

    def release(self, transport: Transport, outcome: Outcome) -> None:
        """The station is done with this card: personalized and locked, spoiled, or not touched."""
        ...


class ReaderFeeder:
    """A PC/SC reader: the operator inserts a card, the station takes it, then waits for removal."""

    def __init__(self, reader: str, removal_timeout: float | None = None) -> None:
        self.transport = PcscTransport(reader)
        self.removal_timeout = removal_timeout

    def __repr__(self) -> str:
        return f"ReaderFeeder({self.transport.reader_name!r})"

    def next_card(self, timeout: float | None) -> Transport | None:
        try:
            self.transport.wait_for_card(timeout)
        except TransportError:
            return None
        self.transport.connect()
        return self.transport

    def release(self, transport: Transport, outcome: Outcome) -> None:
        transport.disconnect()
        if outcome != "unused":
            self.transport.wait_for_removal(self.removal_timeout)


class StockFeeder:
    """Virtual cards from a blank-stock folder (`issuance card-sim new-stock`), used in-process.

    A card taken is moved to personalized/ or spoiled/ at once, so it is never offered twice.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        for sub in (USED, SPOILED):
            (self.folder / sub).mkdir(exist_ok=True)

    def __repr__(self) -> str:
        return f"StockFeeder({self.folder})"

    def remaining(self) -> int:
        return len(list(self.folder.glob("card-*.json")))

    def next_card(self, timeout: float | None) -> Transport | None:
        blanks = sorted(self.folder.glob("card-*.json"))
        if not blanks:
            # An empty stock is like an empty reader: wait (briefly) for someone to refill it.
            time.sleep(min(timeout if timeout is not None else IDLE, IDLE))
            return None
        taken = self.folder / SPOILED / blanks[0].name
        # Until it is known good, a card taken from the stock counts as spoiled.
        os.replace(blanks[0], taken)
        transport = InProcessTransport(VirtualCard.load(taken))
        transport.connect()
        return transport

    def release(self, transport: Transport, outcome: Outcome) -> None:
        if not isinstance(transport, InProcessTransport) or not isinstance(transport.card, VirtualCard):
            raise TypeError("not a card from this stock")
        path = transport.card.path
        transport.disconnect()
        if path is not None and outcome == "personalized":
            os.replace(path, self.folder / USED / path.name)
        elif path is not None and outcome == "unused":
            os.replace(path, self.folder / path.name)
