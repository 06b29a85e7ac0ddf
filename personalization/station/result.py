"""What one personalization run records: per-step outcomes, card identity, and its typed failure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from personalization.status_words import format_sw


class Step(StrEnum):
    """The steps of DESIGN §4, in order."""

    IDENTIFY = "identify"
    OPEN_CHANNEL = "open_channel"
    CHIP_KEYS = "chip_keys"
    WRITE_LDS = "write_lds"
    ACCESS_KEYS = "access_keys"
    HOLDER_KEY = "holder_key"
    PIN = "pin"
    VERIFY = "verify"
    LOCK = "lock"


class PersonalizationError(Exception):
    """A step failed; names the step and the status word (None when no card answer was involved)."""

    def __init__(self, step: Step, reason: str, sw: int | None = None) -> None:
        self.step = step
        self.sw = sw
        self.reason = reason
        where = f" (SW {format_sw(sw)})" if sw is not None else ""
        super().__init__(f"{step.value}: {reason}{where}")


class CardRefused(PersonalizationError):
    """The card is not one we may write (wrong stock, wrong keys, wrong state): nothing was written."""


@dataclass(frozen=True)
class StepOutcome:
    step: Step
    ok: bool
    apdus: int
    ms: float
    sw: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Credentials:
    """The PIN and PUK set on the card: for the PIN mailer only, never logged or stored."""

    pin: str
    puk: str

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


@dataclass
class PersonalizationResult:
    """Everything the station records about one card (DESIGN §4)."""

    atr: bytes = b""
    kdd: bytes = b""
    cplc: bytes = b""
    serial: int | None = None
    ds_certificate: bytes = field(default=b"", repr=False)
    holder_certificate: bytes = field(default=b"", repr=False)
    steps: list[StepOutcome] = field(default_factory=list)
    credentials: Credentials | None = field(default=None, repr=False)
    can: str = ""  # card access number, printed on the card body (ICAO 9303-11 §4.4.3.1)
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # the LDS as written

    @property
    def ds_certificate_id(self) -> str:
        """SHA-256 fingerprint of the DS certificate that signed the EF.SOD."""
        return hashlib.sha256(self.ds_certificate).hexdigest() if self.ds_certificate else ""

    @property
    def apdus(self) -> int:
        return sum(s.apdus for s in self.steps)

    @property
    def failed_step(self) -> StepOutcome | None:
        return next((s for s in self.steps if not s.ok), None)

    def summary(self) -> dict[str, object]:
        """A JSON-safe record (no PIN, no key): for the card row and the audit entry."""
        return {
            "serial": self.serial, "kdd": self.kdd.hex(), "atr": self.atr.hex(), "cplc": self.cplc.hex(),
            "ds_certificate_id": self.ds_certificate_id,
            "steps": [{"step": s.step.value, "ok": s.ok, "apdus": s.apdus, "ms": round(s.ms, 2),
                       "sw": None if s.sw is None else f"{s.sw:04X}", "detail": s.detail}
                      for s in self.steps],
        }
