"""`issuance card read`: read a card's LDS like a border inspection system and verify it.

BAC and secure messaging (ICAO 9303-11 §4.3, §9.8), passive authentication (§5.1) against CSCA files.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from cryptography import x509

from personalization.capabilities import read_capabilities
from personalization.lds import dg1, dg2, dg11, dg12, profile
from personalization.lds.mrz import Td1, mrz_information
from personalization.protocol import bac
from personalization.protocol.inspection import ChipReport, dump, inspect
from personalization.protocol.pace import PacePassword
from personalization.status_words import CardError, TransportError
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard

EXIT_INVALID = 3  # click keeps 2 for usage errors


def _load_certificates(paths: tuple[Path, ...]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for path in paths:
        data = path.read_bytes()
        try:
            out.extend(x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                       else [x509.load_der_x509_certificate(data)])
        except ValueError as exc:
            raise click.BadParameter(f"{path}: not a certificate ({exc})", param_hint="--csca") from exc
    return out


def _load_crls(paths: tuple[Path, ...]) -> list[x509.CertificateRevocationList]:
    out = []
    for path in paths:
        data = path.read_bytes()
        try:
            pem = b"-----BEGIN" in data
            out.append(x509.load_pem_x509_crl(data) if pem else x509.load_der_x509_crl(data))
        except ValueError as exc:
            raise click.BadParameter(f"{path}: not a CRL ({exc})", param_hint="--crl") from exc
    return out


def _yymmdd(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if len(value) != 6 or not value.isdigit():
        raise click.BadParameter("must be YYMMDD", param_hint=name)
    return value


Access = tuple[PacePassword, bytes | None]


def _access(can: str | None, mrz: str | None, number: str | None, birth: str | None,
            expiry: str | None) -> Access:
    """PACE password and BAC seed from the CAN or the MRZ information (ICAO 9303-11 §4.3, §4.4)."""
    if can is not None:
        try:
            return PacePassword.can(can), None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--can") from exc
    document, born, expires = _mrz_information(mrz, number, birth, expiry)
    return (PacePassword.mrz(document, born, expires),
            bac.key_seed(mrz_information(document, born, expires)))


def _mrz_information(mrz: str | None, number: str | None, birth: str | None, expiry: str | None
                     ) -> tuple[str, str, str]:
    if mrz is not None:
        try:
            td1 = Td1.parse("".join(mrz.split()))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--mrz") from exc
        if not td1.check_digits_valid():
            raise click.BadParameter("a check digit does not match", param_hint="--mrz")
        return td1.document_number, td1.birth_date, td1.expiry_date
    if not (number and birth and expiry):
        raise click.UsageError("give --can, --mrz, or all of --doc-number, --birth and --expiry")
    if not number.isalnum() or len(number) > 9:
        raise click.BadParameter("at most 9 letters or digits", param_hint="--doc-number")
    return number.upper(), birth, expiry


def describe(result: ChipReport) -> dict[str, Any]:
    """Holder data and verdict as JSON-safe values; a file that does not decode is named, not fatal."""
    out: dict[str, Any] = {"verdict": result.verdict.to_dict(),
                           "chip": {"access": result.access, "verdict": result.chip_verdict,
                                    "chip_authentication": result.chip_authentication,
                                    "active_authentication": result.active_authentication}}
    for reader in (_mrz_section, _details_section, _issuing_section, _face_section):
        try:
            out.update(reader(result.files))
        except ValueError as exc:
            out.setdefault("unreadable", []).append(str(exc))
    ds = result.verdict.ds_certificate
    if ds is not None:
        out["document_signer"] = {"subject": ds.subject.rfc4514_string(), "serial": f"{ds.serial_number:x}"}
    return out


def _mrz_section(files: dict[str, bytes]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if profile.DG1.name in files:
        mrz = dg1.parse(files[profile.DG1.name])
        primary, _, secondary = mrz.line3.rstrip("<").partition("<<")
        out["mrz"] = list(mrz.lines)
        out["holder"] = {"primary": primary.replace("<", " "), "secondary": secondary.replace("<", " "),
                         "document_number": mrz.document_number, "birth_date": mrz.birth_date,
                         "expiry_date": mrz.expiry_date, "sex": mrz.line2[7],
                         "nationality": mrz.line2[15:18]}
    return out


def _details_section(files: dict[str, bytes]) -> dict[str, Any]:
    if profile.DG11.name not in files:
        return {}
    details = dg11.parse(files[profile.DG11.name])
    return {"details": {k: v.isoformat() if isinstance(v, date) else v for k, v in vars(details).items()}}


def _issuing_section(files: dict[str, bytes]) -> dict[str, Any]:
    if profile.DG12.name not in files:
        return {}
    issued = dg12.parse(files[profile.DG12.name])
    return {"issuing": {"authority": issued.issuing_authority, "date": issued.date_of_issue.isoformat()}}


def _face_section(files: dict[str, bytes]) -> dict[str, Any]:
    if profile.DG2.name not in files:
        return {}
    face = dg2.parse(files[profile.DG2.name])
    return {"face": {"width": face.width, "height": face.height, "jpeg_bytes": len(face.jpeg)}}


def _print(report: dict[str, Any]) -> None:
    for section in ("holder", "details", "issuing", "face", "document_signer"):
        for key, value in report.get(section, {}).items():
            click.echo(f"{section + '.' + key:28} {value}")
    for line in report.get("mrz", []):
        click.echo(f"{'mrz':28} {line}")
    for check in report["verdict"]["checks"]:
        mark = "ok  " if check["ok"] else "FAIL"
        click.echo(f"{mark} {check['check']}{': ' + check['detail'] if check['detail'] else ''}")
    click.echo("VALID" if report["verdict"]["valid"] else "NOT VALID")


def _transport(reader: str | None, card_file: Path | None) -> Transport:
    if card_file is not None:
        return InProcessTransport(VirtualCard.load(card_file))
    return PcscTransport(reader if reader is not None else 0)


@click.group(name="card")
def card() -> None:
    """Read personalized cards the way an inspection system does."""


@card.command("read")
@click.option("--reader", help="PC/SC reader name (or part of it); default: the first reader.")
@click.option("--card", "card_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Read a virtual card file in-process instead of a reader.")
@click.option("--can", help="Card access number (6 digits printed on the card): PACE.")
@click.option("--mrz", help="The TD1 MRZ (90 characters, line breaks allowed).")
@click.option("--doc-number", help="Document number (with --birth and --expiry).")
@click.option("--birth", help="Date of birth YYMMDD.")
@click.option("--expiry", help="Date of expiry YYMMDD.")
@click.option("--csca", type=click.Path(dir_okay=False, exists=True, path_type=Path), multiple=True,
              help="Trusted CSCA certificate(s), PEM or DER.")
@click.option("--crl", type=click.Path(dir_okay=False, exists=True, path_type=Path), multiple=True,
              help="CRL(s) of the CSCA.")
@click.option("--dump", "dump_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write EF.COM.bin, DG1.bin, ..., EF.SOD.bin here.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def read(reader: str | None, card_file: Path | None, can: str | None, mrz: str | None, doc_number: str | None,
         birth: str | None, expiry: str | None, csca: tuple[Path, ...], crl: tuple[Path, ...],
         dump_dir: Path | None, as_json: bool) -> None:
    """Read the LDS (PACE, else BAC), authenticate the chip (CA, AA), verify the EF.SOD; exit 3 if invalid."""
    password, seed = _access(can, mrz, doc_number, _yymmdd(birth, "--birth"), _yymmdd(expiry, "--expiry"))
    cscas, crls = _load_certificates(csca), _load_crls(crl)
    transport = _transport(reader, card_file)
    try:
        with transport:
            caps = read_capabilities(transport, transport.atr)
            result = inspect(transport, caps, cscas, password, seed, crls)
    except (CardError, TransportError, ValueError) as exc:
        raise click.ClickException(f"cannot read the card: {exc}") from exc
    if not cscas:
        result.verdict.add("CSCA given", False, "pass --csca to check the chain")
    for name, outcome in (("chip authentication", result.chip_authentication),
                          ("active authentication", result.active_authentication)):
        if outcome != "not offered":
            result.verdict.add(name, outcome == "passed", "" if outcome == "passed" else outcome)
    if dump_dir is not None:
        dump(result.files, dump_dir)
    report = describe(result)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        _print(report)
    if not result.verdict.valid:
        sys.exit(EXIT_INVALID)
