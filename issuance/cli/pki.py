"""`issuance pki`: key ceremonies, CRLs and the state of the issuer's keys and certificates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

import click
from cryptography import x509

from issuance.cli.context import runtime_of, settings_of
from issuance.db import Database
from issuance.keystore import Keystore, KeystoreError, open_keystore
from issuance.models import RevocationReason
from issuance.pki import pki_folder
from issuance.pki.ceremony import Admins, init_pki, issue_master_key, retire, rotate_ds
from issuance.pki.profiles import PkiInputError, Role
from issuance.pki.revocation import CA_ROLES, issue_crls, revoke
from issuance.pki.signing import SigningError
from issuance.pki.status import pki_status
from issuance.pki.store import PkiDirectory

admin_option = click.option(
    "--admin", "admins", multiple=True, required=True,
    help="Admin account performing the ceremony; give it twice (two people) for the CSCA.")


def _admins(names: tuple[str, ...]) -> Admins:
    if len(names) > 2:
        raise click.BadParameter("at most two admins: the actor and a witness", param_hint="--admin")
    return Admins(names[0], names[1] if len(names) > 1 else "")


def one_line_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Keystore, input and PKI-state errors end the command with one line naming the cause."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (KeystoreError, PkiInputError, SigningError, LookupError) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None

    return run


@contextmanager
def _keystore(ctx: click.Context, create: bool = False) -> Iterator[Keystore]:
    store = open_keystore(settings_of(ctx), create=create)
    try:
        yield store
    finally:
        store.close()


def _directory(ctx: click.Context) -> PkiDirectory:
    return PkiDirectory(pki_folder(settings_of(ctx)))


@dataclass(frozen=True)
class _Tools:
    """What a ceremony command works with: the database, the keystore, the PKI folder, the site."""

    db: Database
    store: Keystore
    directory: PkiDirectory
    site: str


@contextmanager
def _tools(ctx: click.Context, create: bool = False) -> Iterator[_Tools]:
    rt = runtime_of(ctx)
    with _keystore(ctx, create) as store:
        yield _Tools(rt.db, store, _directory(ctx), rt.settings.site)


@click.group()
def pki() -> None:
    """The issuer's keys: CSCA, Document Signers, signature CA, seal signer, SCP03 master keys."""


@pki.command("init")
@click.option("--state", required=True, help="ICAO issuing state code (e.g. UTO).")
@click.option("--organization", default="Civil ID Authority", show_default=True)
@admin_option
@click.pass_context
@one_line_errors
def init(ctx: click.Context, state: str, organization: str, admins: tuple[str, ...]) -> None:
    """Create the CSCA, a DS, the master list signer, the seal signer and the signature CA."""
    with _tools(ctx, create=True) as t:
        index = init_pki(t.db, t.store, t.directory, state, organization, _admins(admins), t.site)
    for key in index.keys:
        click.echo(f"{key.label:<14} {key.role:<11} serial {key.serial}  sha256 {key.fingerprint[:16]}…")
    click.echo(f"certificates and master list in {t.directory.root}")


@pki.command("rotate-ds")
@click.option("--retire-old", is_flag=True, help="Also retire the old DS key (it signs nothing more).")
@admin_option
@click.pass_context
@one_line_errors
def rotate(ctx: click.Context, retire_old: bool, admins: tuple[str, ...]) -> None:
    """Start a new Document Signer; cards signed by the old one still verify."""
    with _tools(ctx) as t:
        label = rotate_ds(t.db, t.store, t.directory, _admins(admins), retire_old, t.site)
    click.echo(f"new document signer {label}")


@pki.command("retire")
@click.argument("label")
@admin_option
@click.pass_context
@one_line_errors
def retire_key(ctx: click.Context, label: str, admins: tuple[str, ...]) -> None:
    """Stop a superseded key from signing (kept until the documents it signed expire)."""
    with _tools(ctx) as t:
        retire(t.db, t.store, t.directory, label, _admins(admins), t.site)
    click.echo(f"{label} retired")


@pki.command("revoke")
@click.argument("serial")
@click.option("--issuer", type=click.Choice([r.value for r in CA_ROLES]), default=Role.ISSUING_CA.value,
              show_default=True)
@click.option("--reason", type=click.Choice([r.value for r in RevocationReason]), required=True)
@admin_option
@click.pass_context
@one_line_errors
def revoke_certificate(ctx: click.Context, serial: str, issuer: str, reason: str,
                       admins: tuple[str, ...]) -> None:
    """Record a revocation (hex SERIAL); `pki crl` publishes it."""
    rt = runtime_of(ctx)
    who = _admins(admins)
    with rt.db.transaction() as s:
        who.check(s)
        row = revoke(s, Role(issuer), serial, RevocationReason(reason), who.actor, rt.settings.site)
        click.echo(f"{issuer} serial {row.serial} revoked ({row.reason})")


@pki.command("crl")
@admin_option
@click.pass_context
@one_line_errors
def crl(ctx: click.Context, admins: tuple[str, ...]) -> None:
    """Sign and write the CRLs of the CSCA and of the signature CA."""
    with _tools(ctx) as t:
        crls = issue_crls(t.db, t.store, t.directory, _admins(admins), t.site)
    for role, issued in crls.items():
        number = issued.extensions.get_extension_for_class(x509.CRLNumber)
        click.echo(f"{t.directory.root / (role + '.crl')}: number {number.value.crl_number}, "
                   f"{len(list(issued))} revoked")


@pki.command("issue-master-key")
@click.option("--label", default="scp03-master-1", show_default=True)
@click.option("--bits", type=click.Choice(["128", "256"]), default="128", show_default=True)
@admin_option
@click.pass_context
@one_line_errors
def master_key(ctx: click.Context, label: str, bits: str, admins: tuple[str, ...]) -> None:
    """Create the issuer's SCP03 master key in the keystore (card stock derives from it)."""
    with _tools(ctx, create=True) as t:
        check = issue_master_key(t.db, t.store, t.directory, label, int(bits), _admins(admins), t.site)
    click.echo(f"master key {label} (AES-{bits}) created; check value {check}")


@pki.command("status")
@click.option("--within-days", default=30, show_default=True, help="Warn about what ends sooner.")
@click.pass_context
@one_line_errors
def status(ctx: click.Context, within_days: int) -> None:
    """Every key and certificate: validity, signatures made, warnings."""
    with _tools(ctx) as t, t.db.session() as s:
        rows = pki_status(s, t.store, t.directory, within_days)
    click.echo(f"{'label':<16} {'role':<13} {'kind':<9} {'created':<11} {'status':<11} {'valid until':<11} "
               f"{'signs until':<11} {'uses':>6}")
    for r in rows:
        click.echo(f"{r.label:<16} {r.role:<13} {r.kind:<9} {r.created:<11} {r.status:<11} "
                   f"{r.not_after[:10]:<11} {r.signs_until[:10]:<11} {r.signatures:>6}")
        for warning in r.warnings:
            click.echo(f"  warning: {warning}")
