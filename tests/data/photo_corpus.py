"""Generate the labelled photo corpus from the NASA astronaut portrait shipped in scikit-image.

Source: skimage.data.astronaut(), "Eileen Collins" official NASA portrait, public domain.
The person is separated from the busy studio background with OpenCV GrabCut and framed
onto plain backgrounds (enrollment.photo.samples); each defect is then applied on its own
to a compliant frame. Run as a script to write the corpus to a folder:
python tests/data/photo_corpus.py OUT.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from real_faces import RealFaces, encodings

from enrollment.photo.samples import (
    PEOPLE,
    PLAIN_BG,
    Frame,
    Person,
    Portraits,
    composite,
    frame,
    jpeg,
    png,
    source,
)

__all__ = ["PEOPLE", "PLAIN_BG", "Corpus", "CorpusSet", "Frame", "Person", "RealFaces", "bad_files",
           "encodings", "jpeg", "png", "write"]


class Corpus(Portraits):
    """Builds the good photos and one photo per defect from the segmented source."""

    def goods(self) -> dict[str, np.ndarray]:
        """Compliant photos varying size, head size, position and background shade."""
        return {
            "good_default": self.good(),
            "good_small_head": self.good(Frame(head_ratio=0.72, top_margin=0.07)),
            "good_large_head": self.good(Frame(head_ratio=0.78, top_margin=0.05)),
            "good_white_bg": self.good(colour=(248, 248, 248)),
            "good_grey_bg": self.good(colour=(214, 216, 218)),
            "good_600x771": self.good(Frame(width=600, height=771)),
            "good_shift_left": self.good(Frame(centre_x=0.48)),
            "good_tilt_1deg": self.good(Frame(roll_deg=1.0)),
            "good_mirrored": self.good()[:, ::-1].copy(),
        }

    def defects(self) -> dict[str, tuple[str, np.ndarray | bytes]]:
        """Defect name -> (the check expected to catch it, image or encoded bytes)."""
        base = self.good().astype(np.float32)
        f = Frame()

        def tone(fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
            return np.clip(fn(base), 0, 255).astype(np.uint8)

        mean = base.mean()
        width = base.shape[1]
        # Side light: the face darkens from its lit half to its far half.
        side = np.interp(np.arange(width), [0.3 * width, 0.7 * width], [1.05, 0.5])[None, :, None]
        busy = _busy_background(self.img.shape)
        coloured = (150, 190, 235)
        second = cv2.resize(self.good(), (150, 193), interpolation=cv2.INTER_AREA)
        two = self.good(Frame(head_ratio=0.6, centre_x=0.36, top_margin=0.12))
        two[20:213, 265:415] = second
        no_face = frame(self.on(PLAIN_BG), Frame(head_ratio=0.75, top_margin=-1.3), PLAIN_BG)
        return {
            "too_small": ("head_height", self.good(Frame(head_ratio=0.5, top_margin=0.15))),
            "too_large": ("head_height", self.good(Frame(head_ratio=0.9, top_margin=0.03))),
            "off_centre": ("centring", self.good(Frame(centre_x=0.35))),
            "rotated_5": ("roll", self.good(Frame(roll_deg=5))),
            "rotated_10": ("roll", self.good(Frame(roll_deg=-10))),
            "rotated_20": ("roll", self.good(Frame(roll_deg=20))),
            "blurred": ("sharpness", cv2.GaussianBlur(self.good(), (0, 0), 3.0)),
            "underexposed": ("exposure", tone(lambda a: a * 0.35)),
            "overexposed": ("exposure", tone(lambda a: a * 1.45 + 45)),
            "low_contrast": ("contrast", tone(lambda a: mean + (a - mean) * 0.3)),
            "uneven_light": ("illumination_uniformity", tone(lambda a: a * side)),
            "busy_background": ("background_uniformity", frame(
                composite(self.img, self.alpha, busy), f, PLAIN_BG)),
            "coloured_background": ("background_colour", self.good(colour=coloured)),
            "dark_background": ("background_brightness", self.good(colour=(105, 105, 105))),
            "colour_cast_warm": ("colour_cast", tone(lambda a: a * np.array([1.0, 0.88, 0.62]))),
            "colour_cast_blue": ("colour_cast", tone(lambda a: a * np.array([0.68, 0.85, 1.0]))),
            "heavy_jpeg": ("blockiness", jpeg(self.good(), quality=4)),
            "two_faces": ("face_count", two),
            "no_face": ("face_count", no_face),
            "cropped_head": ("head_in_frame", self.good(Frame(top_margin=-0.12))),
        }


def _busy_background(shape: tuple[int, ...]) -> np.ndarray:
    """A light, neutral but busy backdrop (brick wall texture from scikit-image)."""
    from skimage import data

    brick = cv2.resize(data.brick(), (shape[1], shape[0])).astype(np.float32)
    light = 150 + (brick - brick.mean()) * 1.6 + 40
    return np.repeat(np.clip(light, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def bad_files() -> dict[str, bytes]:
    """Files that must be rejected at intake: truncated, empty, bombs, lies about their type."""
    good = jpeg(source())
    return {
        "truncated.jpg": good[: len(good) // 2],
        "zero.jpg": b"",
        "bomb.png": _png_bomb(20_000, 20_000),
        "text.jpg": b"This is not a picture, only text with a .jpg name.\n" * 20,
        "huge_header.jpg": _jpeg_with_size(good, 60_000, 60_000),
        "huge_header.png": _png_header_only(100_000, 100_000),
    }


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
        ">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def _png_bomb(width: int, height: int) -> bytes:
    """A real, complete grey PNG that inflates to width*height bytes (small on disk)."""
    row = b"\x00" + b"\x00" * width
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(
        b"IEND", b"")


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(
        b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b"")


def _jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame header (SOF0) of a JPEG to claim another size."""
    i = data.index(b"\xff\xc0")
    return data[: i + 5] + struct.pack(">HH", height, width) + data[i + 9:]


