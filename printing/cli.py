"""`issuance seal verify` (the seal on a photo or scan of a card) and `issuance card-design`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from cryptography import x509

from printing.design import DesignError, load_design
from printing.render import render_card
from printing.samples import sample_face
from printing.seal import SealError, verify_seal
from printing.seal import decode_text as seal_bytes
from printing.seal_scan import find_seal_text, load_grey


def _certificates(paths: tuple[Path, ...], option: str) -> list[x509.Certificate]:
    """Every PEM certificate in the given files."""
    found: list[x509.Certificate] = []
    for path in paths:
        try:
            found += x509.load_pem_x509_certificates(path.read_bytes())
        except ValueError as exc:
            raise click.BadParameter(f"{path.name}: no PEM certificate ({exc})", param_hint=option) from exc
    return found


@click.group(name="seal")
def seal() -> None:
    """Visible digital seals (ICAO 9303-13) printed on the back of the card."""


@seal.command("verify")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--csca", "csca_files", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Trusted CSCA certificate(s), PEM.")
@click.option("--signer", "signer_files", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Seal signer certificate(s), PEM; the seal names one by its serial number.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(image: Path, csca_files: tuple[Path, ...], signer_files: tuple[Path, ...], as_json: bool) -> None:
    """Find the seal in IMAGE, check its signature and chain to the CSCA, and print its data."""
    cscas, signers = _certificates(csca_files, "--csca"), _certificates(signer_files, "--signer")
    try:
        result = verify_seal(seal_bytes(find_seal_text(load_grey(image))), cscas, signers)
    except SealError as exc:
        raise click.ClickException(f"seal REJECTED: {exc}") from exc
    header = result.header
    report = {"valid": True, "issuing_country": header.issuing_country, "signer": header.signer_id,
              "certificate_reference": header.certificate_reference,
              "signature_date": header.signature_date.isoformat(), **result.fields}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo("seal VALID: signature and chain to the CSCA verified")
    for key, value in report.items():
        if key != "valid":
            click.echo(f"  {key}: {value}")


@click.group(name="card-design")
def card_design() -> None:
    """Card designs (TOML in printing/designs/ or any file): check one, render a sample card."""


@card_design.command("check")
@click.argument("design")
def check_design(design: str) -> None:
    """Validate DESIGN (a name such as 'default' or a .toml path); exit 1 naming the bad element."""
    try:
        loaded = load_design(design)
    except DesignError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = {side: len(loaded.side(side).elements) for side in ("front", "back")}
    click.echo(f"{loaded.name}: valid ({counts['front']} front and {counts['back']} back elements)")


@card_design.command("sample")
@click.argument("design")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--dpi", type=click.Choice(["300", "600"]), default="300", show_default=True)
def sample_card(design: str, out_dir: Path, dpi: str) -> None:
    """Render the sample holder on DESIGN into OUT (front/back PNG, K panels, card.pdf; no seal)."""
    try:
        loaded = load_design(design)
    except DesignError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in render_card(sample_face(), loaded, dpi=int(dpi)).write(out_dir).values():
        click.echo(str(path))
