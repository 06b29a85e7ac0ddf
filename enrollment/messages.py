"""Bilingual (English, Arabic) messages for each validation rule."""

from __future__ import annotations

# Templates take keyword arguments from the rule that failed.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("is required", "حقل مطلوب"),
    "arabic_script": (
        "must be written in Arabic letters only",
        "يجب أن يكتب بالحروف العربية فقط",
    ),
    "latin_charset": (
        "may contain only the letters A-Z, space, hyphen and apostrophe",
        "يسمح فقط بالحروف اللاتينية A-Z والمسافة والشرطة والفاصلة العليا",
    ),
    "max_length": (
        "must be at most {limit} characters",
        "يجب ألا يزيد عن {limit} حرفا",
    ),
    "digits": (
        "must be exactly {length} digits",
        "يجب أن يتكون من {length} أرقام بالضبط",
    ),
    "check_digit": (
        "check digit does not match; re-read the number from the document",
        "رقم التحقق غير مطابق، أعد قراءة الرقم من الوثيقة",
    ),
    "date_format": (
        "must be a date written YYYY-MM-DD",
        "يجب أن يكون تاريخا بالصيغة YYYY-MM-DD",
    ),
    "not_future": ("must not be in the future", "يجب ألا يكون في المستقبل"),
    "max_age": (
        "is more than {years} years ago",
        "يسبق اليوم بأكثر من {years} سنة",
    ),
    "sex_code": ("must be M, F or X", "يجب أن يكون M أو F أو X"),
    "country_code": (
        "must be an ICAO three-letter code such as JOR or EGY",
        "يجب أن يكون رمز إيكاو من ثلاثة أحرف مثل JOR أو EGY",
    ),
    "mrz_charset": (
        "may contain only the letters A-Z and '<'",
        "يسمح فقط بالحروف A-Z والرمز '<'",
    ),
    "unknown_field": ("is not an applicant field", "ليس من حقول طلب التسجيل"),
}


def message(rule: str, **params: object) -> tuple[str, str]:
    """English and Arabic text for `rule`, with its parameters filled in."""
    en, ar = MESSAGES[rule]
    return en.format(**params), ar.format(**params)
