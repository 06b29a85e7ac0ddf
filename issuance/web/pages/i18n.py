"""The screens' words in Arabic and English, and how numbers are written in each."""

from __future__ import annotations

from dataclasses import dataclass

from issuance.web.pages.words import batches, dashboard, exceptions, lifecycle, operators, reports

LANGUAGES = ("ar", "en")
DEFAULT_LANGUAGE = "ar"
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("Civil-ID card issuance", "إصدار بطاقة الهوية المدنية"),
    "skip": ("Skip to the content", "انتقل إلى المحتوى"),
    "sign_in": ("Sign in", "تسجيل الدخول"),
    "sign_out": ("Sign out", "تسجيل الخروج"),
    "username": ("User name", "اسم المستخدم"),
    "password": ("Password", "كلمة المرور"),
    "bad_credentials": ("User name or password is wrong, or the account is locked.",
                        "اسم المستخدم أو كلمة المرور غير صحيحة، أو الحساب مقفل."),
    "session_ended": ("Your session ended; sign in again.", "انتهت الجلسة، سجل الدخول مرة أخرى."),
    "language": ("Language", "اللغة"),
    "switch_language": ("العربية", "English"),
    "home": ("Home", "الرئيسية"),
    "signed_in_as": ("Signed in as", "المستخدم"),
    "change_password": ("Change password", "تغيير كلمة المرور"),
    "must_change": ("Choose your own password before you go on.",
                    "اختر كلمة مرور خاصة بك قبل المتابعة."),
    "current_password": ("Current password", "كلمة المرور الحالية"),
    "new_password": ("New password", "كلمة المرور الجديدة"),
    "repeat_password": ("New password again", "أعد كتابة كلمة المرور الجديدة"),
    "passwords_differ": ("The two new passwords differ.", "كلمتا المرور الجديدتان غير متطابقتين."),
    "password_changed": ("Password changed.", "تم تغيير كلمة المرور."),
    "save": ("Save", "حفظ"),
    "new_application": ("New application", "طلب جديد"),
    "my_applications": ("My applications", "طلباتي"),
    "applicant": ("Applicant", "بيانات مقدم الطلب"),
    "mrz_proposal": ("Proposed from the Arabic name", "مقترح من الاسم العربي"),
    "mrz_truncated": ("The name was shortened to fit the MRZ; check it.",
                      "تم اختصار الاسم ليتسع في منطقة القراءة الآلية؛ راجعه."),
    "continue_photo": ("Save and take the photo", "حفظ والتقاط الصورة"),
    "fix_errors": ("Some fields need correcting.", "بعض الحقول تحتاج إلى تصحيح."),
    "photo": ("Photo", "الصورة"),
    "camera": ("Camera", "الكاميرا"),
    "capture": ("Take photo (Space)", "التقاط الصورة (مسافة)"),
    "retake": ("Retake (R)", "إعادة الالتقاط (R)"),
    "upload_photo": ("Or choose a photo file", "أو اختر ملف صورة"),
    "camera_unavailable": ("No camera: choose a photo file instead.",
                           "لا توجد كاميرا: اختر ملف صورة بدلا من ذلك."),
    "guides": ("Guides: head inside the oval, eyes on the band, crown and chin between the lines.",
               "الإرشادات: الرأس داخل الشكل البيضاوي، العينان على الشريط، أعلى الرأس والذقن بين الخطين."),
    "quality_report": ("Quality report", "تقرير الجودة"),
    "photo_passed": ("The photo passes every check.", "الصورة تجتاز جميع الفحوص."),
    "photo_failed": ("The photo fails:", "الصورة لا تجتاز:"),
    "check": ("Check", "الفحص"),
    "value": ("Value", "القيمة"),
    "limit": ("Limit", "الحد"),
    "result": ("Result", "النتيجة"),
    "advice": ("What to do", "ما العمل"),
    "pass": ("pass", "ناجح"),
    "fail": ("fail", "راسب"),
    "next_signature": ("Next: signature", "التالي: التوقيع"),
    "signature": ("Signature", "التوقيع"),
    "signature_pad": ("Signature pad: sign with the pen", "لوحة التوقيع: وقع بالقلم"),
    "clear": ("Clear (C)", "مسح (C)"),
    "save_signature": ("Save signature (S)", "حفظ التوقيع (S)"),
    "upload_signature": ("Or choose a scanned signature", "أو اختر توقيعا ممسوحا ضوئيا"),
    "signature_saved": ("Signature saved.", "تم حفظ التوقيع."),
    "next_review": ("Next: review", "التالي: المراجعة"),
    "review": ("Review", "المراجعة"),
    "submit": ("Submit the application", "تقديم الطلب"),
    "missing": ("Still missing", "ما زال ناقصا"),
    "receipt": ("Receipt", "الإيصال"),
    "open_receipt": ("Open the receipt to print it", "افتح الإيصال لطباعته"),
    "submitted_as": ("Application submitted. Number:", "تم تقديم الطلب. الرقم:"),
    "search": ("Search by number or name", "ابحث بالرقم أو الاسم"),
    "find": ("Find", "بحث"),
    "number": ("Number", "الرقم"),
    "name": ("Name", "الاسم"),
    "state": ("State", "الحالة"),
    "created": ("Created", "تاريخ الإنشاء"),
    "actions": ("Actions", "إجراءات"),
    "resume": ("Resume", "متابعة"),
    "cancel_draft": ("Cancel draft", "إلغاء المسودة"),
    "draft_cancelled": ("Draft cancelled:", "تم إلغاء المسودة:"),
    "nothing_found": ("No application found.", "لم يعثر على أي طلب."),
    "users": ("Users", "المستخدمون"),
    "add_user": ("Add a user", "إضافة مستخدم"),
    "full_name": ("Full name", "الاسم الكامل"),
    "role": ("Role", "الدور"),
    "site": ("Site", "الموقع"),
    "active": ("Active", "نشط"),
    "temporary_password": ("Temporary password", "كلمة مرور مؤقتة"),
    "disable": ("Disable", "تعطيل"),
    "enable": ("Enable", "تفعيل"),
    "reset_password": ("Reset password", "إعادة تعيين كلمة المرور"),
    "assign": ("Save role and site", "حفظ الدور والموقع"),
    "done": ("Done.", "تم."),
    "exceptions": ("Exceptions to decide", "استثناءات بانتظار القرار"),
    "reasons": ("Reasons", "الأسباب"),
    "yes": ("yes", "نعم"),
    "no": ("no", "لا"),
    "forbidden": ("Your role may not open this page.", "لا يسمح دورك بفتح هذه الصفحة."),
    "not_found": ("Not found.", "غير موجود."),
    "refused": ("Refused", "مرفوض"),
    "csrf": ("This form has expired or did not come from this site: reload the page and try again.",
             "انتهت صلاحية هذا النموذج أو لم يصدر من هذا الموقع: أعد تحميل الصفحة وحاول مرة أخرى."),
}
# Each area's screens keep their words in their own module; a key defined twice is a mistake.
for _area in (dashboard, exceptions, batches, operators, lifecycle, reports):
    _clash = TEXT.keys() & _area.WORDS.keys()
    if _clash:
        raise RuntimeError(f"words defined twice: {sorted(_clash)}")
    TEXT.update(_area.WORDS)

