"""`issuance vault`: rotating the biometric encryption key."""

from __future__ import annotations

import os

import click

from issuance.cli.identity import acting, as_option
from issuance.roles import Permission
from issuance.vault import KEY_ENV, Vault, new_key
from issuance.vault_rotation import remaining, reseal_all


@click.group()
def vault() -> None:
    """The biometric vault's keys."""


@vault.command("rotate")
@click.option("--resume", is_flag=True, help="Finish an interrupted rotation without a new key.")
@click.option("--batch", "batch_size", default=200, show_default=True, help="Images per transaction.")
@as_option
@click.pass_context
def vault_rotate(ctx: click.Context, resume: bool, batch_size: int, as_name: str | None) -> None:
    """Make a new key current and re-seal every image under it; older keys stay to open old copies."""
    rt, admin = acting(ctx, as_name, Permission.MANAGE_KEYS)
    key_dir = rt.settings.effective_key_dir
    if not resume:
        if os.environ.get(KEY_ENV):
            raise click.UsageError(f"{KEY_ENV} is set and would stay current: unset it to rotate "
                                   "keys kept in the key folder")
        kid = new_key(key_dir)
        click.echo(f"new biometric key {kid} is current")
    current = Vault.from_settings(key_dir)
    done = reseal_all(rt.db, current, batch_size, admin.username)
    click.echo(f"re-sealed {done} images under key {current.key_id}; {remaining(rt.db, current)} left")
