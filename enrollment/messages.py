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
    "control_characters": (
        "contains control characters (such as NUL) or direction overrides; retype it",
        "يحتوي على رموز تحكم غير مسموح بها؛ أعد كتابته",
    ),
    "icao_transliteration": (
        "contains the letter {letter}, which ICAO 9303-3 gives no Latin form for; "
        "use the nearest Arabic letter",
        "يحتوي على الحرف {letter} الذي لا يوجد له مقابل لاتيني في معيار إيكاو 9303-3؛ "
        "استخدم أقرب حرف عربي",
    ),
    "unknown_field": ("is not an applicant field", "ليس من حقول طلب التسجيل"),
    "application_kind": (
        "must be first_issue, renewal or replacement",
        "يجب أن يكون إصدارا أول أو تجديدا أو بدل فاقد/تالف",
    ),
    "replacement_reason": (
        "must be lost, stolen or damaged",
        "يجب أن يكون مفقودة أو مسروقة أو تالفة",
    ),
    "only_for_replacement": (
        "is given only for a replacement",
        "يذكر فقط في طلب البدل",
    ),
    "only_for_renewal": (
        "is given only for a renewal or a replacement",
        "يذكر فقط في طلب التجديد أو البدل",
    ),
    "old_card_needed": (
        "a renewal or replacement must name the card it replaces",
        "يجب ذكر رقم البطاقة السابقة في طلب التجديد أو البدل",
    ),
    "document_number": (
        "must be a card number of letters A-Z and digits, at most 20",
        "يجب أن يكون رقم بطاقة من حروف A-Z وأرقام، بحد أقصى 20",
    ),
}


def message(rule: str, **params: object) -> tuple[str, str]:
    """English and Arabic text for `rule`, with its parameters filled in."""
    en, ar = MESSAGES[rule]
    return en.format(**params), ar.format(**params)
