"""The `issuance` command line: one entry point, a subcommand per job; it wires the stages together."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import uvicorn
from sqlalchemy import select

from enrollment.cli import photo
from issuance import audit, migrate, signin
from issuance.cli.cards import cards
from issuance.cli.context import runtime_of, settings_of
from issuance.cli.identity import acting, as_option, has_users, sign_in_as
from issuance.cli.ops import COMMANDS, station
from issuance.cli.pki import pki
from issuance.cli.reports import report
from issuance.cli.vault import vault
from issuance.config import ConfigError, load_settings
from issuance.demo.run import ACCOUNTS_FILE, run_demo
from issuance.models import Role, User
from issuance.roles import Permission
from issuance.runtime import audit_anchor
from issuance.sites import ensure_site
from issuance.users import UserError, add_user, set_active
from issuance.web.app import create_app
from personalization.cli import card_sim
from personalization.cli_read import card
from personalization.cli_station import self_test
from printing.cli import card_design, seal
from workers.cli import reconcile, worker
from workers.cli_print import print_group
from workers.station import run as station_run


@click.group()
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="TOML settings file (default: $ISSUANCE_CONFIG or ./issuance.toml).")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None) -> None:
    """Smart civil-ID card issuance: enrollment, validation, personalization, printing."""
    try:
        ctx.obj = load_settings(config_file=config_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations up to REVISION."""
    url = settings_of(ctx).effective_database_url
    migrate.upgrade(url, revision)
    click.echo(f"database at revision {migrate.current(url)}")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the schema revision of the database."""
    click.echo(migrate.current(settings_of(ctx).effective_database_url) or "empty")


@main.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Walk the chain; exit 1 naming the first entry edited, deleted or reordered."""
    with runtime_of(ctx).db.session() as s:
        verdict = audit.verify(s)
    if verdict.ok:
        click.echo(f"audit chain intact: {verdict.checked} entries, "
                   f"{verdict.checkpoints} signed checkpoints matched")
        return
    click.echo(f"audit chain BROKEN at entry {verdict.bad_seq}: {verdict.reason}", err=True)
    sys.exit(1)


@audit_group.command("public-key")
@click.pass_context
def audit_public_key(ctx: click.Context) -> None:
    """Print the checkpoint verification key (PEM), to check the checkpoint file with other tools."""
    click.echo(audit_anchor(settings_of(ctx)).keys.public_key_pem().decode(), nl=False)


@main.group()
def user() -> None:
    """User accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--site", default=None, help="Site code (default: the configured site).")
@click.option("--full-name", default="")
@click.password_option(envvar="ISSUANCE_NEW_PASSWORD")
@as_option
@click.pass_context
def user_add(
    ctx: click.Context, name: str, role: str, site: str | None, full_name: str, password: str,
    as_name: str | None,
) -> None:
    """Create user NAME with ROLE (password prompted, or from $ISSUANCE_NEW_PASSWORD).

    On an empty database the first account must be an admin, and needs no --as.
    """
    rt = runtime_of(ctx)
    if has_users(rt):
        actor = sign_in_as(rt, as_name, Permission.MANAGE_USERS).username
    elif role != Role.ADMIN:
        raise click.UsageError("no accounts yet: the first one must be an admin (--role admin)")
    else:
        actor = name  # first-admin bootstrap: the new administrator creates itself
    try:
        with rt.db.transaction() as s:
            if site is None:  # the configured site of a fresh install exists once it has a user
                ensure_site(s, rt.settings.site, actor=actor)
            created = add_user(s, name, Role(role), password, actor=actor,
                               site=site or rt.settings.site, full_name=full_name)
            click.echo(f"user {created.username} created with role {created.role}")
    except UserError as exc:
        raise click.BadParameter(str(exc)) from exc


@user.command("list")
@as_option
@click.pass_context
def user_list(ctx: click.Context, as_name: str | None) -> None:
    """Every account with its role, site and status."""
    rt, _ = acting(ctx, as_name, Permission.MANAGE_USERS)
    with rt.db.session() as s:
        for u in s.scalars(select(User).order_by(User.username)):
            click.echo(f"{u.username:<20} {u.role:<11} {u.site:<8} {'active' if u.active else 'disabled'}")


@user.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Re-enable instead.")
@as_option
@click.pass_context
def user_disable(ctx: click.Context, name: str, enable: bool, as_name: str | None) -> None:
    """Disable account NAME (its sign-ins and tokens stop working at once)."""
    rt, admin = acting(ctx, as_name, Permission.MANAGE_USERS)
    try:
        with rt.db.transaction() as s:
            set_active(s, name, enable, actor=admin.username)
    except UserError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"user {name} {'enabled' if enable else 'disabled'}")


@user.command("unlock")
@click.argument("subject")
@click.option("--address", is_flag=True, help="SUBJECT is a client address, not an account name.")
@as_option
@click.pass_context
def user_unlock(ctx: click.Context, subject: str, address: bool, as_name: str | None) -> None:
    """Lift the sign-in lockout and delay of account SUBJECT (or of an address)."""
    rt, admin = acting(ctx, as_name, Permission.MANAGE_USERS)
    scope = signin.ADDRESS if address else signin.ACCOUNT
    with rt.db.transaction() as s:
        done = signin.unlock(s, scope, subject, actor=admin.username)
    click.echo(f"{scope} {subject} {'unlocked' if done else 'was not locked'}")


@main.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("demo-out"),
              show_default=True, help="Folder for the demo database, cards and PDFs.")
@click.option("--count", default=6, show_default=True,
              help="How many ordinary citizens (four special cases are always added).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def demo(ctx: click.Context, out_dir: Path, count: int, as_json: bool) -> None:
    """Enroll sample citizens and carry them through to cards, on embedded defaults."""
    summary = run_demo(settings_of(ctx), out_dir, count)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    click.echo(f"{summary.applications} applications enrolled, {summary.printed} cards printed; "
               f"files under {summary.out_dir}")
    click.echo(f"demo accounts and passwords: {Path(summary.out_dir) / ACCOUNTS_FILE} (mode 0600)")
    for case in summary.cases:
        reasons = ", ".join(case["reasons"]) or "-"
        click.echo(f"  {case['number']:<16} {case['label']:<20} {case['validation']:<10} {reasons}")
    click.echo("now:")
    for state, n in summary.by_state.items():
        click.echo(f"  {state:<16} {n}")
    click.echo("cards: " + (", ".join(f"{n} {state}" for state, n in summary.cards.items()) or "none"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web app (counter, station and supervisor screens, and the API)."""
    click.echo(f"serving the counter's screens at http://{host}:{port}/ (API schema at /docs)")
    uvicorn.run(create_app(settings_of(ctx)), host=host, port=port)


for command in (*COMMANDS, worker, reconcile, photo, card_sim, seal, card_design, pki, card, print_group,
                vault, cards, report):
    main.add_command(command)
station.add_command(self_test)
station.add_command(station_run)
