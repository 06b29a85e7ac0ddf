"""Benchmark: 1:N face search time per query, numpy exact vs FAISS, on synthetic descriptors, one core.

Synthetic descriptors are unit-scaled random 128-d vectors (dlib descriptors have a norm near 1);
each probe is an enrolled vector plus noise, so the right answer is known. Target: <= 50 ms per
query at 1,000,000. Run: .venv/bin/python bench/face_search.py [--sizes 100000 1000000] [--queries N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from enrollment.photo.search import FaceIndex, FaissIndex, NumpyIndex


def _vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=(n, 128)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def _bench(index: FaceIndex, probes: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    times, hits = [], 0
    for probe, want in zip(probes, truth, strict=True):
        t0 = time.perf_counter()
        found = index.search(probe, k=5)
        times.append((time.perf_counter() - t0) * 1000)
        hits += bool(found) and found[0].key == want
    ordered = sorted(times)
    return statistics.median(times), ordered[int(0.95 * (len(ordered) - 1))], hits / len(truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(1)
    print(f"{'faces':>10} {'index':>14} {'build s':>8} {'median ms':>10} {'p95 ms':>8} {'top-1':>6}")
    for n in args.sizes:
        vectors = _vectors(n, rng)
        picks = rng.choice(n, size=args.queries, replace=False)
        probes = vectors[picks] + rng.normal(scale=0.02, size=(args.queries, 128)).astype(np.float32)
        for name, make in (("numpy exact", NumpyIndex), ("faiss flat", FaissIndex),
                           ("faiss ivf", lambda: FaissIndex(approximate=True))):
            index = make()
            t0 = time.perf_counter()
            index.add(range(n), vectors)
            build = time.perf_counter() - t0
            median, p95, top1 = _bench(index, probes, picks)
            print(f"{n:>10} {name:>14} {build:8.1f} {median:10.2f} {p95:8.2f} {top1:6.2f}")
            del index


if __name__ == "__main__":
    main()
