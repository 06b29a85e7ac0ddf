"""One person, as every stage knows them: the counter, the registry, the database and the card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Person:
    """Demographic data with one spelling per field; ORM rows, API bodies and registry records map to it."""

    national_number: str
    first_name_ar: str
    father_name_ar: str
    grandfather_name_ar: str
    family_name_ar: str
    given_names_latin: str
    surname_latin: str
    sex: str
    birth_date: dt.date
    birth_place: str
    address: str
    nationality: str

    @property
    def names_ar(self) -> tuple[str, str, str, str]:
        """The four Arabic name parts in their written order: first, father, grandfather, family."""
        return (self.first_name_ar, self.father_name_ar, self.grandfather_name_ar, self.family_name_ar)

    @property
    def full_name_ar(self) -> str:
        return " ".join(p for p in self.names_ar if p)

    @property
    def full_name_latin(self) -> str:
        """Latin name as printed: given names then surname."""
        return " ".join(p for p in (self.given_names_latin, self.surname_latin) if p)

    def person(self) -> Person:
        """Just the person's fields (a subclass such as a registry record carries more)."""
        return Person(**{name: getattr(self, name) for name in PERSON_FIELDS})


PERSON_FIELDS = tuple(f.name for f in fields(Person))
