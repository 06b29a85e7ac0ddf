"""Signature intake from a scan and from a pen pad."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from enrollment.photo.intake import ImageRejected
from enrollment.signature import SIGNATURE_BOX, SignatureRejected, prepare_signature


def _scribble(size: tuple[int, int], ink: int, paper: int, offset: tuple[int, int]) -> Image.Image:
    img = Image.new("L", size, paper)
    draw = ImageDraw.Draw(img)
    ox, oy = offset
    points = [(ox + i * 12, oy + int(40 * np.sin(i / 3))) for i in range(40)]
    draw.line(points, fill=ink, width=6)
    draw.line([(ox, oy + 60), (ox + 460, oy + 50)], fill=ink, width=4)
    return img


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def test_scan_is_cropped_to_ink_and_fits_the_box() -> None:
    scan = _scribble((1600, 1000), ink=40, paper=235, offset=(700, 500))
    # Scanner noise: a grey speck far from the signature must not widen the crop.
    ImageDraw.Draw(scan).point([(50, 50)], fill=60)
    out = _decode(prepare_signature(_png(scan)))
    assert out.shape == (SIGNATURE_BOX[1], SIGNATURE_BOX[0])
    ink_cols = np.nonzero((out < 128).any(axis=0))[0]
    ink_rows = np.nonzero((out < 128).any(axis=1))[0]
    # The signature is wider than tall, so it spans the box width (minus the margin).
    assert ink_cols.min() <= 8 and ink_cols.max() >= SIGNATURE_BOX[0] - 9
    assert ink_rows.min() > 0 and ink_rows.max() < SIGNATURE_BOX[1] - 1
    # Binarised: paper is pure white, strokes pure black apart from their scaled edges.
    assert ((out == 0) | (out == 255)).mean() > 0.9 and (out == 0).any()


def test_pen_pad_with_transparent_background() -> None:
    ink = _scribble((800, 300), ink=0, paper=255, offset=(100, 100))
    rgba = Image.new("RGBA", ink.size, (0, 0, 0, 0))
    rgba.putalpha(Image.eval(ink, lambda v: 255 - v))
    out = _decode(prepare_signature(_png(rgba)))
    assert (out < 128).mean() > 0.01


def test_light_ink_on_dark_pad_is_inverted() -> None:
    out = _decode(prepare_signature(_png(_scribble((800, 300), ink=230, paper=20,
                                                   offset=(100, 100)))))
    assert out[0, 0] == 255 and (out < 128).mean() > 0.01


def test_blank_page_is_rejected() -> None:
    with pytest.raises(SignatureRejected, match="no signature"):
        prepare_signature(_png(Image.new("L", (600, 200), 240)))


def test_undecodable_upload_is_rejected_by_intake() -> None:
    with pytest.raises(ImageRejected):
        prepare_signature(b"not an image")
