"""`issuance report`: the daily production report and the batch report, as PDF or CSV files.

Acts as a named supervisor (`--as`, MANAGE_BATCHES) and sees that supervisor's site only.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from issuance.cli.identity import acting, as_option
from issuance.config import ConfigError
from issuance.reports import ReportNotFound, ReportRefused, batch_report, daily_report, zone
from issuance.roles import Permission
from printing.reports import FORMATS, Document, batch_document, daily_document

_format = click.option("--format", "fmt", type=click.Choice(FORMATS), default="pdf", show_default=True)
_out = click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
                    help="File to write (default: the report's own name in this folder; '-' for stdout).")


@click.group()
def report() -> None:
    """Production reports for supervisors."""


def _write(document: Document, out: Path | None) -> None:
    if out is not None and str(out) == "-":
        sys.stdout.buffer.write(document.content)
        sys.stdout.buffer.flush()
        return
    path = out or Path(document.filename)
    path.write_bytes(document.content)
    click.echo(f"{path} written ({len(document.content)} bytes)", err=True)


@report.command("daily")
@click.option("--site", default=None, help="Site code (default: the supervisor's own).")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The local day, YYYY-MM-DD (default: today in the configured time zone).")
@_format
@_out
@as_option
@click.pass_context
def report_daily(ctx: click.Context, site: str | None, day: dt.datetime | None, fmt: str, out: Path | None,
                 as_name: str | None) -> None:
    """What a site enrolled, approved, personalized, printed and delivered on one day."""
    rt, user = acting(ctx, as_name, Permission.MANAGE_BATCHES)
    try:
        tz = zone(rt.settings.timezone)
        local_day = day.date() if day else dt.datetime.now(tz).date()
        with rt.db.session() as s:
            found = daily_report(s, user, site or user.site, local_day, tz)
    except (ConfigError, ReportNotFound, ReportRefused) as exc:
        raise click.UsageError(str(exc)) from exc
    _write(daily_document(found, fmt), out)


@report.command("batch")
@click.argument("number")
@_format
@_out
@as_option
@click.pass_context
def report_batch(ctx: click.Context, number: str, fmt: str, out: Path | None, as_name: str | None) -> None:
    """Every application of batch NUMBER with its state, card, station and attempts."""
    rt, user = acting(ctx, as_name, Permission.MANAGE_BATCHES)
    try:
        with rt.db.session() as s:
            found = batch_report(s, user, number)
    except ReportNotFound as exc:
        raise click.UsageError(str(exc)) from exc
    _write(batch_document(found, fmt), out)
