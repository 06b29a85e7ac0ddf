"""Benchmark: milliseconds per photo for assess_photo (with dlib landmarks) on real faces, one core.

Sizes 600x800 (the target: median <= 30 ms) and 1800x2400; detection runs on a downscaled copy.
Run: .venv/bin/python bench/photo_quality.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np

from enrollment.photo import landmarks
from enrollment.photo.checks import assess_photo
from enrollment.photo.intake import decode_image
from enrollment.photo.samples import PEOPLE, Frame, Portraits, jpeg
from enrollment.photo.thresholds import DEFAULT_THRESHOLDS, Thresholds

SIZES = ((600, 800), (1800, 2400))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _stages(data: bytes, runs: int, t68: Thresholds) -> dict[str, list[float]]:
    image = decode_image(data)
    gray = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2GRAY)
    assess_photo(image)  # warm the models
    assess_photo(image, t68)
    return {
        "detect+5 landmarks": _time(lambda: landmarks.find_landmarks(gray, "5"), runs),
        "assess (5-point)": _time(lambda: assess_photo(image), runs),
        "assess (68-point)": _time(lambda: assess_photo(image, t68), runs),
        "decode+assess": _time(lambda: assess_photo(decode_image(data)), runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    t68 = DEFAULT_THRESHOLDS.with_overrides(landmarks="68")
    print(f"{'person':>13} {'size':>10} {'stage':>22} {'median ms':>10} {'p95 ms':>8}  verdict")
    for person in PEOPLE:
        portraits = Portraits(person)
        for width, height in SIZES:
            data = jpeg(portraits.good(Frame(width=width, height=height)), quality=90)
            report = assess_photo(decode_image(data))
            stages = _stages(data, args.runs, t68)
            verdict = "pass" if report.passed else f"fail {report.failed()}"
            for stage, values in stages.items():
                print(f"{person.name:>13} {width}x{height:<5} {stage:>22} {statistics.median(values):10.1f} "
                      f"{_percentile(values, 0.95):8.1f}  {verdict}")


if __name__ == "__main__":
    main()
