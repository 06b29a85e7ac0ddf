"""CLI commands of the queue stage: `issuance worker`, `issuance reconcile`."""

from __future__ import annotations

import click

from issuance.cli_context import runtime_of, settings_of
from workers import queues
from workers.reconciler import reconcile as reconcile_pass
from workers.worker import RECONCILE_EVERY, run_worker


@click.command()
@click.argument("queue_names", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--reconcile-every", default=RECONCILE_EVERY, show_default=True,
              help="Seconds between reconciler passes inside the worker (0: none).")
@click.pass_context
def worker(ctx: click.Context, queue_names: tuple[str, ...], burst: bool, reconcile_every: int) -> None:
    """Start a forking rq worker on QUEUE_NAMES (default: validate)."""
    settings = settings_of(ctx)
    if settings.uses_embedded_queue:
        raise click.UsageError("set ISSUANCE_REDIS_URL: a worker process needs a real Redis")
    run_worker(settings, queue_names or (queues.VALIDATE,), burst=burst,
               reconcile_every=reconcile_every)


@click.command()
@click.pass_context
def reconcile(ctx: click.Context) -> None:
    """Re-enqueue every application whose job Redis lost or whose lease lapsed."""
    report = reconcile_pass(runtime_of(ctx))
    click.echo(f"re-enqueued {len(report.requeued)} applications "
               f"(lost {len(report.lost)}, stale {len(report.stale)}, lease expired {len(report.expired)})")
