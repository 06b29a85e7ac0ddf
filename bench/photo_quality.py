"""Benchmark: milliseconds per photo for assess_photo on 600x800 and 1800x2400 JPEGs, one core.

Run: .venv/bin/python bench/photo_quality.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))

import photo_corpus  # noqa: E402

from enrollment.photo.checks import assess_photo  # noqa: E402
from enrollment.photo.intake import decode_image  # noqa: E402

SIZES = ((600, 800), (1800, 2400))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    corpus = photo_corpus.Corpus()
    print(f"{'size':>10} {'stage':>16} {'median ms':>10} {'p95 ms':>8}  verdict")
    for width, height in SIZES:
        spec = photo_corpus.Frame(width=width, height=height)
        data = photo_corpus.jpeg(corpus.good(spec), quality=90)
        image = decode_image(data)
        assess_photo(image)  # warm the cascades
        assess_ms, total_ms = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            img = decode_image(data)
            t1 = time.perf_counter()
            report = assess_photo(img)
            t2 = time.perf_counter()
            assess_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        verdict = "pass" if report.passed else f"fail {report.failed()}"
        for stage, values in (("assess", assess_ms), ("decode+assess", total_ms)):
            print(f"{width}x{height:<5} {stage:>16} {statistics.median(values):10.1f} "
                  f"{_percentile(values, 0.95):8.1f}  {verdict}")


if __name__ == "__main__":
    main()
