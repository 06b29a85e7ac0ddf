"""The supervisor's exceptions page: what waits for a decision, from the supervisor API's own query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from issuance.roles import Permission
from issuance.web.pages.deps import Db, Visit, page_guard, render
from issuance.web.supervisor import list_exceptions

router = APIRouter(prefix="/supervisor", include_in_schema=False)
Reviewer = Annotated[Visit, Depends(page_guard(Permission.RESOLVE_EXCEPTIONS))]


@router.get("/exceptions")
def exceptions(request: Request, v: Reviewer, session: Db) -> Response:
    """Applications held in `exception`, oldest first, with their reasons."""
    return render(request, "supervisor/exceptions.html", v.words, visit=v,
                  rows=list_exceptions(v.user, session))
