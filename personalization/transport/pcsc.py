"""PC/SC transport over pyscard and pcscd (PC/SC Part 5 §3, DESIGN §2 and §9)."""

from __future__ import annotations

import contextlib
import queue
import time
from dataclasses import dataclass
from typing import Any

from smartcard import scard
from smartcard.CardConnection import CardConnection
from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.pcsc.PCSCReader import PCSCReader
from smartcard.System import readers as pcsc_readers

from personalization.status_words import CardRemovedError, TransportError
from personalization.transport.base import Transport

POWER_UP_ATTEMPTS = 4


def list_readers() -> list[str]:
    """Names of the PC/SC readers pcscd reports, e.g. 'Virtual PCD 00 00'."""
    try:
        return [str(r) for r in pcsc_readers()]
    except Exception as exc:  # pyscard raises several unrelated types when pcscd is down
        raise TransportError(f"cannot list PC/SC readers: {exc}") from exc


def _find_reader(reader: str | int) -> PCSCReader:
    found = pcsc_readers()
    if isinstance(reader, int):
        if not 0 <= reader < len(found):
            raise TransportError(f"no reader number {reader} (have {len(found)})")
        return found[reader]
    for r in found:
        if str(r) == reader:
            return r
    for r in found:
        if reader in str(r):
            return r
    raise TransportError(f"no reader named {reader!r}; have {[str(r) for r in found]}")


@dataclass(frozen=True)
class CardEvent:
    """A card went into (atr set) or out of (atr None) a reader."""

    reader: str
    atr: bytes | None

    @property
    def inserted(self) -> bool:
        return self.atr is not None


class CardEvents(CardObserver):
    """Insertions and removals on one reader, fed by pyscard's CardMonitor thread."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.events: queue.Queue[CardEvent] = queue.Queue()
        self._monitor: CardMonitor | None = None

    def __enter__(self) -> CardEvents:
        self._monitor = CardMonitor()
        # The monitor first reports the cards already present as insertions.
        self._monitor.addObserver(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._monitor is not None:
            self._monitor.deleteObserver(self)
            self._monitor = None

    def update(self, observable: Any, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        for card in removed:
            if str(card.reader) == self.reader:
                self.events.put(CardEvent(self.reader, None))
        for card in added:
            if str(card.reader) == self.reader:
                self.events.put(CardEvent(self.reader, bytes(card.atr)))

    def next(self, timeout: float | None = None) -> CardEvent:
        """The next event; raises TransportError when none comes in time."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise TransportError(f"no card event on {self.reader} after {timeout}s") from None


class PcscTransport(Transport):
    """One reader through pcscd; pick it by name (or a part of it) or by index."""

    def __init__(self, reader: str | int = 0) -> None:
        self.reader_spec = reader
        self._reader: PCSCReader | None = None
        self._connection: CardConnection | None = None
        self._atr = b""

    def __repr__(self) -> str:
        return f"PcscTransport({self.reader_name!r})"

    @property
    def reader_name(self) -> str:
        return str(self._reader) if self._reader is not None else str(self.reader_spec)

    def _resolve(self) -> PCSCReader:
        if self._reader is None:
            self._reader = _find_reader(self.reader_spec)
        return self._reader

    def _wait_state(self, want_present: bool, timeout: float | None) -> None:
        """Block on SCardGetStatusChange until pcscd reports the slot full or empty."""
        name = str(self._resolve())
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise TransportError(f"pcscd unreachable: {scard.SCardGetErrorMessage(hresult)}")
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            known = scard.SCARD_STATE_UNAWARE
            while True:
                left = 1000 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
                hresult, states = scard.SCardGetStatusChange(context, left, [(name, known)])
                if hresult == scard.SCARD_S_SUCCESS:
                    event = states[0][1]
                    present = bool(event & scard.SCARD_STATE_PRESENT)
                    if present == want_present and not event & scard.SCARD_STATE_MUTE:
                        return
                    known = event & ~scard.SCARD_STATE_CHANGED
                elif hresult != scard.SCARD_E_TIMEOUT:
                    raise TransportError(scard.SCardGetErrorMessage(hresult))
                if deadline is not None and time.monotonic() >= deadline:
                    what = "no card in" if want_present else "card still in"
                    raise TransportError(f"{what} {name} after {timeout}s")
        finally:
            scard.SCardReleaseContext(context)

    def wait_for_card(self, timeout: float | None = None) -> None:
        """Block until pcscd sees a card in the reader (then call connect())."""
        self._wait_state(True, timeout)

    def wait_for_removal(self, timeout: float | None = None) -> None:
        """Block until pcscd sees the reader empty."""
        self._wait_state(False, timeout)

    def card_present(self) -> bool:
        try:
            self._wait_state(True, 0)
        except TransportError:
            return False
        return True

    def connect(self) -> None:
        reader = self._resolve()
        connection = reader.createConnection()
        for attempt in range(POWER_UP_ATTEMPTS):
            try:
                connection.connect()
                break
            except NoCardException as exc:
                raise TransportError(f"no card in {reader}: {exc}") from exc
            except CardConnectionException as exc:
                # A card swapped faster than pcscd polls is first seen unpowered; power-up
                # succeeds once the reader has caught up. Only the power-up is retried.
                if exc.hresult != scard.SCARD_W_UNPOWERED_CARD or attempt + 1 == POWER_UP_ATTEMPTS:
                    raise TransportError(f"cannot power the card in {reader}: {exc}") from exc
                time.sleep(0.25)
        self._connection = connection
        self._atr = bytes(connection.getATR())

    def disconnect(self) -> None:
        if self._connection is not None:
            # Closing a connection whose card already left is best effort.
            with contextlib.suppress(CardConnectionException):
                self._connection.disconnect()
            with contextlib.suppress(Exception):
                self._connection.release()
        self._connection = None
        self._atr = b""

    def transmit_raw(self, apdu: bytes) -> bytes:
        if self._connection is None:
            raise TransportError("not connected")
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except CardConnectionException as exc:
            self._atr = b""
            raise CardRemovedError(f"card lost in {self.reader_name}: {exc}") from exc
        return bytes(data) + bytes((sw1, sw2))
