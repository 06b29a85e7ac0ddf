"""The application and card life cycles: states and the legal moves between them (DESIGN §3)."""

from __future__ import annotations

from enum import StrEnum


class ApplicationState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATING = "validating"
    APPROVED = "approved"
    EXCEPTION = "exception"
    REJECTED = "rejected"
    BATCHED = "batched"
    PERSONALIZING = "personalizing"
    PERSONALIZED = "personalized"
    PRINTING = "printing"
    PRINTED = "printed"
    QUALITY_CHECKED = "quality_checked"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"


class CardState(StrEnum):
    ALLOCATED = "allocated"
    ENCODING = "encoding"
    ENCODED = "encoded"
    VERIFIED = "verified"
    LOCKED = "locked"
    PRINTED = "printed"
    ISSUED = "issued"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SPOILED = "spoiled"


A = ApplicationState
C = CardState

APPLICATION_MOVES: dict[ApplicationState, frozenset[ApplicationState]] = {
    A.DRAFT: frozenset({A.SUBMITTED}),
    A.SUBMITTED: frozenset({A.VALIDATING}),
    A.VALIDATING: frozenset({A.APPROVED, A.EXCEPTION, A.REJECTED}),
    A.EXCEPTION: frozenset({A.APPROVED, A.REJECTED}),
    A.APPROVED: frozenset({A.BATCHED}),
    A.BATCHED: frozenset({A.PERSONALIZING}),
    # A spoiled card sends its application back to its station's queue for a new card.
    A.PERSONALIZING: frozenset({A.PERSONALIZED, A.BATCHED}),
    A.PERSONALIZED: frozenset({A.PRINTING}),
    A.PRINTING: frozenset({A.PRINTED}),
    A.PRINTED: frozenset({A.QUALITY_CHECKED}),
    A.QUALITY_CHECKED: frozenset({A.DISPATCHED}),
    A.DISPATCHED: frozenset({A.DELIVERED}),
    A.REJECTED: frozenset(),
    A.DELIVERED: frozenset(),
}

# A card that fails before it is issued is spoiled, never reused. Suspension can be lifted;
# a lost card can be revoked before or after activation.
CARD_MOVES: dict[CardState, frozenset[CardState]] = {
    C.ALLOCATED: frozenset({C.ENCODING, C.SPOILED}),
    C.ENCODING: frozenset({C.ENCODED, C.SPOILED}),
    C.ENCODED: frozenset({C.VERIFIED, C.SPOILED}),
    C.VERIFIED: frozenset({C.LOCKED, C.SPOILED}),
    C.LOCKED: frozenset({C.PRINTED, C.SPOILED}),
    C.PRINTED: frozenset({C.ISSUED, C.SPOILED}),
    C.ISSUED: frozenset({C.ACTIVE, C.REVOKED}),
    C.ACTIVE: frozenset({C.SUSPENDED, C.REVOKED, C.EXPIRED}),
    C.SUSPENDED: frozenset({C.ACTIVE, C.REVOKED, C.EXPIRED}),
    C.REVOKED: frozenset(),
    C.EXPIRED: frozenset(),
    C.SPOILED: frozenset(),
}

TERMINAL_VALIDATION = frozenset({A.APPROVED, A.EXCEPTION, A.REJECTED})

# Cards in these states count as issued to the holder: an application may have at most one.
ISSUED_CARD_STATES = frozenset({C.ISSUED, C.ACTIVE, C.SUSPENDED, C.REVOKED, C.EXPIRED})
