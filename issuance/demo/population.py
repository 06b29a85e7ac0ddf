"""A synthetic, reproducible population of citizens: Arabic four-part names with Latin spellings."""

from __future__ import annotations

import datetime as dt
import random

from issuance.numbers import check_digit
from issuance.registry.record import CitizenRecord

MALE = [
    ("محمد", "Mohammed"), ("أحمد", "Ahmad"), ("علي", "Ali"), ("عمر", "Omar"),
    ("خالد", "Khaled"), ("يوسف", "Yousef"), ("إبراهيم", "Ibrahim"), ("حسن", "Hasan"),
    ("سامي", "Sami"), ("طارق", "Tareq"), ("زياد", "Ziad"), ("فيصل", "Faisal"),
    ("ماجد", "Majed"), ("ناصر", "Nasser"), ("وليد", "Walid"), ("كريم", "Karim"),
    ("رامي", "Rami"), ("باسل", "Basel"), ("هاني", "Hani"), ("سليمان", "Suleiman"),
]
FEMALE = [
    ("فاطمة", "Fatima"), ("مريم", "Maryam"), ("نور", "Nour"), ("سارة", "Sara"),
    ("ليلى", "Layla"), ("هدى", "Huda"), ("رنا", "Rana"), ("دينا", "Dina"),
    ("ياسمين", "Yasmin"), ("سلمى", "Salma"), ("ريم", "Reem"), ("لينا", "Lina"),
    ("جميلة", "Jamila"), ("عائشة", "Aisha"), ("زينب", "Zainab"),
]
FAMILIES = [
    ("الخطيب", "Al-Khatib"), ("النجار", "Al-Najjar"), ("الحسيني", "Al-Husseini"),
    ("العلي", "Al-Ali"), ("المصري", "Al-Masri"), ("الشامي", "Al-Shami"), ("حداد", "Haddad"),
    ("عبد الله", "Abdullah"), ("الزعبي", "Al-Zoubi"), ("العمري", "Al-Omari"),
    ("القاسم", "Al-Qasem"), ("الرفاعي", "Al-Rifai"), ("السعدي", "Al-Saadi"),
    ("البرغوثي", "Al-Barghouti"), ("الطراونة", "Al-Tarawneh"), ("المجالي", "Al-Majali"),
]
PLACES = [
    ("عمان", "Amman"), ("إربد", "Irbid"), ("الزرقاء", "Zarqa"), ("العقبة", "Aqaba"),
    ("السلط", "Salt"), ("الكرك", "Karak"), ("مادبا", "Madaba"), ("جرش", "Jerash"),
]
STREETS = ["شارع الجامعة", "شارع المدينة", "شارع الملكة رانيا", "شارع الاستقلال", "شارع الحرية"]


# The synthetic population is made of the very records the registry serves.
Citizen = CitizenRecord


def national_number(serial: int) -> str:
    """A 10-digit national number: nine serial digits and an ICAO 7-3-1 check digit."""
    body = f"{serial:09d}"
    return body + check_digit(body)


def _citizen(rng: random.Random, serial: int, today: dt.date, nationality: str) -> Citizen:
    sex = rng.choice("MF")
    first = rng.choice(MALE if sex == "M" else FEMALE)
    father, grandfather = rng.choice(MALE), rng.choice(MALE)
    family = rng.choice(FAMILIES)
    place_ar, place = rng.choice(PLACES)
    age_days = rng.randint(17 * 365, 80 * 365)
    address = f"{rng.randint(1, 200)} {rng.choice(STREETS)}، {place_ar}"
    # About one in five already holds a card from an earlier issue; about one in thirty has died.
    active_card = f"C{serial % 10**8:08d}" if rng.random() < 0.2 else None
    died = today - dt.timedelta(days=rng.randint(30, 3000)) if rng.random() < 0.033 else None
    return Citizen(
        national_number=national_number(serial),
        first_name_ar=first[0], father_name_ar=father[0], grandfather_name_ar=grandfather[0],
        family_name_ar=family[0], given_names_latin=f"{first[1]} {father[1]}",
        surname_latin=family[1], sex=sex, birth_date=today - dt.timedelta(days=age_days),
        birth_place=place, address=address, nationality=nationality,
        death_date=died, active_card=active_card,
    )


def eligible(citizen: Citizen) -> bool:
    """Alive and without a card: a first issue for them should be approved."""
    return citizen.death_date is None and citizen.active_card is None


def generate(
    count: int, seed: int = 9303, *, today: dt.date | None = None, nationality: str = "UTO",
    first_serial: int = 100_000_001,
) -> list[Citizen]:
    """`count` citizens, the same ones for the same seed."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    return [_citizen(rng, first_serial + i, today, nationality) for i in range(count)]
