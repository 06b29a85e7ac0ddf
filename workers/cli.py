"""CLI commands of the queue stage: `issuance worker`, `issuance reconcile`."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from issuance.cli.context import runtime_of, settings_of
from issuance.config import Settings
from workers.queues import VALIDATE, open_queue
from workers.reconciler import reconcile as reconcile_pass
from workers.worker import run_reconciler, run_worker

EMBEDDED_HINT = (
    "no ISSUANCE_REDIS_URL is set, so the queue is the embedded one, which only the serving "
    "process can reach: `issuance serve` works it and reconciles it by itself. "
    "For separate workers, run Redis and set ISSUANCE_REDIS_URL=redis://HOST:6379/0."
)


def _need_redis(settings: Settings, command: str) -> None:
    if settings.uses_embedded_queue:
        raise click.UsageError(f"`issuance {command}` needs a real Redis: {EMBEDDED_HINT}")


@click.command()
@click.argument("queue_names", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--reconcile-every", type=int, default=None,
              help="Seconds between reconciler passes, idle or not (default: the "
                   "reconcile_every setting, 60; 0: none).")
@click.pass_context
def worker(ctx: click.Context, queue_names: tuple[str, ...], burst: bool,
           reconcile_every: int | None) -> None:
    """Start a forking rq worker on QUEUE_NAMES (default: validate)."""
    settings = settings_of(ctx)
    _need_redis(settings, "worker")
    run_worker(settings, queue_names or (VALIDATE,), burst=burst, reconcile_every=reconcile_every)


@click.command()
@click.option("--every", type=float, default=None,
              help="Keep running: a pass every N seconds (a service beside the workers).")
@click.pass_context
def reconcile(ctx: click.Context, every: float | None) -> None:
    """Re-enqueue every application whose job Redis lost or whose lease lapsed."""
    settings = settings_of(ctx)
    _need_redis(settings, "reconcile")
    if every is not None:
        _serve_reconciler(settings, every)
        return
    report = reconcile_pass(runtime_of(ctx), open_queue(settings))
    click.echo(f"re-enqueued {len(report.requeued)} applications "
               f"(lost {len(report.lost)}, stale {len(report.stale)}, lease expired {len(report.expired)}); "
               f"queued {len(report.printing)} cards for printing; "
               f"spoiled {len(report.spoiled)} cards a station left mid-way; "
               f"expired {len(report.cards_expired)} cards past their date")


def _serve_reconciler(settings: Settings, every: float) -> None:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    click.echo(f"reconciling every {every:g} s (Ctrl-C to stop)")
    run_reconciler(settings, every, stop)
