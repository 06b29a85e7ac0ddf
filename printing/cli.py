"""`issuance seal verify`: read the visible digital seal from a photo or scan of a card."""

from __future__ import annotations

import json
from pathlib import Path

import click
from cryptography import x509

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
