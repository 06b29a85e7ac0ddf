"""PC/SC transport over pyscard and pcscd (PC/SC Part 5 §3, DESIGN §2 and §9)."""

from __future__ import annotations

import contextlib
import threading
import time

from smartcard.CardConnection import CardConnection
from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.CardRequest import CardRequest
from smartcard.Exceptions import (
    CardConnectionException,
    CardRequestTimeoutException,
    NoCardException,
)
from smartcard.pcsc.PCSCReader import PCSCReader
from smartcard.System import readers as pcsc_readers

from personalization.status_words import CardRemovedError, TransportError
from personalization.transport import Transport


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


class _RemovalObserver(CardObserver):
    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.present = threading.Event()
        self.removed = threading.Event()

    def update(self, observable: object, handlers: tuple[list[object], list[object]]) -> None:
        added, removed = handlers
        if any(getattr(c, "reader", None) == self.reader for c in added):
            self.present.set()
            self.removed.clear()
        if any(getattr(c, "reader", None) == self.reader for c in removed):
            self.removed.set()
            self.present.clear()


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

    def wait_for_card(self, timeout: float | None = None) -> bytes:
        """Block until a card is in the reader (pyscard CardRequest); returns its ATR."""
        reader = self._resolve()
        request = CardRequest(readers=[reader], timeout=timeout)
        try:
            service = request.waitforcard()
        except CardRequestTimeoutException as exc:
            raise TransportError(f"no card in {reader} after {timeout}s") from exc
        connection = service.connection
        try:
            connection.connect()
            return bytes(connection.getATR())
        finally:
            connection.disconnect()

    def wait_for_removal(self, timeout: float | None = None) -> None:
        """Block until the card leaves the reader (pyscard CardMonitor)."""
        name = str(self._resolve())
        observer = _RemovalObserver(name)
        monitor = CardMonitor()
        monitor.addObserver(observer)
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not observer.removed.wait(0.05):
                if not self._card_present(name):
                    return
                if deadline is not None and time.monotonic() > deadline:
                    raise TransportError(f"card still in {name} after {timeout}s")
        finally:
            monitor.deleteObserver(observer)

    def _card_present(self, name: str) -> bool:
        conn = _find_reader(name).createConnection()
        try:
            conn.connect()
        except (NoCardException, CardConnectionException):
            return False
        try:
            return bool(conn.getATR())
        finally:
            conn.disconnect()

    def connect(self) -> None:
        reader = self._resolve()
        connection = reader.createConnection()
        try:
            connection.connect()
        except (NoCardException, CardConnectionException) as exc:
            raise TransportError(f"no card in {reader}: {exc}") from exc
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

    def reconnect(self) -> None:
        """Cold reset through pcscd (SCardReconnect with SCARD_UNPOWER_CARD)."""
        self.disconnect()
        self.connect()

    @property
    def atr(self) -> bytes:
        if not self._atr:
            raise TransportError("not connected")
        return self._atr

    def transmit_raw(self, apdu: bytes) -> bytes:
        if self._connection is None:
            raise TransportError("not connected")
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except CardConnectionException as exc:
            self._atr = b""
            raise CardRemovedError(f"card lost in {self.reader_name}: {exc}") from exc
        return bytes(data) + bytes((sw1, sw2))
