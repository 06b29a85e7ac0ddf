"""What every CLI command needs from the click context: the settings, and a runtime closed on exit."""

from __future__ import annotations

import click

from issuance.config import Settings, load_settings
from issuance.runtime import Runtime


def settings_of(ctx: click.Context) -> Settings:
    """The settings the `issuance` group loaded (or fresh ones when a command runs alone)."""
    return ctx.find_object(Settings) or load_settings()


def runtime_of(ctx: click.Context) -> Runtime:
    """A runtime for this command, closed when the command ends."""
    rt = Runtime(settings_of(ctx))
    ctx.call_on_close(rt.close)
    return rt
