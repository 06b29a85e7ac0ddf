"""What goes on one application's chip: HolderData and DocumentData from the core's records (ICAO 9303-5).

The holder comes from the application's Person, its reviewed MRZ name and the chip JPEG and
signature sealed in the vault; the document from the card's allocated number and the issue date.
"""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image
from sqlalchemy.orm import Session

from issuance.biometrics import load_biometric
from issuance.models import Application, BiometricKind
from issuance.vault import Vault
from personalization.lds.holder import DocumentData, HolderData, LdsInputError
from personalization.station.steps import CardOrder

ISSUING_AUTHORITY = "Civil Status Department / دائرة الأحوال المدنية"
VALIDITY_YEARS = 10
DOCUMENT_PREFIX = "C"  # document numbers are C + the card row's id: a spoiled card's number is never reused
SIGNATURE_QUALITY = 85


def document_number(card_id: int) -> str:
    """A 9-character TD1 document number (ICAO 9303-5 §4.2.2), unique because the card id is."""
    return f"{DOCUMENT_PREFIX}{card_id:08d}"


def expiry(issued: dt.date, years: int = VALIDITY_YEARS) -> dt.date:
    """The day before the issue date's anniversary (29 February issues expire on 28 February)."""
    try:
        anniversary = issued.replace(year=issued.year + years)
    except ValueError:
        anniversary = issued.replace(year=issued.year + years, day=28)
    return anniversary - dt.timedelta(days=1)


def _jpeg(image: bytes) -> bytes:
    """DG7 holds a JPEG (ICAO 9303-10 §4.7.7): enrollment keeps the binarised signature as PNG."""
    if image.startswith(b"\xff\xd8"):
        return image
    with Image.open(io.BytesIO(image)) as source:
        buffer = io.BytesIO()
        source.convert("L").save(buffer, "JPEG", quality=SIGNATURE_QUALITY)
    return buffer.getvalue()


def _image(session: Session, vault: Vault, application_id: int, kind: BiometricKind) -> bytes:
    found = load_biometric(session, vault, application_id, kind)
    if found is None:
        raise LdsInputError(kind.value, "not captured at enrollment")
    return found


def card_order(session: Session, vault: Vault, application: Application, number: str, issued: dt.date,
               issuing_state: str) -> CardOrder:
    """The chip's content for `application` on the card numbered `number`; LdsInputError names a bad field."""
    applicant = application.applicant
    person = applicant.person
    holder = HolderData(
        mrz_name=applicant.mrz_name.rstrip("<"),
        full_name_arabic=person.full_name_ar,
        birth_date=person.birth_date,
        sex=str(person.sex),
        nationality=person.nationality,
        personal_number=person.national_number,
        place_of_birth=person.birth_place,
        address=person.address,
        face_jpeg=_image(session, vault, application.id, BiometricKind.CHIP_PHOTO),
        signature_jpeg=_jpeg(_image(session, vault, application.id, BiometricKind.SIGNATURE)),
    )
    document = DocumentData(document_number=number, issuing_state=issuing_state, issue_date=issued,
                            expiry_date=expiry(issued), issuing_authority=ISSUING_AUTHORITY)
    return CardOrder(document, holder)
