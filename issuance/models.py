"""The shared domain model: SQLAlchemy 2 typed mappings for every stage."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from issuance.person import PERSON_FIELDS, Person
from issuance.states import ApplicationState, CardState


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(kind: type[StrEnum], name: str) -> Enum:
    # Plain VARCHAR plus a CHECK constraint: portable, and a new state is a migration, not a type.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )


class Role(StrEnum):
    CLERK = "clerk"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ApplicationKind(StrEnum):
    FIRST_ISSUE = "first_issue"
    RENEWAL = "renewal"
    REPLACEMENT = "replacement"


class ReplacementReason(StrEnum):
    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"
    UNSPECIFIED = "X"


class BiometricKind(StrEnum):
    PHOTO = "photo"
    SIGNATURE = "signature"
    CHIP_PHOTO = "chip_photo"


class BatchStatus(StrEnum):
    """A batch's production status: paused batches give their stations no work; closed ones are done."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class Site(Base):
    """A registry office: users, stations, printers and batches belong to one."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    site: Mapped[str] = mapped_column(String(32), default="HQ")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set when an administrator chose the password: the user picks their own at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The screens' language ("ar" or "en"), remembered across sessions; "" until chosen.
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SignInThrottle(Base):
    """Failed sign-ins of one account name or one client address: the delay and lockout they earn."""

    __tablename__ = "sign_in_throttles"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # "account" or "address"
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class UserSession(Base):
    """A signed-in session: tokens name it, so sign-out or an admin can revoke it server-side."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random token id, not a secret
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Renewals never reach past this: one counter shift, then sign in again.
    renew_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Station(Base):
    """An encoding station: one PC/SC reader at a site."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    site: Mapped[str] = mapped_column(String(32))
    reader: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # What the station process last reported, for the operator's page (a heartbeat, not the truth
    # about any card: the cards table is).
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    card_present: Mapped[bool | None] = mapped_column(Boolean)
    current_card_id: Mapped[int | None] = mapped_column(Integer)
    current_step: Mapped[str | None] = mapped_column(String(64))
    self_test_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    self_test_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Printer(Base):
    """A card printer reached through a spooler (CUPS queue or spool folder)."""

    __tablename__ = "printers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    site: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default="folder")
    destination: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


batch_stations = Table(
    "batch_stations",
    Base.metadata,
    Column("batch_id", ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True),
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
)


class Batch(Base):
    """Approved applications grouped for one production run."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    site: Mapped[str] = mapped_column(String(32))
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "batch_status"), default=BatchStatus.OPEN,
                                                server_default=BatchStatus.OPEN.value)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    printer: Mapped[Printer | None] = relationship()
    stations: Mapped[list[Station]] = relationship(secondary=batch_stations)
    applications: Mapped[list[Application]] = relationship(back_populates="batch")


