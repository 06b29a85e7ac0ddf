"""Safe decoding of uploaded images: caps, truncation, orientation, colour modes (DESIGN §8)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "JPEG2000"})


@dataclass(frozen=True)
class IntakeLimits:
    """Bounds checked before any pixel is decoded."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 12_000
    min_side: int = 64


DEFAULT_LIMITS = IntakeLimits()


class ImageRejected(ValueError):
    """The upload is not an image we accept; `code` is stable, `reason` is for the clerk."""

    def __init__(self, code: str, reason: str, status: int = 422) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.status = status


# What each declared media type promises, and the signature (magic number) each format starts with.
DECLARED_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/jp2": "JPEG2000"}
UNDECLARED = frozenset({"", "application/octet-stream"})
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),
    (b"\xff\x4f\xff\x51", "JPEG2000"),
)


def sniff_format(data: bytes) -> str | None:
    """The image format the bytes start with, from their signature alone (no decoding)."""
    return next((fmt for magic, fmt in _MAGIC if data.startswith(magic)), None)


def check_declared_type(content_type: str | None, data: bytes) -> None:
    """Refuse (415) a body whose declared Content-Type is not an image type or names another format."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in UNDECLARED:
        return
    expected = DECLARED_FORMATS.get(declared)
    if expected is None:
        raise ImageRejected("media_type", f"Content-Type {declared} is not an image type we accept", 415)
    found = sniff_format(data)
    if found != expected:
        raise ImageRejected(
            "media_type", f"declared {declared} but the file is {found or 'not an image we know'}", 415)


def _flatten(img: Image.Image) -> Image.Image:
    """Any mode to 8-bit RGB; transparency is composited onto white, as a print would show it."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr * 255.0 / peak, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" or img.mode == "PA":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(base, rgba)
    return img.convert("RGB")


def decode_image(data: bytes, limits: IntakeLimits = DEFAULT_LIMITS) -> Image.Image:
    """Decode bytes to an upright RGB image or raise ImageRejected; nothing partial gets through."""
    if not data:
        raise ImageRejected("empty", "the file is empty")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            "file_too_large", f"the file is {len(data)} bytes; the limit is {limits.max_bytes}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            "too_many_pixels", f"the image claims more than {limits.max_pixels} pixels"
        ) from None
    except UnidentifiedImageError:
        raise ImageRejected("not_an_image", "the file is not a JPEG, PNG or JPEG 2000 image") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected("not_an_image", f"the file cannot be read as an image ({exc})") from None
    if img.format not in ALLOWED_FORMATS:
        raise ImageRejected("format", f"{img.format} images are not accepted; use JPEG or PNG")
    width, height = img.size
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"the image claims {width}x{height} pixels; the limit is {limits.max_pixels} pixels "
            f"and {limits.max_side} per side",
        )
    if min(width, height) < limits.min_side:
        raise ImageRejected(
            "too_small", f"the image is {width}x{height}; at least {limits.min_side} per side"
        )
    try:
        # load() raises on truncated data because ImageFile.LOAD_TRUNCATED_IMAGES stays False.
        img.load()
        upright: Image.Image = ImageOps.exif_transpose(img) or img
        return _flatten(upright)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageRejected("corrupt", f"the image data is damaged or incomplete ({exc})") from None
