"""`issuance photo ...`: check a photo against the ICAO measures, or make the compliant crop."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from PIL import Image

from enrollment.photo.checks import assess_photo
from enrollment.photo.crop import CropError, make_compliant_crop
from enrollment.photo.descriptor import SAME_PERSON_DISTANCE, NoSingleFace, compare, face_descriptor
from enrollment.photo.intake import ImageRejected, decode_image

EXIT_PASS, EXIT_FAIL, EXIT_UNREADABLE = 0, 1, 2


def _load(file: Path) -> Image.Image:
    try:
        return decode_image(file.read_bytes())
    except ImageRejected as exc:
        click.echo(f"unreadable: {exc.reason}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except OSError as exc:
        click.echo(f"unreadable: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_UNREADABLE)


@click.group()
def photo() -> None:
    """Applicant photos: ICAO quality checks and compliant crops."""


@photo.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(file: Path, as_json: bool) -> None:
    """Check FILE; exit 0 if it passes, 1 if a check fails, 2 if it cannot be read."""
    report = assess_photo(_load(file))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for c in report.checks:
            value = "-" if c.value is None else f"{c.value:g}"
            mark = "PASS" if c.passed else "FAIL"
            click.echo(f"{mark}  {c.name:<24} {value:>10}  ({c.threshold})"
                       + ("" if c.passed else f"  {c.reason}"))
        click.echo("photo passes" if report.passed else "photo fails")
    sys.exit(EXIT_PASS if report.passed else EXIT_FAIL)


@photo.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
def crop(file: Path, out: Path) -> None:
    """Write the ICAO 35x45 crop of FILE to OUT (format from OUT's suffix, PNG by default)."""
    try:
        result = make_compliant_crop(_load(file))
    except CropError as exc:
        click.echo(f"cannot crop: {exc.reason}", err=True)
        sys.exit(EXIT_FAIL)
    fmt = "JPEG" if out.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    result.save(out, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    click.echo(f"wrote {out} ({result.width}x{result.height})")


@photo.command(name="compare")
@click.argument("first", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("second", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--threshold", type=float, default=SAME_PERSON_DISTANCE, show_default=True,
              help="Descriptor distance under which the faces are one person.")
def compare_faces(first: Path, second: Path, threshold: float) -> None:
    """1:1: is the face in FIRST the person in SECOND? Exit 0 same, 1 different, 2 unusable."""
    try:
        result = compare(face_descriptor(_load(first)), face_descriptor(_load(second)), threshold)
    except NoSingleFace as exc:
        click.echo(f"unusable: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    verdict = "same person" if result.same_person else "different people"
    click.echo(f"distance {result.distance:.3f} (threshold {threshold:g}): {verdict}")
    sys.exit(EXIT_PASS if result.same_person else EXIT_FAIL)
