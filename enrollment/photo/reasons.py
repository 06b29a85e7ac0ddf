"""What each failed photo check tells the clerk, in English and Arabic (ICAO 9303-3 §3.9)."""

from __future__ import annotations

REASONS: dict[str, tuple[str, str]] = {
    "no_face": ("no face found: the applicant must face the camera, nothing covering the face",
                "لم يعثر على وجه: يجب أن ينظر المتقدم إلى الكاميرا دون أن يغطي وجهه شيء"),
    "many_faces": ("{count} faces found: only the applicant may be in the photo",
                   "عثر على {count} وجوه: يجب أن يظهر المتقدم وحده في الصورة"),
    "blockiness": ("over-compressed (JPEG blocks visible): re-take or export at higher quality",
                   "الصورة مضغوطة أكثر من اللازم: أعد التصوير أو احفظها بجودة أعلى"),
    "head_small": ("move closer: head is {ratio} of the image height, needs {band}",
                   "اقترب من الكاميرا: الرأس {ratio} من ارتفاع الصورة، والمطلوب {band}"),
    "head_large": ("move back: head is {ratio} of the image height, needs {band}",
                   "ابتعد عن الكاميرا: الرأس {ratio} من ارتفاع الصورة، والمطلوب {band}"),
    "crown_cut": ("the top of the head is cut off: raise the camera or step back",
                  "أعلى الرأس مقطوع: ارفع الكاميرا أو ابتعد قليلا"),
    "chin_cut": ("the chin is cut off: lower the camera or step back",
                 "الذقن مقطوع: اخفض الكاميرا أو ابتعد قليلا"),
    "eye_distance": ("resolution too low: {ipd} px between the eyes, needs {need}; use a higher "
                     "resolution or move closer",
                     "الدقة منخفضة: {ipd} بكسل بين العينين، والمطلوب {need}؛ استخدم دقة أعلى أو اقترب"),
    "eye_line_high": ("eye line at {pos} from the top, needs {band}: raise the camera",
                      "خط العينين على بعد {pos} من الأعلى، والمطلوب {band}: ارفع الكاميرا"),
    "eye_line_low": ("eye line at {pos} from the top, needs {band}: lower the camera",
                     "خط العينين على بعد {pos} من الأعلى، والمطلوب {band}: اخفض الكاميرا"),
    "roll": ("head tilted {deg} degrees: hold the head straight, eyes level",
             "الرأس مائل {deg} درجة: أبق الرأس مستقيما والعينين في مستوى واحد"),
    "yaw": ("head turned {deg} degrees: look straight into the camera",
            "الرأس ملتفت {deg} درجة: انظر مباشرة إلى الكاميرا"),
    "pitch": ("head tipped {deg} degrees up or down: keep the chin level",
              "الرأس مرفوع أو منخفض {deg} درجة: أبق الذقن في مستوى أفقي"),
    "centring": ("face centre at {pos} of the width, needs {band}: move to the middle of the frame",
                 "مركز الوجه عند {pos} من العرض، والمطلوب {band}: تحرك إلى وسط الإطار"),
    "eyes_closed": ("eyes closed or hidden: keep both eyes open, no glare on glasses",
                    "العينان مغمضتان أو محجوبتان: أبق العينين مفتوحتين دون انعكاس على النظارة"),
    "mouth_open": ("mouth open: close the mouth, neutral expression",
                   "الفم مفتوح: أغلق الفم بتعبير محايد"),
    "blurred": ("the photo is blurred: hold still, focus on the eyes",
                "الصورة غير واضحة: اثبت في مكانك وركز الكاميرا على العينين"),
    "underexposed": ("under-exposed: face too dark, add light",
                     "الإضاءة ضعيفة: الوجه داكن، أضف إضاءة"),
    "overexposed": ("over-exposed: face washed out, reduce light or flash",
                    "الإضاءة زائدة: الوجه باهت، خفف الإضاءة أو الفلاش"),
    "contrast": ("contrast too low: the face looks flat or hazy, check lighting and camera",
                 "التباين منخفض: الوجه باهت أو ضبابي، تحقق من الإضاءة والكاميرا"),
    "uneven_light": ("one side of the face is darker: light the face evenly from both sides",
                     "أحد جانبي الوجه أغمق: وزع الإضاءة على جانبي الوجه بالتساوي"),
    "busy_background": ("background is not plain: use a plain light wall with nothing behind the applicant",
                        "الخلفية غير سادة: استخدم جدارا فاتحا سادة لا شيء خلف المتقدم"),
    "dark_background": ("background too dark: use a light background and light it",
                        "الخلفية داكنة: استخدم خلفية فاتحة وأضئها"),
    "coloured_background": ("background is coloured: it must be white, off-white or light grey",
                            "الخلفية ملونة: يجب أن تكون بيضاء أو رمادية فاتحة"),
    "cast_warm": ("colour cast: skin tones look yellow/orange; set the camera's white balance for "
                  "the studio light",
                  "انحراف لوني: لون البشرة مائل إلى الأصفر أو البرتقالي؛ اضبط توازن الأبيض في الكاميرا"),
    "cast_cold": ("colour cast: skin tones look blue/green; set the camera's white balance for "
                  "the studio light",
                  "انحراف لوني: لون البشرة مائل إلى الأزرق أو الأخضر؛ اضبط توازن الأبيض في الكاميرا"),
    "needs_colour": ("a colour photo is required; this one is greyscale",
                     "المطلوب صورة ملونة؛ هذه الصورة بالأبيض والأسود"),
    "needs_grey": ("a greyscale photo is required; this one is in colour",
                   "المطلوب صورة بالأبيض والأسود؛ هذه الصورة ملونة"),
}


def reason(code: str, **params: object) -> tuple[str, str]:
    """English and Arabic reason for a failed check, with its values filled in."""
    en, ar = REASONS[code]
    return en.format(**params), ar.format(**params)
