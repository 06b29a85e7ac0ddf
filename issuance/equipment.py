"""Encoding stations and card printers known to each site."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Printer, Station


def add_station(session: Session, code: str, site: str, reader: str, actor: str) -> Station:
    """Register an encoding station (one PC/SC reader)."""
    station = Station(code=code, site=site, reader=reader)
    session.add(station)
    session.flush()
    audit.record(session, audit.Entry(actor=actor, site=site, action="station.added",
                                      entity_type="station", entity_id=code, details={"reader": reader}))
    return station


def add_printer(session: Session, code: str, site: str, kind: str, destination: str, actor: str) -> Printer:
    """Register a card printer behind a spooler (`folder` or `cups`)."""
    if kind not in ("folder", "cups"):
        raise ValueError(f"kind: must be 'folder' or 'cups', got {kind!r}")
    printer = Printer(code=code, site=site, kind=kind, destination=destination)
    session.add(printer)
    session.flush()
    audit.record(session, audit.Entry(actor=actor, site=site, action="printer.added",
                                      entity_type="printer", entity_id=code,
                                      details={"kind": kind, "destination": destination}))
    return printer


def site_stations(session: Session, site: str) -> list[Station]:
    return list(session.scalars(select(Station).where(Station.site == site, Station.active)
                                .order_by(Station.code)))


def site_printer(session: Session, site: str) -> Printer | None:
    return session.scalars(select(Printer).where(Printer.site == site, Printer.active)
                           .order_by(Printer.code)).first()
