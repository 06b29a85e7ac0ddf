"""Fault injection for tests: tears and forced status words, counted in APDUs."""

from __future__ import annotations

from dataclasses import dataclass, field

from personalization.status_words import CardRemovedError


class CardTorn(CardRemovedError):
    """The card lost power mid-command: no response is sent (a tear)."""


@dataclass
class FaultPlan:
    """Faults counted from the moment the plan is installed; APDU numbers start at 1.

    tear_at: tear on that APDU. tear_after_write: apply the command first, then tear
    (the station never hears the answer). status_at: answer APDU n with a status word
    without executing it. status_for_ins: the same for every command with that INS.
    crash_for_ins: an internal error (a bug) inside the card OS for commands with that INS.
    """

    tear_at: int | None = None
    tear_after_write: bool = False
    status_at: dict[int, int] = field(default_factory=dict)
    status_for_ins: dict[int, int] = field(default_factory=dict)
    crash_for_ins: set[int] = field(default_factory=set)
    seen: int = 0