class Application(Base):
    """One request for a card, from the counter to delivery."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set in the same transaction right after the row gets its id.
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    kind: Mapped[ApplicationKind] = mapped_column(
        _enum(ApplicationKind, "application_kind"), default=ApplicationKind.FIRST_ISSUE
    )
    replacement_reason: Mapped[ReplacementReason | None] = mapped_column(
        _enum(ReplacementReason, "replacement_reason")
    )
    # A card issued before this system (known only to the registry) is named by its number.
    replaces_document_number: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[ApplicationState] = mapped_column(
        _enum(ApplicationState, "application_state"), default=ApplicationState.DRAFT, index=True
    )
    clerk_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    site: Mapped[str] = mapped_column(String(32))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)
    outcome_reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    photo_override_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The exact photo the override accepted (its image row and keyed digest); a new upload voids it.
    photo_override_image_id: Mapped[int | None] = mapped_column(Integer)
    photo_override_digest: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When a validation job was last enqueued: the reconciler re-enqueues only what is missing.
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Validation attempts that reached the registry, or died trying (see workers/validation.py).
    validation_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    applicant: Mapped[Applicant] = relationship(back_populates="application", uselist=False)
    clerk: Mapped[User] = relationship(foreign_keys=[clerk_id])
    batch: Mapped[Batch | None] = relationship(back_populates="applications")
    cards: Mapped[list[Card]] = relationship(
        back_populates="application", foreign_keys="Card.application_id", order_by="Card.attempt"
    )
    biometrics: Mapped[list[BiometricImage]] = relationship(back_populates="application")


class Applicant(Base):
    """The demographic data the clerk enrolled, as it stood for this application."""

    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    national_number: Mapped[str] = mapped_column(String(20), index=True)
    first_name_ar: Mapped[str] = mapped_column(String(60))
    father_name_ar: Mapped[str] = mapped_column(String(60))
    grandfather_name_ar: Mapped[str] = mapped_column(String(60))
    family_name_ar: Mapped[str] = mapped_column(String(60))
    given_names_latin: Mapped[str] = mapped_column(String(120))
    surname_latin: Mapped[str] = mapped_column(String(60))
    # The reviewed TD1 name field (ICAO 9303-5: 30 characters); personalization and printing use it.
    mrz_name: Mapped[str] = mapped_column(String(30), default="", server_default="")
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "sex"))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    birth_place: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300))
    nationality: Mapped[str] = mapped_column(String(3))

    application: Mapped[Application] = relationship(back_populates="applicant")

    @classmethod
    def of(cls, person: Person, mrz_name: str = "") -> Applicant:
        """A row holding the person's fields (and the reviewed MRZ name)."""
        return cls(**{f: getattr(person, f) for f in PERSON_FIELDS}, mrz_name=mrz_name)

    @property
    def person(self) -> Person:
        return Person(**{f: getattr(self, f) for f in PERSON_FIELDS})