STATES: dict[str, str] = {
    "draft": "مسودة", "submitted": "مقدم", "validating": "قيد التحقق", "approved": "موافق عليه",
    "exception": "استثناء", "rejected": "مرفوض", "batched": "ضمن دفعة", "personalizing": "قيد التخصيص",
    "personalized": "مخصص", "printing": "قيد الطباعة", "printed": "مطبوع",
    "quality_checked": "تم فحص الجودة", "dispatched": "مرسل", "delivered": "مسلم",
}
ROLES: dict[str, str] = {
    "clerk": "موظف تسجيل", "operator": "مشغل", "supervisor": "مشرف", "admin": "مدير النظام",
}

# The photo checks' names on Arabic screens (the report's advice text stays as the checks give it).
CHECKS: dict[str, str] = {
    "face_count": "عدد الوجوه", "blockiness": "تشوه الضغط", "head_height": "ارتفاع الرأس",
    "head_in_frame": "الرأس داخل الإطار", "eye_distance": "المسافة بين العينين", "eye_line": "خط العينين",
    "roll": "ميل الرأس", "yaw": "التفات الرأس", "pitch": "إمالة الرأس للأمام أو للخلف",
    "eyes_open": "العينان مفتوحتان", "mouth_closed": "الفم مغلق", "colour_mode": "نمط الألوان",
    "centring": "التوسيط", "sharpness": "الوضوح",
    "exposure": "الإضاءة", "contrast": "التباين", "illumination_uniformity": "تجانس الإضاءة",
    "background_uniformity": "تجانس الخلفية", "background_brightness": "سطوع الخلفية",
    "background_colour": "لون الخلفية", "colour_cast": "انحراف الألوان",
}


@dataclass(frozen=True)
class Words:
    """The words of one language, and its way of writing digits."""

    language: str
    arabic_digits: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.language == "ar" else "ltr"

    def __call__(self, key: str) -> str:
        en, ar = TEXT[key]
        return ar if self.language == "ar" else en

    def state(self, state: str) -> str:
        """An application state's name."""
        return STATES.get(state, state) if self.language == "ar" else state.replace("_", " ")

    def role(self, role: str) -> str:
        """A role's name."""
        return ROLES.get(role, role) if self.language == "ar" else role

    def check_names(self) -> dict[str, str]:
        """Photo check names as shown in this language (English: the checks' own names)."""
        return dict(CHECKS) if self.language == "ar" else {}

    def digits(self, value: object) -> str:
        """Numbers in the configured digits (Arabic-Indic only on Arabic screens when configured)."""
        text = str(value)
        return text.translate(_ARABIC_INDIC) if self.language == "ar" and self.arabic_digits else text


def pick_language(*choices: str | None) -> str:
    """The first supported language among the choices, else the default."""
    for choice in choices:
        if choice in LANGUAGES:
            return choice
    return DEFAULT_LANGUAGE
