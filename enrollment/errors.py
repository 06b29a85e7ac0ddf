"""Validation errors that name the field and the rule, in English and Arabic."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FieldError:
    """One broken rule on one field; `message_en`/`message_ar` are shown to the clerk."""

    field: str
    rule: str
    message_en: str
    message_ar: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message_en}"

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form for the API."""
        return asdict(self)


class ValidationError(ValueError):
    """Applicant data broke one or more rules; `errors` lists every one, not only the first."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    def fields(self) -> set[str]:
        """Names of the fields with at least one error."""
        return {e.field for e in self.errors}
