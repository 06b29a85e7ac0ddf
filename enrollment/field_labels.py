"""What each applicant field is called on the counter's screens, in English and Arabic."""

from __future__ import annotations

from enrollment.application_kind import KIND_FIELDS
from enrollment.fields import ARABIC_NAME_FIELDS, FIELD_NAMES, LATIN_NAME_FIELDS

# Keyed by the names `validate_applicant` and `validate_kind` use; a test checks none is missing.
LABELS: dict[str, tuple[str, str]] = {
    "mrz_name": ("Name in the MRZ", "الاسم في منطقة القراءة الآلية"),
    "national_number": ("National number", "الرقم الوطني"),
    "birth_date": ("Date of birth", "تاريخ الميلاد"),
    "sex": ("Sex", "الجنس"),
    "nationality": ("Nationality", "الجنسية"),
    "issuing_state": ("Issuing state", "الدولة المصدرة"),
    "address": ("Address", "العنوان"),
    "kind": ("Application", "نوع الطلب"),
    "replacement_reason": ("Reason for replacement", "سبب البدل"),
    "replaces_card": ("Number of the card replaced", "رقم البطاقة السابقة"),
    "first_name_ar": ("First name (Arabic)", "الاسم الأول"),
    "father_name_ar": ("Father's name (Arabic)", "اسم الأب"),
    "grandfather_name_ar": ("Grandfather's name (Arabic)", "اسم الجد"),
    "family_name_ar": ("Family name (Arabic)", "اسم العائلة"),
    "given_names_latin": ("Given names (Latin)", "الأسماء باللاتينية"),
    "surname_latin": ("Surname (Latin)", "اسم العائلة باللاتينية"),
    "birth_place": ("Place of birth", "مكان الميلاد"),
}

# The choices of the fields that take one of a few codes.
CHOICES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "sex": (("", "—", "—"), ("M", "Male", "ذكر"), ("F", "Female", "أنثى"), ("X", "Unspecified", "غير محدد")),
    "kind": (("first_issue", "First card", "إصدار أول"), ("renewal", "Renewal", "تجديد"),
             ("replacement", "Replacement", "بدل فاقد أو تالف")),
    "replacement_reason": (("", "—", "—"), ("lost", "Lost", "مفقودة"), ("stolen", "Stolen", "مسروقة"),
                           ("damaged", "Damaged", "تالفة")),
}

# The form's reading order: what the application is for, the names, then the other fields.
_FIRST = (*KIND_FIELDS, *ARABIC_NAME_FIELDS, *LATIN_NAME_FIELDS)
FORM_FIELDS = (*_FIRST, *(name for name in FIELD_NAMES if name not in _FIRST))


def label(field: str, language: str) -> str:
    """The field's label in `language` ("ar" or "en"); the field name itself if none is known."""
    en, ar = LABELS.get(field, (field.replace("_", " ").capitalize(), field))
    return ar if language == "ar" else en


def choice_label(field: str, code: str, language: str) -> str:
    """The words for one of a field's codes ("M" -> "Male"); the code itself if it has none."""
    for value, en, ar in CHOICES.get(field, ()):
        if value == code and value:
            return ar if language == "ar" else en
    return code
