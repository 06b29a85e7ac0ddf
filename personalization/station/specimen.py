"""Specimen holder and document (ICAO test state UTO) for self-test, training, tests and benches."""

from __future__ import annotations

import io
import os
from datetime import date

from PIL import Image

from personalization.lds.holder import DocumentData, HolderData


def jpeg(size: tuple[int, int], target_bytes: int = 0) -> bytes:
    """A noise JPEG of at most target_bytes (the highest quality that fits), or quality 90 without one."""
    width, height = size
    noise = Image.frombytes("RGB", size, os.urandom(width * height * 3))

    def encode(quality: int) -> bytes:
        buf = io.BytesIO()
        noise.save(buf, "JPEG", quality=quality)
        return buf.getvalue()

    if not target_bytes:
        return encode(90)
    low, high, best = 1, 95, encode(1)
    while low <= high:
        mid = (low + high) // 2
        data = encode(mid)
        if len(data) <= target_bytes:
            best, low = data, mid + 1
        else:
            high = mid - 1
    return best


def holder(face_bytes: int = 20_000) -> HolderData:
    return HolderData(
        mrz_name="ALRAZY<<ABW<BKR<MXHMD",
        full_name_arabic="أبو بكر محمد بن زكريا الرازي",
        birth_date=date(1985, 7, 12),
        sex="M",
        nationality="UTO",
        personal_number="198507120011",
        place_of_birth="الري",
        address="12 شارع الجامعة، المدينة",
        face_jpeg=jpeg((240, 320), face_bytes),
        signature_jpeg=jpeg((300, 80), 3_000),
    )


def document(number: str = "D23145890") -> DocumentData:
    return DocumentData(
        document_number=number,
        issuing_state="UTO",
        issue_date=date(2026, 11, 1),
        expiry_date=date(2036, 10, 31),
        issuing_authority="Civil Status Department / دائرة الأحوال المدنية",
    )
