"""Safe decoding: bad files rejected cleanly, odd but valid images normalised."""

from __future__ import annotations

import io

import numpy as np
import pytest
from photo_corpus import CorpusSet
from PIL import Image

from enrollment.photo.intake import ImageRejected, IntakeLimits, decode_image

EXPECTED_CODES = {
    "truncated.jpg": "corrupt",
    "zero.jpg": "empty",
    "bomb.png": "too_many_pixels",
    "text.jpg": "not_an_image",
    "huge_header.jpg": "too_many_pixels",
    "huge_header.png": "too_many_pixels",
}


@pytest.mark.parametrize("name", sorted(EXPECTED_CODES))
def test_bad_file_is_rejected_with_a_reason(name: str, corpus: CorpusSet) -> None:
    with pytest.raises(ImageRejected) as err:
        decode_image(corpus.bad_files[name])
    assert err.value.code == EXPECTED_CODES[name]
    assert err.value.reason


def _encode(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


@pytest.fixture(scope="module")
def sample(corpus: CorpusSet) -> Image.Image:
    return Image.fromarray(corpus.goods["good_default"])


def test_size_cap_is_checked_before_decoding(sample: Image.Image) -> None:
    data = _encode(sample, "PNG")
    with pytest.raises(ImageRejected) as err:
        decode_image(data, IntakeLimits(max_bytes=len(data) - 1))
    assert err.value.code == "file_too_large"


def test_exif_orientation_is_applied(sample: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated; viewers turn it 90 degrees clockwise
    stored = sample.transpose(Image.Transpose.ROTATE_90)
    out = decode_image(_encode(stored, "JPEG", exif=exif, quality=95))
    assert out.size == sample.size
    diff = np.abs(np.asarray(out, np.int16) - np.asarray(sample, np.int16)).mean()
    assert diff < 6


def test_cmyk_jpeg_becomes_rgb(sample: Image.Image) -> None:
    out = decode_image(_encode(sample.convert("CMYK"), "JPEG", quality=95))
    assert out.mode == "RGB"
    assert abs(np.asarray(out).mean() - np.asarray(sample).mean()) < 10


def test_alpha_is_composited_on_white(sample: Image.Image) -> None:
    rgba = sample.convert("RGBA")
    rgba.putalpha(0)
    out = decode_image(_encode(rgba, "PNG"))
    assert out.mode == "RGB" and np.asarray(out).min() == 255


def test_palette_png_with_transparency(sample: Image.Image) -> None:
    pal = sample.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    out = decode_image(_encode(pal, "PNG", transparency=0))
    assert out.mode == "RGB" and out.size == sample.size


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    ramp = (np.linspace(0, 65535, 256 * 256).reshape(256, 256)).astype(np.uint16)
    out = decode_image(_encode(Image.fromarray(ramp), "PNG"))
    arr = np.asarray(out)
    assert arr.min() == 0 and arr.max() == 255 and 120 < arr.mean() < 135


def test_jpeg2000_is_read(sample: Image.Image) -> None:
    out = decode_image(_encode(sample, "JPEG2000"))
    assert out.size == sample.size


def test_other_formats_are_refused(sample: Image.Image) -> None:
    with pytest.raises(ImageRejected) as err:
        decode_image(_encode(sample, "BMP"))
    assert err.value.code == "format"


def test_tiny_image_is_refused() -> None:
    with pytest.raises(ImageRejected) as err:
        decode_image(_encode(Image.new("RGB", (20, 20)), "PNG"))
    assert err.value.code == "too_small"
