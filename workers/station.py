"""`issuance station run`: an encoding station working its queue, card after card (DESIGN §4).

Without --reader the cards are virtual ones from a blank-stock folder, used in-process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from issuance.cli.identity import acting, as_option
from issuance.keystore import Keystore, KeystoreError
from issuance.pki import pki_folder
from issuance.pki.store import PkiDirectory
from issuance.roles import Permission
from issuance.runtime import Runtime
from personalization.cli_station import step_progress, stop_on_interrupt
from personalization.station.feeders import CardFeeder, ReaderFeeder, StockFeeder
from personalization.station.keystore_pki import station_pki
from personalization.station.loop import LoopStats, Observer, StationLoop
from personalization.station.monitor import Monitor
from personalization.station.self_test import station_self_test
from workers.personalization import DbJobSource
from workers.queues import JobQueue, open_queue
from workers.station_board import DbStatusBoard

MASTER_KEY_LABEL = "scp03-master-1"  # `issuance pki issue-master-key`'s default


@dataclass
class Station:
    """A station's loop, its job source and its monitor, stopped together (Ctrl-C: after the current card)."""

    loop: StationLoop
    source: DbJobSource
    monitor: Monitor

    def stop(self) -> None:
        self.source.stop()
        self.loop.stop()

    def run(self, once: bool = False) -> LoopStats:
        """The loop, with heartbeats (and self-tests when asked) from the monitor's thread meanwhile."""
        with self.monitor:
            return self.loop.run(once)


def _monitor(rt: Runtime, source: DbJobSource, feeder: CardFeeder) -> Monitor:
    reader = feeder.transport.reader_name if isinstance(feeder, ReaderFeeder) else None
    board = DbStatusBoard(rt, source.station_id, source.actor, source.card_of)
    return Monitor(board, lambda: station_self_test(reader), rt.settings.station_heartbeat_seconds)


def open_station(rt: Runtime, jobs: JobQueue, keystore: Keystore, code: str, feeder: CardFeeder, *,
                 master_label: str = MASTER_KEY_LABEL, wait: float = 0.0, observer: Observer | None = None,
                 card_timeout: float | None = None, operator: str = "") -> Station:
    """The station `code` on this feeder, signing and deriving with the keystore and DATA/pki."""
    keystore.derive_scp03(master_label, b"\x00")  # an unusable master key fails here, in one line
    pki, signer = station_pki(rt.db, keystore, PkiDirectory(pki_folder(rt.settings)), master_label)
    source = DbJobSource(rt, jobs, code, signer.label_of, wait, operator)
    monitor = _monitor(rt, source, feeder)
    return Station(StationLoop(source, feeder, pki, observer, card_timeout, monitor), source, monitor)


@click.command("run")
@click.option("--station", "code", required=True, help="The station's code (`issuance station add`).")
@click.option("--reader", default=None, help="PC/SC reader; without it, virtual cards from --stock.")
@click.option("--stock", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Blank-stock folder (`issuance card-sim new-stock`); default DATA/stations/CODE/stock.")
@click.option("--once", is_flag=True, help="Personalize one card, then stop.")
@click.option("--wait", type=float, default=None,
              help="Seconds to wait for a job before stopping (default: wait until Ctrl-C).")
@click.option("--master-key-label", default=MASTER_KEY_LABEL, show_default=True,
              help="The issuer's SCP03 master key in the keystore.")
@as_option
@click.pass_context
def run(ctx: click.Context, code: str, reader: str | None, stock: Path | None, once: bool,
        wait: float | None, master_key_label: str, as_name: str | None) -> None:
    """Personalize the applications queued for station CODE; Ctrl-C stops after the current card."""
    rt, operator = acting(ctx, as_name, Permission.OPERATE_STATION)
    feeder: CardFeeder = (ReaderFeeder(reader) if reader is not None
                          else StockFeeder(stock or rt.settings.data_dir / "stations" / code / "stock"))
    progress, close = step_progress(lambda job: job.job_id)
    try:
        station = open_station(rt, open_queue(rt.settings), rt.keystore, code, feeder,
                               master_label=master_key_label, observer=progress,
                               wait=float("inf") if wait is None else wait,
                               card_timeout=None if wait is None else wait + 1,
                               operator=operator.username)
    except (KeystoreError, LookupError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    with stop_on_interrupt(station):
        stats = station.run(once)
    close()
    click.echo(f"station {code}: {stats.personalized} personalized, {stats.spoiled} spoiled")
