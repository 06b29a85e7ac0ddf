"""The audit log viewer: filtered entries, newest first, and whether the hash chain still verifies.

VERIFY_AUDIT (supervisors and admins); a supervisor sees the entries of their own site only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from issuance import audit
from issuance.audit_search import AuditQueryError, AuditScopeError, parse_query, search
from issuance.reports import zone
from issuance.roles import Permission
from issuance.sites import sees_all_sites, site_codes
from issuance.web.pages.deps import Db, PageRefused, Rt, Visit, page_guard, render

router = APIRouter(prefix="/audit", include_in_schema=False)
Auditor = Annotated[Visit, Depends(page_guard(Permission.VERIFY_AUDIT))]


@router.get("")
def audit_page(request: Request, v: Auditor, session: Db, rt: Rt) -> Response:
    """Entries matching the filters (actor, entity, action, dates, site), a page at a time."""
    raw = dict(request.query_params)
    sites = site_codes(session) if sees_all_sites(v.user) else [v.user.site]
    try:
        query = parse_query(raw)
        found = search(session, v.user, query, zone(rt.settings.timezone))
    except AuditQueryError as exc:
        return render(request, "audit/index.html", v.words, status=422, visit=v, raw=raw, sites=sites,
                      error=str(exc), error_field=exc.field, page=None, filters={})
    except AuditScopeError as exc:
        raise PageRefused(403, str(exc), "forbidden") from exc
    return render(request, "audit/index.html", v.words, visit=v, raw=raw, sites=sites, error="",
                  error_field="", page=found, filters=query.filters(), timezone=rt.settings.timezone)


@router.get("/verify")
def verify_page(request: Request, v: Auditor, session: Db) -> Response:
    """Walk the whole chain and its signed checkpoints (no new checkpoint: a read-only look)."""
    verdict = audit.verify(session, checkpoint=False)
    name = "audit/_verdict.html" if "HX-Request" in request.headers else "audit/verify.html"
    return render(request, name, v.words, visit=v, verdict=verdict)
