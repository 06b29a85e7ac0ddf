"""Words of the batches screens: key -> (English, Arabic)."""

WORDS: dict[str, tuple[str, str]] = {
    "batches": ("Batches", "الدفعات"),
    "bat_new": ("New batch", "دفعة جديدة"),
    "bat_max": ("Largest number of applications", "أكبر عدد من الطلبات"),
    "bat_stations": ("Encoding stations", "محطات الترميز"),
    "bat_printer": ("Printer", "الطابعة"),
    "bat_create": ("Create the batch", "إنشاء الدفعة"),
    "bat_none": ("No batch yet.", "لا توجد دفعات بعد."),
    "bat_status": ("Status", "الوضع"),
    "bat_status_open": ("open", "مفتوحة"),
    "bat_status_paused": ("paused", "موقوفة مؤقتا"),
    "bat_status_closed": ("closed", "مغلقة"),
    "bat_created": ("Created", "تاريخ الإنشاء"),
    "bat_applications": ("Applications", "الطلبات"),
    "bat_progress": ("Progress by state", "التقدم حسب الحالة"),
    "bat_pause": ("Pause", "إيقاف مؤقت"),
    "bat_pause_reason": ("Why (optional)", "السبب (اختياري)"),
    "bat_resume": ("Resume", "استئناف"),
    "bat_close": ("Close the batch", "إغلاق الدفعة"),
    "bat_close_note": ("Closing ends the batch: refused while any application or card is still in production "
                       "or waits for its quality check.",
                       "الإغلاق ينهي الدفعة: يرفض ما دام أي طلب أو بطاقة قيد الإنتاج أو بانتظار فحص الجودة."),
    "bat_paused_note": ("Paused: stations and the printer take none of this batch's work; cards already "
                        "started are finished.",
                        "موقوفة مؤقتا: لا تأخذ المحطات ولا الطابعة أي عمل من هذه الدفعة؛ "
                        "وتكتمل البطاقات التي بدأت."),
    "bat_assign": ("Change stations and printer", "تغيير المحطات والطابعة"),
    "bat_documents": ("Batch documents", "وثائق الدفعة"),
    "bat_proof": ("Proof sheet (PDF)", "ورقة التدقيق (PDF)"),
    "bat_manifest_pdf": ("Manifest (PDF)", "بيان الدفعة (PDF)"),
    "bat_manifest_csv": ("Manifest (CSV)", "بيان الدفعة (CSV)"),
    "bat_open_batch": ("Batch", "الدفعة"),
}
