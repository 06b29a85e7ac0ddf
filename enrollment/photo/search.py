"""1:N face search (deduplication): a port with exact numpy search and a FAISS index (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from enrollment.photo.descriptor import DIMENSIONS


@dataclass(frozen=True)
class Hit:
    """One enrolled face near the probe: its key (application id) and the Euclidean distance."""

    key: int
    distance: float


class FaceIndex(Protocol):
    """Enrolled descriptors by key; rebuilt from the database, which stays the truth."""

    def add(self, keys: Iterable[int], vectors: np.ndarray) -> None:
        """Add descriptors (n x 128 float32) under their keys."""

    def search(self, probe: np.ndarray, k: int = 5, max_distance: float = float("inf")) -> list[Hit]:
        """The k nearest enrolled faces within max_distance, nearest first."""

    def __len__(self) -> int:
        """How many descriptors are enrolled."""


def _check(vectors: np.ndarray) -> np.ndarray:
    raw = np.asarray(vectors, np.float32)
    if raw.size == 0 or raw.size % DIMENSIONS or raw.shape[-1] != DIMENSIONS:
        raise ValueError(f"face descriptors must be rows of {DIMENSIONS} numbers, got shape {raw.shape}")
    arr = np.ascontiguousarray(raw.reshape(-1, DIMENSIONS))
    if not np.isfinite(arr).all():
        raise ValueError("face descriptors must be finite numbers")
    return arr


class NumpyIndex:
    """Exact search in numpy: the embedded default, fine to about a million faces."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, np.int64)
        self._vectors = np.zeros((0, DIMENSIONS), np.float32)
        self._norms = np.zeros(0, np.float32)

    def add(self, keys: Iterable[int], vectors: np.ndarray) -> None:
        """Add descriptors under their keys."""
        arr = _check(vectors)
        ids = np.fromiter(keys, np.int64, count=len(arr))
        self._keys = np.concatenate([self._keys, ids])
        self._vectors = np.concatenate([self._vectors, arr])
        self._norms = np.concatenate([self._norms, np.einsum("ij,ij->i", arr, arr)])

    def search(self, probe: np.ndarray, k: int = 5, max_distance: float = float("inf")) -> list[Hit]:
        """Exact k nearest by |a-b|^2 = |a|^2 - 2ab + |b|^2 (one matrix-vector product)."""
        if not len(self._keys):
            return []
        q = _check(probe)[0]
        d2 = self._norms - 2 * (self._vectors @ q) + float(q @ q)
        k = min(k, len(d2))
        top = np.argpartition(d2, k - 1)[:k]
        top = top[np.argsort(d2[top])]
        hits = [Hit(int(self._keys[i]), float(np.sqrt(max(d2[i], 0.0)))) for i in top]
        return [h for h in hits if h.distance <= max_distance]

    def __len__(self) -> int:
        return len(self._keys)


class FaissIndex:
    """FAISS (faiss-cpu) for large populations: exact flat L2, or an inverted file when `approximate`.

    The approximate index learns its cells from the first batch it is given (the database's rows
    when a gallery is built) if that batch is big enough; a smaller first batch keeps it exact.
    Each probe then scans `nprobe` of about 4*sqrt(n) cells (at most 1024) instead of every face.
    """

    MIN_TRAIN = 20_000
    TRAIN_SAMPLE = 40

    def __init__(self, approximate: bool = False, nprobe: int = 16) -> None:
        import faiss  # optional at import time: only this implementation needs it

        self._faiss = faiss
        self._approximate = approximate
        self._nprobe = nprobe
        self._index = faiss.IndexIDMap(faiss.IndexFlatL2(DIMENSIONS))

    def _inverted_file(self, sample: np.ndarray) -> Any:
        faiss = self._faiss
        cells = max(16, min(1024, int(4 * np.sqrt(len(sample)))))
        quantizer = faiss.IndexFlatL2(DIMENSIONS)
        ivf = faiss.IndexIVFFlat(quantizer, DIMENSIONS, cells)
        # k-means on a sample: 40 points per cell place the cells (FAISS asks for 39).
        rng = np.random.default_rng(0)
        take = min(len(sample), cells * self.TRAIN_SAMPLE)
        ivf.train(sample[rng.choice(len(sample), size=take, replace=False)])
        ivf.nprobe = self._nprobe
        ivf.own_fields = True
        quantizer.this.disown()
        return faiss.IndexIDMap(ivf)

    def add(self, keys: Iterable[int], vectors: np.ndarray) -> None:
        """Add descriptors under their keys."""
        arr = _check(vectors)
        if self._approximate and self._index.ntotal == 0 and len(arr) >= self.MIN_TRAIN:
            self._index = self._inverted_file(arr)
        self._index.add_with_ids(arr, np.fromiter(keys, np.int64, count=len(arr)))

    def search(self, probe: np.ndarray, k: int = 5, max_distance: float = float("inf")) -> list[Hit]:
        """The k nearest (FAISS returns squared L2 distances)."""
        if not self._index.ntotal:
            return []
        d2, ids = self._index.search(_check(probe), min(k, self._index.ntotal))
        pairs = zip(d2[0], ids[0], strict=True)
        hits = [Hit(int(i), float(np.sqrt(max(d, 0.0)))) for d, i in pairs if i >= 0]
        return [h for h in hits if h.distance <= max_distance]

    def __len__(self) -> int:
        return int(self._index.ntotal)


def make_index(kind: str = "numpy") -> FaceIndex:
    """The configured implementation (`face_search`: numpy, faiss or faiss-ivf)."""
    if kind == "numpy":
        return NumpyIndex()
    if kind in ("faiss", "faiss-ivf"):
        return FaissIndex(approximate=kind == "faiss-ivf")
    raise ValueError(f"face_search must be numpy, faiss or faiss-ivf, not {kind!r}")
