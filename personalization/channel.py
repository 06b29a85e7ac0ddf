"""The one operation every APDU path shares: a transport, an SCP03 channel, an SM channel."""

from __future__ import annotations

from typing import Protocol

from personalization.apdu import CommandAPDU, ResponseAPDU


class ApduSender(Protocol):
    """Anything that sends a command APDU and returns the response (ISO/IEC 7816-4 §5)."""

    def transmit(self, command: CommandAPDU) -> ResponseAPDU: ...