def write_sets(
    out: Path,
    goods: dict[str, np.ndarray],
    defects: dict[str, tuple[str, np.ndarray | bytes]],
    bad: dict[str, bytes],
) -> None:
    """Write the sets as files under `out`: good/NAME.png, defect/NAME__CHECK.ext, bad/NAME."""
    for sub in ("good", "defect", "bad"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for name, arr in goods.items():
        (out / "good" / f"{name}.png").write_bytes(png(arr))
    for name, (check, item) in defects.items():
        data = item if isinstance(item, bytes) else png(item)
        suffix = "jpg" if isinstance(item, bytes) else "png"
        (out / "defect" / f"{name}__{check}.{suffix}").write_bytes(data)
    for name, data in bad.items():
        (out / "bad" / name).write_bytes(data)


@dataclass(frozen=True)
class CorpusSet:
    """The good photos, the labelled defects and the bad files, in memory and on disk."""

    goods: dict[str, np.ndarray]
    defects: dict[str, tuple[str, np.ndarray | bytes]]
    bad_files: dict[str, bytes]
    folder: Path
    maker: Corpus

    @classmethod
    def build(cls, folder: Path) -> CorpusSet:
        maker = Corpus()
        goods, defects, bad = maker.goods(), maker.defects(), bad_files()
        write_sets(folder, goods, defects, bad)
        return cls(goods, defects, bad, folder, maker)

    def image(self, item: np.ndarray | bytes) -> Image.Image:
        """A corpus item as a PIL image (encoded items decoded as Pillow would)."""
        return Image.open(io.BytesIO(item)).convert("RGB") if isinstance(item, bytes) else (
            Image.fromarray(item))


def write(out: Path) -> None:
    """Generate and write the whole corpus: the astronaut sets, then real-faces/{good,defect}."""
    corpus = Corpus()
    write_sets(out, corpus.goods(), corpus.defects(), bad_files())
    for sub in ("good", "defect"):
        (out / "real-faces" / sub).mkdir(parents=True, exist_ok=True)
    for person in PEOPLE:
        faces = RealFaces(person)
        for name, data in faces.goods().items():
            suffix = "png" if "png" in name else "jpg"
            (out / "real-faces" / "good" / f"{name}.{suffix}").write_bytes(data)
        for name, (check, arr) in faces.defects().items():
            (out / "real-faces" / "defect" / f"{name}__{check}.png").write_bytes(png(arr))


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "photo-corpus"))
