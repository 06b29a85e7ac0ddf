"""The reference registry's own database: citizens and the cards they already hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields

from sqlalchemy import Date, LargeBinary, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from issuance.db import Database
from issuance.registry.record import CitizenRecord

MAX_LOOKUP = 1000


class RegistryBase(DeclarativeBase):
    pass


class RegistryCitizen(RegistryBase):
    __tablename__ = "registry_citizens"

    national_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    first_name_ar: Mapped[str] = mapped_column(String(60))
    father_name_ar: Mapped[str] = mapped_column(String(60))
    grandfather_name_ar: Mapped[str] = mapped_column(String(60))
    family_name_ar: Mapped[str] = mapped_column(String(60))
    given_names_latin: Mapped[str] = mapped_column(String(120))
    surname_latin: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    birth_place: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300))
    nationality: Mapped[str] = mapped_column(String(3))
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    active_card: Mapped[str | None] = mapped_column(String(20))


class RegistryPhoto(RegistryBase):
    """A citizen's reference face photo (JPEG), kept apart so lookups stay small."""

    __tablename__ = "registry_photos"

    national_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)


_ROW_FIELDS = tuple(f.name for f in fields(CitizenRecord) if f.name != "has_photo")


class RegistryStore:
    """Reads and seeds the registry database."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.db = Database(url)
        if create:
            RegistryBase.metadata.create_all(self.db.engine)

    def count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(RegistryCitizen)) or 0

    def seed(self, citizens: Iterable[CitizenRecord]) -> int:
        """Insert or replace citizens; returns how many were written."""
        n = 0
        with self.db.transaction() as s:
            for citizen in citizens:
                s.merge(RegistryCitizen(**{k: v for k, v in asdict(citizen).items() if k in _ROW_FIELDS}))
                n += 1
        return n

    def seed_photos(self, photos: Mapping[str, bytes]) -> int:
        """Insert or replace reference photos by national number; returns how many were written."""
        with self.db.transaction() as s:
            for number, jpeg in photos.items():
                s.merge(RegistryPhoto(national_number=number, jpeg=jpeg))
        return len(photos)

    def photo(self, national_number: str) -> bytes | None:
        """The citizen's reference photo, None when the registry holds none."""
        with self.db.session() as s:
            return s.scalar(select(RegistryPhoto.jpeg)
                            .where(RegistryPhoto.national_number == national_number))

    def lookup(self, national_numbers: Sequence[str]) -> dict[str, CitizenRecord | None]:
        """The record for each number, None where the registry has no such citizen."""
        if len(national_numbers) > MAX_LOOKUP:
            raise ValueError(f"national_numbers: at most {MAX_LOOKUP} per lookup")
        wanted = list(dict.fromkeys(national_numbers))
        with self.db.session() as s:
            rows = s.scalars(select(RegistryCitizen).where(
                RegistryCitizen.national_number.in_(wanted)))
            pictured = set(s.scalars(select(RegistryPhoto.national_number).where(
                RegistryPhoto.national_number.in_(wanted))))
            found = {
                r.national_number: CitizenRecord(**{f: getattr(r, f) for f in _ROW_FIELDS},
                                                 has_photo=r.national_number in pictured)
                for r in rows
            }
        return {nn: found.get(nn) for nn in wanted}

    def close(self) -> None:
        self.db.dispose()