class BiometricImage(Base):
    """A face photo or signature: the image encrypted at rest, its metadata in clear."""

    __tablename__ = "biometric_images"
    __table_args__ = (UniqueConstraint("application_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    kind: Mapped[BiometricKind] = mapped_column(_enum(BiometricKind, "biometric_kind"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Which vault key sealed `ciphertext` ("" before key ids): `issuance vault rotate` re-seals by it.
    key_id: Mapped[str] = mapped_column(String(16), default="", server_default="", index=True)
    # A keyed digest (issuance.vault.Vault.digest), never a plain hash of the clear image.
    digest: Mapped[str] = mapped_column(String(80), default="", server_default="")
    media_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    quality_passed: Mapped[bool | None] = mapped_column(Boolean)
    quality_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="biometrics")


class FaceDescriptor(Base):
    """The 128-d face descriptor of an approved application's photo, sealed in the vault (1:N search)."""

    __tablename__ = "face_descriptors"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    model: Mapped[str] = mapped_column(String(40))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Card(Base):
    """One physical card attempt for an application; a failed one is spoiled, never reused."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("application_id", "attempt"),
        # The database itself refuses a second live card (and so a second issued card) for one
        # application: every earlier attempt must be spoiled first.
        Index(
            "uq_cards_one_live_card_per_application",
            "application_id",
            unique=True,
            postgresql_where=text("state <> 'spoiled'"),
            sqlite_where=text("state <> 'spoiled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[CardState] = mapped_column(
        _enum(CardState, "card_state"), default=CardState.ALLOCATED, index=True
    )
    chip_serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    document_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    failure_step: Mapped[str | None] = mapped_column(String(64))
    failure_status_word: Mapped[str | None] = mapped_column(String(4))
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    # Written by personalization, read by printing: the card's ATR, the DS key that signed its
    # EF.SOD, the CAN printed on the card, and DG1's three TD1 lines as written (newline-joined).
    atr: Mapped[str | None] = mapped_column(String(80))
    ds_key_label: Mapped[str | None] = mapped_column(String(64))
    can: Mapped[str | None] = mapped_column(String(6))
    mrz: Mapped[str | None] = mapped_column(String(92))
    # Each personalization step's outcome (APDUs, ms, status word), for supervisors and bench.
    steps: Mapped[list[Any] | None] = mapped_column(JSON)
    # A station's claim on the card: lapsed, the reconciler spoils the card and queues a new one.
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When a print job was last enqueued for the card: the reconciler re-enqueues only what is missing.
    print_enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The holder's e-signature certificate (issuing CA), so that revoking the card revokes it.
    holder_cert_serial: Mapped[str | None] = mapped_column(String(42))
    # After issuance (DESIGN §3): where the card waits for its holder, and why it last changed state.
    collection_office: Mapped[str | None] = mapped_column(String(32))
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship(
        back_populates="cards", foreign_keys=[application_id]
    )
    station: Mapped[Station | None] = relationship()


class CardDelivery(Base):
    """The hand-over of a card to its holder: who checked what, and the holder's signature on delivery."""

    __tablename__ = "card_deliveries"

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    handed_over_by: Mapped[str] = mapped_column(String(64))
    receipt_number: Mapped[str] = mapped_column(String(40))
    identity_document: Mapped[str] = mapped_column(String(80))  # kind and number of what was shown
    face_distance: Mapped[float | None] = mapped_column(Float)  # live photo against DG2, when taken
    face_matched: Mapped[bool | None] = mapped_column(Boolean)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # vault ciphertext, like biometrics
    signature_key_id: Mapped[str] = mapped_column(String(16), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit log."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Indexed: the dashboard, the reports and the audit viewer filter by time.
    ts: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Which chain key made `hash` (see issuance.audit_keys); never the key itself.
    key_id: Mapped[str] = mapped_column(String(16), default="", server_default="")


class AuditHead(Base):
    """The newest entry of the chain: the row every writer locks, and the anchor for verify."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class RevocationReason(StrEnum):
    """CRL reason codes by their RFC 5280 §5.3.1 names (value 7 is unused there)."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    CA_COMPROMISE = "cACompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    CERTIFICATE_HOLD = "certificateHold"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"
    AA_COMPROMISE = "aACompromise"


class Revocation(Base):
    """A certificate revoked by one of the issuer's CAs; the next CRL of that CA lists it."""

    __tablename__ = "pki_revocations"
    __table_args__ = (UniqueConstraint("issuer", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(64), index=True)
    serial: Mapped[str] = mapped_column(String(42))
    reason: Mapped[RevocationReason] = mapped_column(_enum(RevocationReason, "revocation_reason"))
    revoked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))


class KeyUse(Base):
    """How many signatures a keystore key has made for the PKI (shown by `pki status`)."""

    __tablename__ = "pki_key_usage"

    label: Mapped[str] = mapped_column(String(64), primary_key=True)
    signatures: Mapped[int] = mapped_column(Integer, default=0)
    last_used: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PrintAttemptState(StrEnum):
    SUBMITTING = "submitting"  # recorded before the spooler is called: a crash here goes to a person
    WAITING = "waiting"  # the spooler holds the job (queued, or the printer is stopped)
    COMPLETED = "completed"
    FAILED = "failed"
    # Recorded but never known to reach the spooler (its worker died): a person checks the printer.
    INTERRUPTED = "interrupted"


class PrintAttempt(Base):
    """One submission of a card to a printer; a card has one completed attempt per authorization.

    The first print needs no record beyond the verified, locked chip; every later print names the
    approved reprint request it uses, and a request is used by one attempt only.
    """

    __tablename__ = "print_attempts"
    __table_args__ = (UniqueConstraint("card_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    reprint_id: Mapped[int | None] = mapped_column(ForeignKey("reprint_requests.id"))
    printer: Mapped[str] = mapped_column(String(32))
    job_name: Mapped[str] = mapped_column(String(100))
    spool_job: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[PrintAttemptState] = mapped_column(_enum(PrintAttemptState, "print_attempt_state"))
    reason: Mapped[str] = mapped_column(Text, default="")
    checks: Mapped[int] = mapped_column(Integer, default=0)
    # When the stage looks at this attempt again (a waiting job, or a failed one's backoff).
    next_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReprintState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    USED = "used"  # a print attempt was made under it


class ReprintRequest(Base):
    """A card to be printed again: why, who asked, and the supervisor who approved (four eyes)."""

    __tablename__ = "reprint_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[ReprintState] = mapped_column(_enum(ReprintState, "reprint_state"))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
