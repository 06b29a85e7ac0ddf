"""The only place a state changes: compare-and-set moves, each with its audit entry (DESIGN §3).

Every function here works inside the caller's transaction (`Database.transaction()`), so the
state change and its audit entry commit or roll back together. A move whose expected state no
longer holds (another worker got there first) changes nothing and returns False.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Application, Card, utcnow
from issuance.numbers import check_digit
from issuance.states import APPLICATION_MOVES, CARD_MOVES, ApplicationState, CardState


class IllegalTransition(ValueError):
    """A move the life cycle does not allow."""

    def __init__(self, entity: str, entity_id: int, current: str, target: str) -> None:
        self.current, self.target = current, target
        super().__init__(
            f"{entity} {entity_id}: illegal transition from '{current}' to '{target}'"
        )


class NotFound(LookupError):
    """The entity a move names does not exist."""


class CardAllocationError(RuntimeError):
    """A new card cannot be allocated while the application still has a live card."""


@dataclass(frozen=True)
class Actor:
    """Who makes a change and where: a user name or a worker's name, and a site or station."""

    name: str
    site: str = ""


Model = type[Application] | type[Card]


def _machine(model: Model) -> tuple[str, Mapping[Any, frozenset[Any]], type[StrEnum]]:
    if model is Application:
        return "application", APPLICATION_MOVES, ApplicationState
    return "card", CARD_MOVES, CardState


def _current_state(session: Session, model: Model, entity_id: int) -> Any:
    state = session.execute(select(model.state).where(model.id == entity_id)).scalar_one_or_none()
    if state is None:
        raise NotFound(f"{_machine(model)[0]} {entity_id} does not exist")
    return state


def _check(model: Model, entity_id: int, current: Any, target: Any) -> None:
    name, moves, _ = _machine(model)
    if target not in moves.get(current, frozenset()):
        raise IllegalTransition(name, entity_id, str(current), str(target))


def move(
    session: Session,
    model: Model,
    entity_id: int,
    target: StrEnum,
    actor: Actor,
    *,
    expected: StrEnum | None = None,
    values: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> bool:
    """Move one application or card to `target` if it is still in `expected` (default: as read)."""
    return bool(
        move_many(
            session, model, [entity_id], target, actor,
            expected=expected or _current_state(session, model, entity_id),
            values={entity_id: dict(values or {})},
            details={entity_id: dict(details or {})},
        )
    )


def move_many(
    session: Session,
    model: Model,
    entity_ids: Sequence[int],
    target: StrEnum,
    actor: Actor,
    *,
    expected: StrEnum,
    values: Mapping[int, Mapping[str, Any]] | None = None,
    details: Mapping[int, Mapping[str, Any]] | None = None,
) -> list[int]:
    """Compare-and-set many entities from `expected` to `target`; returns the ids that moved."""
    name, _, _ = _machine(model)
    _refuse_state_values(*(values or {}).values())
    _check(model, entity_ids[0] if entity_ids else 0, expected, target)
    if not entity_ids:
        return []
    now = utcnow()
    stmt = (
        update(model)
        .where(model.id.in_(list(entity_ids)), model.state == expected)
        .values(state=target, updated_at=now)
        .returning(model.id)
    )
    moved = sorted(session.execute(stmt).scalars())
    _apply_values(session, model, moved, values or {})
    audit.record_many(
        session,
        (
            audit.Entry(
                actor=actor.name, site=actor.site, action=f"{name}.{target}",
                entity_type=name, entity_id=str(entity_id), from_state=str(expected),
                to_state=str(target), details=dict((details or {}).get(entity_id, {})),
            )
            for entity_id in moved
        ),
    )
    return moved


def _refuse_state_values(*values: Mapping[str, Any]) -> None:
    # The state column is written by the compare-and-set alone, never smuggled in as a value.
    if any("state" in v for v in values):
        raise ValueError("values: 'state' is set only by the transition itself")


def _apply_values(
    session: Session, model: Model, ids: Sequence[int], values: Mapping[int, Mapping[str, Any]]
) -> None:
    rows = [{"_id": i, **values[i]} for i in ids if values.get(i)]
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    for columns, group in by_columns.items():
        table = cast(Table, model.__table__)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns if c != "_id"})
        )
        session.connection().execute(stmt, group)
    if rows:
        session.expire_all()


def create_application(session: Session, application: Application, actor: Actor) -> Application:
    """Insert a new application in `draft`, give it its number, and audit it."""
    application.state = ApplicationState.DRAFT
    session.add(application)
    session.flush()
    application.number = application_number(application.site, application.id)
    audit.record(
        session,
        audit.Entry(
            actor=actor.name, site=actor.site, action="application.created",
            entity_type="application", entity_id=str(application.id),
            to_state=str(ApplicationState.DRAFT), details={"number": application.number},
        ),
    )
    return application


def application_number(site: str, application_id: int) -> str:
    """A human-friendly number: site, sequence and an ICAO 7-3-1 check digit over the digits."""
    digits = f"{application_id:09d}"
    return f"{site}-{digits}-{check_digit(digits)}"


def allocate_card(
    session: Session, application_id: int, actor: Actor, station_id: int | None = None
) -> Card:
    """Start a new card attempt; refused while an earlier attempt is not spoiled."""
    last = session.execute(
        select(func.max(Card.attempt)).where(Card.application_id == application_id)
    ).scalar_one()
    card = Card(
        application_id=application_id, attempt=(last or 0) + 1,
        state=CardState.ALLOCATED, station_id=station_id,
    )
    try:
        with session.begin_nested():
            session.add(card)
            session.flush()
    except IntegrityError as exc:
        raise CardAllocationError(
            f"application {application_id}: a live card already exists; spoil it first"
        ) from exc
    audit.record(
        session,
        audit.Entry(
            actor=actor.name, site=actor.site, action="card.allocated", entity_type="card",
            entity_id=str(card.id), to_state=str(CardState.ALLOCATED),
            details={"application_id": application_id, "attempt": card.attempt},
        ),
    )
    return card
