"""The application's data beside the civil registry's record, field by field, for a supervisor."""

from __future__ import annotations

from dataclasses import dataclass

from issuance.person import PERSON_FIELDS, Person


@dataclass(frozen=True)
class FieldComparison:
    """One field as enrolled and as the registry holds it."""

    field: str
    enrolled: str
    registered: str

    @property
    def differs(self) -> bool:
        return self.enrolled.strip() != self.registered.strip()


def compare(enrolled: Person, registered: Person | None) -> list[FieldComparison]:
    """Every person field side by side (registry values empty when it holds no record)."""
    return [FieldComparison(name, str(getattr(enrolled, name)),
                            "" if registered is None else str(getattr(registered, name)))
            for name in PERSON_FIELDS]
