"""CLI commands for supervisors and admins: stations, printers, batches, exceptions, registry."""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.batches import (
    BatchError,
    Released,
    batch_counts,
    close_batch,
    create_batch,
    find_batch,
    pause_batch,
    resume_batch,
)
from issuance.cli.context import runtime_of, settings_of
from issuance.cli.identity import acting, as_option
from issuance.demo import population
from issuance.equipment import add_printer, add_station
from issuance.models import Application, Batch, User
from issuance.review import FourEyesViolation, ReviewError, resolve_exception
from issuance.roles import Permission, PermissionDenied
from issuance.sites import UnknownSite, add_site, require_site, site_codes
from issuance.states import ApplicationState
from issuance.transitions import Actor, NotFound
from workers.pipeline import QueuePipeline
from workers.queues import open_queue


@click.group()
def site() -> None:
    """Sites (registry offices): users, stations, printers and batches each belong to one."""


@site.command("add")
@click.argument("code")
@click.option("--name", default="", help="The office's name.")
@as_option
@click.pass_context
def site_add(ctx: click.Context, code: str, name: str, as_name: str | None) -> None:
    """Register site CODE."""
    rt, admin = acting(ctx, as_name, Permission.CONFIGURE)
    try:
        with rt.db.transaction() as s:
            add_site(s, code, name, actor=admin.username)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"site {code} added")


@site.command("list")
@click.pass_context
def site_list(ctx: click.Context) -> None:
    """Every site."""
    with runtime_of(ctx).db.session() as s:
        for code in site_codes(s):
            click.echo(code)


def _known_site(session: Session, code: str) -> None:
    try:
        require_site(session, code)
    except UnknownSite as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group()
def station() -> None:
    """Encoding stations."""


@station.command("add")
@click.argument("code")
@click.option("--site", required=True)
@click.option("--reader", default="", help="PC/SC reader name (empty: the virtual card).")
@as_option
@click.pass_context
def station_add(ctx: click.Context, code: str, site: str, reader: str, as_name: str | None) -> None:
    """Register encoding station CODE at SITE."""
    rt, admin = acting(ctx, as_name, Permission.CONFIGURE)
    with rt.db.transaction() as s:
        _known_site(s, site)
        add_station(s, code, site, reader, actor=admin.username)
    click.echo(f"station {code} added at {site}")


@click.group()
def printer() -> None:
    """Card printers."""


@printer.command("add")
@click.argument("code")
@click.option("--site", required=True)
@click.option("--kind", type=click.Choice(["folder", "cups"]), default="folder", show_default=True)
@click.option("--destination", default="", help="Spool folder or CUPS queue name.")
@as_option
@click.pass_context
def printer_add(ctx: click.Context, code: str, site: str, kind: str, destination: str,
                as_name: str | None) -> None:
    """Register printer CODE at SITE."""
    rt, admin = acting(ctx, as_name, Permission.CONFIGURE)
    with rt.db.transaction() as s:
        _known_site(s, site)
        add_printer(s, code, site, kind, destination, actor=admin.username)
    click.echo(f"printer {code} ({kind}) added at {site}")


@click.group()
def batch() -> None:
    """Production batches."""


@batch.command("create")
@click.option("--site", required=True)
@click.option("--max", "max_size", default=500, show_default=True)
@click.option("--station", "stations", multiple=True, help="Station codes (default: all at the site).")
@click.option("--printer", "printer_code", default=None)
@as_option
@click.pass_context
def batch_create(ctx: click.Context, site: str, max_size: int, stations: tuple[str, ...],
                 printer_code: str | None, as_name: str | None) -> None:
    """Gather approved applications of SITE into a new batch."""
    rt, supervisor = acting(ctx, as_name, Permission.MANAGE_BATCHES)
    try:
        with rt.db.transaction() as s:
            made = create_batch(s, site, Actor(supervisor.username, site), max_size=max_size,
                                stations=list(stations) or None, printer=printer_code)
            if made is None:
                click.echo(f"no approved applications at {site}")
                return
            counts = batch_counts(s, made.id)
            click.echo(f"batch {made.number}: {sum(counts.values())} applications, printer "
                       f"{made.printer.code if made.printer else '-'}, stations "
                       f"{', '.join(st.code for st in made.stations)}")
            ids = [a.id for a in made.applications]
    except BatchError as exc:
        raise click.UsageError(str(exc)) from exc
    if not rt.settings.uses_embedded_queue:  # an embedded queue dies with this command: stations reconcile
        QueuePipeline(rt, open_queue(rt.settings)).batched(ids)


@batch.command("show")
@click.argument("number")
@as_option
@click.pass_context
def batch_show(ctx: click.Context, number: str, as_name: str | None) -> None:
    """Counts per state of batch NUMBER."""
    rt, _ = acting(ctx, as_name, Permission.MANAGE_BATCHES)
    with rt.db.session() as s:
        found = s.scalars(select(Batch).where(Batch.number == number)).first()
        if found is None:
            raise click.UsageError(f"batch {number} does not exist")
        for state, n in batch_counts(s, found.id).items():
            click.echo(f"{state:<16} {n}")


