"""What a card remembers only while powered: selection, secure sessions, PIN status."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from personalization.lds.profile import AC_BAC, AC_SECURE_CHANNEL
from personalization.protocol.scp03 import C_MAC, Scp03Session
from personalization.protocol.secure_messaging import SmSession
from personalization.virtual_card.bac_chip import BacChip
from personalization.virtual_card.filesystem import DedicatedFile, ElementaryFile
from personalization.virtual_card.state import CardState


@dataclass
class Context:
    """Volatile state of one power-on session (GPC 2.3 §10.2, ICAO 9303-11 §9.8)."""

    state: CardState
    rng: Callable[[int], bytes] = os.urandom
    isd_selected: bool = False
    current_df: DedicatedFile | None = None
    current_ef: ElementaryFile | None = None
    scp_pending: Scp03Session | None = None
    scp: Scp03Session | None = None
    bac: BacChip | None = None
    sm: SmSession | None = None
    pin_verified: bool = False
    chain: bytearray = field(default_factory=bytearray)
    dirty: bool = False

    def __repr__(self) -> str:
        return f"Context(serial={self.state.serial})"

    def satisfied(self) -> int:
        """Access conditions met right now (see filesystem.AC_*)."""
        mask = 0
        if self.scp is not None and self.scp.level & C_MAC:
            mask |= AC_SECURE_CHANNEL
        if self.sm is not None:
            mask |= AC_BAC
        return mask

    def end_sessions(self) -> None:
        self.scp_pending = None
        self.scp = None
        self.bac = None
        self.sm = None
        self.pin_verified = False
        self.chain.clear()

    def select_application(self, df: DedicatedFile | None, isd: bool = False) -> None:
        """Selecting an application closes its predecessor's sessions (GPC 2.3 §10.2.3)."""
        self.end_sessions()
        self.isd_selected = isd
        self.current_df = df
        self.current_ef = None
