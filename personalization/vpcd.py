"""The card side of the vsmartcard-vpcd socket link, so pcscd sees a reader with a card (DESIGN §9)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time

from personalization.virtual_card import CardTorn, VirtualCard

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963  # vpcd reader 0; reader 1 listens on 35964
POWER_OFF, POWER_ON, RESET, GET_ATR = 0x00, 0x01, 0x02, 0x04
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
# pcscd polls each reader every 400 ms (PCSCLITE_STATUS_POLL_RATE); an empty slot must stay
# empty across one poll, or pcscd never notices that a torn card was re-inserted.
ABSENCE = 0.5
# How long a 1-byte frame 00/01/02 waits for the frame that proves it was a control code.
# vpcd sends GET ATR right after power on and reset (IFDHPowerICC asks for the ATR) and polls
# presence with GET ATR every 400 ms; while it waits for an APDU's answer it sends nothing.
CONTROL_GRACE = {POWER_OFF: 2.0, POWER_ON: 0.5, RESET: 0.5}


class LinkClosed(Exception):
    """pcscd closed the connection or the card was removed."""


class VpcdLink:
    """One inserted card: a TCP client of vpcd answering its frames (2-byte length + payload)."""

    def __init__(self, card: VirtualCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
                 ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.sock: socket.socket | None = None
        self.torn = False
        self.closed_at: float | None = None

    def __repr__(self) -> str:
        return f"VpcdLink({self.host}:{self.port}, {self.card!r})"

    def connect(self, timeout: float = 5.0) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.settimeout(None)
        # DESIGN §9: without NODELAY and QUICKACK each APDU waits ~48 ms on delayed ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            if _QUICKACK is not None:
                # Linux clears QUICKACK after it fires; re-arm it before every read.
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise LinkClosed("vpcd closed the connection")
            buf += chunk
        return bytes(buf)

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def serve(self) -> None:
        """Answer frames until the link closes (removal, tear or pcscd gone).

        The vpcd protocol gives a 1-byte frame two meanings: a control code from the driver
        (00 power off, 01 power on, 02 reset, 04 get ATR) or a 1-byte APDU from a PC/SC client.
        The driver expects no answer to 00/01/02 but waits forever for the answer to an APDU,
        holding the reader. So 00/01/02 is applied only once another frame shows the driver
        was not waiting; if none comes within CONTROL_GRACE it was an APDU and gets 6700.
        Any other 1-byte frame is an APDU (vpcd sends no other code) and gets 6700 at once.
        What cannot be told apart: a 1-byte APDU 04 is answered with the ATR, as GET ATR is,
        and a 00/01/02 APDU is answered only after the grace period.
        """
        sock = self.sock
        if sock is None:
            raise RuntimeError("not connected")
        pending: int | None = None
        try:
            while True:
                try:
                    head = self._frame_start(sock, CONTROL_GRACE.get(pending or 0)
                                             if pending is not None else None)
                except TimeoutError:
                    log.warning("1-byte frame %02X left unanswered by the driver: an APDU",
                                pending)
                    if not self._answer(sock, bytes((pending or 0,))):
                        return
                    pending = None
                    continue
                if pending is not None:
                    log.debug("control code %02X confirmed by the next frame", pending)
                    self._control(pending)
                    pending = None
                payload = self._recv_exact(sock, int.from_bytes(head, "big"))
                if len(payload) == 1 and payload[0] in CONTROL_GRACE:
                    pending = payload[0]
                elif len(payload) == 1 and payload[0] == GET_ATR:
                    self._send(sock, self.card.atr)
                elif not self._answer(sock, payload):
                    return
        except (LinkClosed, OSError):
            return
        finally:
            self.close()

    def _frame_start(self, sock: socket.socket, timeout: float | None) -> bytes:
        """The 2-byte length of the next frame; TimeoutError if none starts in time."""
        sock.settimeout(timeout)
        try:
            first = self._recv_exact(sock, 1)
        finally:
            sock.settimeout(None)
        return first + self._recv_exact(sock, 1)

    def _answer(self, sock: socket.socket, apdu: bytes) -> bool:
        """Run one APDU and send its answer; False when the card was torn (link to drop)."""
        try:
            answer = self.card.process(apdu)
        except CardTorn:
            self.torn = True
            log.info("card torn: dropping the link")
            return False
        except Exception:
            # The card OS answers 6F00 itself; this guards the link thread all the same.
            log.exception("virtual card failed on an APDU")
            answer = b"\x6f\x00"
        self._send(sock, answer)
        return True

    def _control(self, code: int) -> None:
        """Apply a control code the driver sent without waiting for an answer."""
        if code == POWER_OFF:
            self.card.power_off()
        elif code == POWER_ON:
            self.card.power_on()
        elif code == RESET:
            self.card.reset()

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            self.closed_at = time.monotonic()
            # The peer may already be gone; shutting down is only to wake serve().
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.card.power_off()


class VirtualReaderSlot:
    """A vpcd reader slot a test or an operator can insert cards into and remove them from."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port
        self.link: VpcdLink | None = None
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed_at: float | None = None

    def __repr__(self) -> str:
        return f"VirtualReaderSlot({self.host}:{self.port})"

    @property
    def inserted(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def card(self) -> VirtualCard | None:
        return self.link.card if self.link is not None else None

    def insert(self, card: VirtualCard) -> None:
        with self._lock:
            self._remove_locked()
            if self._closed_at is not None:
                time.sleep(max(0.0, self._closed_at + ABSENCE - time.monotonic()))
            link = VpcdLink(card, self.host, self.port)
            link.connect()
            thread = threading.Thread(target=link.serve, name=f"vpcd-{self.port}", daemon=True)
            thread.start()
            self.link, self.thread = link, thread

    def remove(self) -> None:
        with self._lock:
            self._remove_locked()

    def _remove_locked(self) -> None:
        link, thread = self.link, self.thread
        self.link = self.thread = None
        if link is not None:
            link.close()
        if thread is not None:
            thread.join(timeout=5)
        if link is not None and link.closed_at is not None:
            self._closed_at = link.closed_at
