"""How the core announces work to the stages: a port that the entry points plug the queue into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Pipeline(Protocol):
    """Told about applications after their state change is committed."""

    def submitted(self, application_ids: Sequence[int]) -> None:
        """These applications were just committed as `submitted`: queue their validation."""

    def batched(self, application_ids: Sequence[int]) -> None:
        """These applications were just committed as `batched`: queue them on their stations."""

    def printable(self, card_ids: Sequence[int]) -> None:
        """These locked cards were just released for printing (a batch resumed): queue their prints."""


class Unattended:
    """No queue wired (a tool that only reads): the reconciler finds the work later."""

    def submitted(self, application_ids: Sequence[int]) -> None:
        return None

    def batched(self, application_ids: Sequence[int]) -> None:
        return None

    def printable(self, card_ids: Sequence[int]) -> None:
        return None
