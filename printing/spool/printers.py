"""Printers registered by kind: `cups:QUEUE` or `folder:PATH`."""

from __future__ import annotations

from pathlib import Path

from printing.spool.base import Spooler, SpoolError
from printing.spool.cups import CupsSpooler
from printing.spool.folder import FolderSpooler


def spooler_for(printer: str, cups_server: str | None = None) -> Spooler:
    """The spooler of a printer registration ('cups:QUEUE' or 'folder:PATH')."""
    kind, _, target = printer.partition(":")
    if kind == "cups" and target:
        return CupsSpooler(target, cups_server)
    if kind == "folder" and target:
        return FolderSpooler(Path(target))
    raise SpoolError(f"printer {printer!r}: must be 'cups:QUEUE' or 'folder:PATH'")
