"""Sample handwritten signatures for the demo and training: pen strokes drawn from a seed."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw

PAD_SIZE = (900, 300)  # a pen pad's capture area, landscape


def sample_signature(seed: str, size: tuple[int, int] = PAD_SIZE) -> bytes:
    """PNG of a signature-like pen trace on white, the same for the same seed."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    # A prolate cycloid writes loops like joined cursive letters; heights vary per letter.
    loops = rng.randint(6, 10)
    step = w * 0.75 / (loops * 2 * math.pi)
    points, heights = [], [rng.uniform(0.6, 1.4) for _ in range(loops + 1)]
    for i in range(loops * 40):
        t = i / 40 * 2 * math.pi
        r = h * 0.16 * heights[int(t // (2 * math.pi))]
        x = w * 0.1 + step * t - r * 0.5 * math.sin(t) + (h / 2 - r * math.cos(t)) * 0.25
        points.append((x, h / 2 - r * math.cos(t)))
    draw.line(points, fill=20, width=5, joint="curve")
    # A flourish under the name, as most people sign.
    y0 = h * 0.78
    draw.line([(w * 0.1, y0), (w * 0.5, y0 + rng.uniform(-15, 15)), (w * 0.85, y0 - 10)],
              fill=30, width=4, joint="curve")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
