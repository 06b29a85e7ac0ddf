"""The station monitor's board on the database: its heartbeat and self-test answers in its stations row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from issuance.runtime import Runtime
from issuance.station_status import record_beat, record_self_test, record_stop
from issuance.transitions import Actor
from personalization.station.monitor import StationStatus
from personalization.station.self_test import SelfTestReport


@dataclass
class DbStatusBoard:
    """Implements `personalization.station.monitor.StatusBoard` on the station's row."""

    rt: Runtime
    station_id: int
    actor: Actor  # the signed-in operator running the station: the self-test's audit names them
    card_of: Callable[[str], int | None]  # a job's card id, from the job source's claims
    # The last job's card: still shown once the source has reported it, until the card is taken out.
    _last: tuple[str, int | None] = field(default=("", None))

    def _card(self, job_id: str | None) -> int | None:
        if not job_id:
            return None
        if job_id != self._last[0]:
            self._last = (job_id, self.card_of(job_id))
        return self._last[1]

    def beat(self, status: StationStatus) -> str | None:
        card_id = self._card(status.job_id)
        with self.rt.db.transaction() as s:
            return record_beat(s, self.station_id, card_present=status.card_present, card_id=card_id,
                               step=status.step)

    def self_tested(self, token: str, report: SelfTestReport) -> None:
        with self.rt.db.transaction() as s:
            record_self_test(s, self.station_id, token, report.to_json(), self.actor)

    def stopped(self) -> None:
        with self.rt.db.transaction() as s:
            record_stop(s, self.station_id)
