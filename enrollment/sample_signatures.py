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
    x, points = w * 0.08, []
    loops = rng.randint(5, 9)
    for i in range(loops * 12):
        t = i / 12
        x += w * 0.75 / (loops * 12)
        y = h / 2 + math.sin(t * math.pi * 2) * h * rng.uniform(0.12, 0.3) + rng.uniform(-4, 4)
        points.append((x, y))
    draw.line(points, fill=20, width=5, joint="curve")
    # A flourish under the name, as most people sign.
    y0 = h * 0.78
    draw.line([(w * 0.1, y0), (w * 0.5, y0 + rng.uniform(-15, 15)), (w * 0.85, y0 - 10)],
              fill=30, width=4, joint="curve")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
