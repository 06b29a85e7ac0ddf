"""Sample card faces for the demo, the benchmark and training: fixed data, a real portrait."""

from __future__ import annotations

import io
from datetime import date
from functools import lru_cache

from PIL import Image

from enrollment.photo.samples import source
from enrollment.sample_signatures import sample_signature
from printing.card_face import CardFace
from printing.mrz import compose_td1

_NAMES = (
    ("محمد بن زكريا الرازي", "ALRAZY<<MXHMD<BN<ZKRYA", "ALRAZY, MOHAMMED BIN ZAKARIYA", "M"),
    ("فاطمة عبد الله الحسيني", "ALXHSYNY<<FATXTMXAH<EBD<ALLH", "ALHUSSEINI, FATIMA ABDULLAH", "F"),
    ("أبو بكر محمد بن زكريا", "ZKRYA<<ABW<BKR<MXHMD", "ZAKARIYA, ABU BAKR MOHAMMED", "M"),
)


@lru_cache(maxsize=1)
def sample_photo() -> bytes:
    """A JPEG head-and-shoulders crop of the public-domain portrait the enrollment samples use."""
    image = Image.fromarray(source()).crop((120, 0, 392, 350))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def sample_face(seed: int = 0, issuing_state: str = "UTO") -> CardFace:
    """A complete face with a consistent TD1 MRZ; the seed varies the names and numbers."""
    arabic, mrz_name, latin, sex = _NAMES[seed % len(_NAMES)]
    number = f"UT{seed:07d}"
    birth, expiry, issued = date(1985, 3, 14 + seed % 14), date(2036, 11, 27), date(2026, 11, 28)
    national = f"{19850314000 + seed:011d}"
    mrz = compose_td1(document_code="ID", issuing_state=issuing_state, document_number=number,
                      birth_date=birth.strftime("%y%m%d"), sex=sex, expiry_date=expiry.strftime("%y%m%d"),
                      nationality=issuing_state, name=mrz_name, optional1=national)
    return CardFace(document_number=number, arabic_name=arabic, latin_name=latin, national_number=national,
                    sex=sex, birth_date=birth, expiry_date=expiry, issue_date=issued,
                    place_of_birth="بغداد", address="شارع الرشيد ١٢، حي المنصور، بغداد",
                    mrz=mrz, photo=sample_photo(), signature=sample_signature(f"card-{seed}"),
                    nationality=issuing_state)
