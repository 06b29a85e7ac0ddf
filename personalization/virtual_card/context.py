"""What a card remembers only while powered: selection, secure sessions, PIN status."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from personalization.lds import profile
from personalization.lds.profile import AC_BAC, AC_SECURE_CHANNEL
from personalization.protocol.scp03 import C_DECRYPTION, C_MAC, Scp03Session
from personalization.protocol.secure_messaging import SmSession
from personalization.virtual_card.bac_chip import BacChip
from personalization.virtual_card.filesystem import DedicatedFile, ElementaryFile
from personalization.virtual_card.pace_app import PaceChip
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
    pace: PaceChip | None = None
    ca_armed: bool = False
    chain: bytearray = field(default_factory=bytearray)
    chain_header: tuple[int, int, int, int] | None = None
    sm_limit: int | None = None  # most plain response bytes that fit once protected
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

    def personalizing(self) -> bool:
        """An encrypted SCP03 session on an application still being personalized."""
        df = self.current_df
        return (self.scp is not None and bool(self.scp.level & C_DECRYPTION) and df is not None
                and df.life_cycle == profile.APP_SELECTABLE)

    def drop_chain(self) -> None:
        self.chain.clear()
        self.chain_header = None

    def end_sessions(self, keep_sm: bool = False) -> None:
        self.scp_pending = None
        self.scp = None
        self.bac = None
        self.pace = None
        self.ca_armed = False
        if not keep_sm:
            self.sm = None
        self.pin_verified = False
        self.drop_chain()

    def select_application(self, df: DedicatedFile | None, isd: bool = False,
                           keep_sm: bool = False) -> None:
        """Selecting an application closes its predecessor's sessions (GPC 2.3 §10.2.3).

        ICAO secure messaging survives selecting the MF or the eMRTD application: PACE runs
        at MF level before the application is selected (ICAO 9303-11 §4.2, keep_sm).
        """
        self.end_sessions(keep_sm)
        self.isd_selected = isd
        self.current_df = df
        self.current_ef = None