def _batch_change(ctx: click.Context, as_name: str | None, number: str,
                  change: Callable[[Session, Actor, User], object]) -> None:
    """Run one batch change as the signed-in supervisor, in one transaction; queue what it released."""
    rt, supervisor = acting(ctx, as_name, Permission.MANAGE_BATCHES)
    try:
        with rt.db.transaction() as s:
            released = change(s, Actor(supervisor.username, supervisor.site), supervisor)
            status = find_batch(s, number).status
    except (BatchError, NotFound) as exc:
        raise click.UsageError(str(exc)) from exc
    if isinstance(released, Released) and not rt.settings.uses_embedded_queue:
        pipeline = QueuePipeline(rt, open_queue(rt.settings))
        pipeline.batched(released.application_ids)
        pipeline.printable(released.card_ids)
    click.echo(f"batch {number}: {status}")


@batch.command("pause")
@click.argument("number")
@click.option("--reason", default="", help="Why production of the batch stops (kept in the audit log).")
@as_option
@click.pass_context
def batch_pause(ctx: click.Context, number: str, reason: str, as_name: str | None) -> None:
    """Stop batch NUMBER's work going to its stations and printer (cards started are finished)."""
    _batch_change(ctx, as_name, number, lambda s, actor, user: pause_batch(s, number, actor, user, reason))


@batch.command("resume")
@click.argument("number")
@as_option
@click.pass_context
def batch_resume(ctx: click.Context, number: str, as_name: str | None) -> None:
    """Give paused batch NUMBER's work out again."""
    _batch_change(ctx, as_name, number, lambda s, actor, user: resume_batch(s, number, actor, user))


@batch.command("close")
@click.argument("number")
@as_option
@click.pass_context
def batch_close(ctx: click.Context, number: str, as_name: str | None) -> None:
    """End batch NUMBER; refused while any of its applications or cards is in flight."""
    _batch_change(ctx, as_name, number, lambda s, actor, user: close_batch(s, number, actor, user))


@click.group("exception")
def exception_group() -> None:
    """Applications held for a supervisor's decision."""


@exception_group.command("list")
@as_option
@click.pass_context
def exception_list(ctx: click.Context, as_name: str | None) -> None:
    """Applications waiting in `exception`, with their reasons."""
    rt, _ = acting(ctx, as_name, Permission.RESOLVE_EXCEPTIONS)
    with rt.db.session() as s:
        held = s.scalars(select(Application).where(Application.state == ApplicationState.EXCEPTION)
                         .order_by(Application.id))
        for app in held:
            reasons = "; ".join(r["message"] for r in app.outcome_reasons or [])
            click.echo(f"{app.number}  {reasons}")


@exception_group.command("resolve")
@click.argument("number")
@click.option("--approve/--reject", required=True)
@click.option("--reason", required=True)
@as_option
@click.option("--by", "by_name", default=None, hidden=True, help="Old name of --as.")
@click.pass_context
def exception_resolve(ctx: click.Context, number: str, approve: bool, reason: str, as_name: str | None,
                      by_name: str | None) -> None:
    """Approve or reject application NUMBER held in exception."""
    rt, reviewer = acting(ctx, as_name or by_name, Permission.RESOLVE_EXCEPTIONS)
    try:
        with rt.db.transaction() as s:
            app_id = s.scalars(select(Application.id).where(Application.number == number)).first()
            if app_id is None:
                raise click.UsageError(f"application {number} does not exist")
            if not resolve_exception(s, app_id, reviewer, approve=approve, reason=reason):
                raise click.UsageError(f"application {number} is not in exception")
    except (FourEyesViolation, PermissionDenied, ReviewError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"application {number} {'approved' if approve else 'rejected'}")


@click.group()
def registry() -> None:
    """The reference civil registry service."""


@registry.command("seed")
@click.option("--count", default=1000, show_default=True)
@click.option("--seed", default=9303, show_default=True)
@click.option("--db", "db_url", default=None, help="Registry database URL (default: settings).")
@click.pass_context
def registry_seed(ctx: click.Context, count: int, seed: int, db_url: str | None) -> None:
    """Fill the registry with a synthetic population."""
    from issuance.registry.store import RegistryStore

    settings = settings_of(ctx)
    store = RegistryStore(db_url or settings.effective_registry_database_url)
    n = store.seed(population.generate(count, seed))
    store.close()
    click.echo(f"registry holds {n} seeded citizens")


@registry.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True)
@click.option("--db", "db_url", default=None, help="Registry database URL (default: settings).")
@click.option("--latency-ms", default=0, help="Simulated network latency per request.")
@click.pass_context
def registry_serve(ctx: click.Context, host: str, port: int, db_url: str | None, latency_ms: int) -> None:
    """Serve the registry protocol over HTTP."""
    import uvicorn

    from issuance.registry.service import create_registry_app
    from issuance.registry.store import RegistryStore

    settings = settings_of(ctx)
    store = RegistryStore(db_url or settings.effective_registry_database_url)
    uvicorn.run(create_registry_app(store, latency_ms), host=host, port=port, log_level="warning")


COMMANDS = [site, station, printer, batch, exception_group, registry]

