"""Input types every route shares: ids the database can hold, and text without control characters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import StringConstraints

from issuance.auth import MAX_ID

# C0 controls and DEL, except tab, line feed and carriage return: PostgreSQL refuses NUL, and
# nothing typed at a counter needs the others.
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"

# Ids beyond a 32-bit integer name nothing (ids are INTEGER on both databases): 422, not 500.
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A record id (1 to 2^31-1).")]
Text = Annotated[str, StringConstraints(pattern=NO_CONTROL)]
Line = Annotated[str, StringConstraints(pattern=ONE_LINE)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")]
