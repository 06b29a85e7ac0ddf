"""Who a CLI command acts as: a named user who signs in like anyone else (throttled, audited).

Commands that change or reveal personal data take `--as NAME`; the password comes from
$ISSUANCE_PASSWORD or a prompt. On an empty database, `user add NAME --role admin` bootstraps the
first administrator without one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy import select

from issuance import signin
from issuance.cli.context import runtime_of
from issuance.models import User
from issuance.roles import Permission, PermissionDenied, authorize
from issuance.runtime import Runtime

PASSWORD_ENV = "ISSUANCE_PASSWORD"
CLI_ADDRESS = "cli"
F = TypeVar("F", bound=Callable[..., Any])


def as_option(func: F) -> F:
    """The `--as NAME` option (also $ISSUANCE_AS)."""
    option = click.option("--as", "as_name", envvar="ISSUANCE_AS", default=None, metavar="NAME",
                          help="Act as this user (password from $ISSUANCE_PASSWORD or a prompt).")
    return option(func)


def has_users(rt: Runtime) -> bool:
    """False only on a database where no account exists yet (first-admin bootstrap)."""
    with rt.db.session() as s:
        return s.scalar(select(User.id).limit(1)) is not None


def acting(ctx: click.Context, name: str | None, permission: Permission) -> tuple[Runtime, User]:
    """The command's runtime and the signed-in user it acts as."""
    rt = runtime_of(ctx)
    return rt, sign_in_as(rt, name, permission)


def sign_in_as(rt: Runtime, name: str | None, permission: Permission) -> User:
    """Sign `name` in (throttled and audited like the web) and check the role grants `permission`."""
    if not name:
        raise click.UsageError("--as NAME: this command acts as a named user; say which")
    password = os.environ.get(PASSWORD_ENV) or click.prompt(f"password for {name}", hide_input=True)
    # Its own transaction: a failure must count even though the command stops here.
    with rt.db.transaction() as s:
        outcome = signin.sign_in(s, name, password, CLI_ADDRESS)
    if isinstance(outcome, signin.Refusal):
        raise click.UsageError(outcome.message)
    try:
        return authorize(outcome, permission)
    except PermissionDenied as exc:
        raise click.UsageError(str(exc)) from exc
