"""The clerk's application form: every applicant field, live field errors, the MRZ name proposal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from enrollment.api import ApplicantIn, create_draft
from enrollment.application_check import check_application, proposed_mrz_name
from enrollment.errors import ValidationError
from enrollment.field_labels import CHOICES, FORM_FIELDS, label
from enrollment.fields import ARABIC_NAME_FIELDS
from enrollment.rules import rules_from_config
from issuance.roles import Permission
from issuance.web.pages.deps import Db, Rt, Visit, page_guard, render, see_other
from issuance.web.pages.i18n import Words

router = APIRouter(prefix="/counter", include_in_schema=False)
Clerk = Annotated[Visit, Depends(page_guard(Permission.ENROLL))]
TOUCHED = "_touched"
_WIDE = frozenset({"address"})
_DATES = frozenset({"birth_date"})
_DEFAULT_TO_STATE = ("nationality", "issuing_state")


def _form_values(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in FORM_FIELDS}


def field_views(
    words: Words, values: Mapping[str, str], errors: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """What the template needs for each field, in the enrollment module's field order."""
    views = []
    for name in FORM_FIELDS:
        widget = "select" if name in CHOICES else "date" if name in _DATES else (
            "textarea" if name in _WIDE else "text")
        choices = [(code, ar if words.language == "ar" else en) for code, en, ar in CHOICES.get(name, ())]
        views.append({"name": name, "label": label(name, words.language), "widget": widget,
                      "choices": choices, "value": values.get(name, ""),
                      "dir": "rtl" if name in ARABIC_NAME_FIELDS else "ltr",
                      "errors": errors.get(name, [])})
    return views


def _messages(errors: list[dict[str, str]], words: Words) -> dict[str, list[str]]:
    key = "message_ar" if words.language == "ar" else "message_en"
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e["field"], []).append(e[key])
    return out


def _new_form(request: Request, v: Visit, values: Mapping[str, str],
              errors: Mapping[str, list[str]], status: int = 200) -> Response:
    proposal = proposed_mrz_name(values)
    return render(request, "counter/new.html", v.words, status=status, visit=v,
                  fields=field_views(v.words, values, errors), proposal=proposal,
                  has_errors=bool(errors))


@router.get("/new")
def new_application(request: Request, v: Clerk, rt: Rt) -> Response:
    """The empty application form (nationality and issuing state default to this state's code)."""
    values = {name: rt.settings.issuing_state for name in _DEFAULT_TO_STATE}
    return _new_form(request, v, values, {})


@router.post("/new")
async def create_application(request: Request, v: Clerk, session: Db, rt: Rt) -> Response:
    """Open the draft through the enrollment API's own handler, or show its field errors."""
    values = _form_values(await request.form())
    body = ApplicantIn(**{k: val for k, val in values.items() if val})
    try:
        draft = create_draft(v.user, body, session, rt)
    except HTTPException as exc:
        if exc.status_code != 422 or not isinstance(exc.detail, dict):
            raise
        return _new_form(request, v, values, _messages(exc.detail["errors"], v.words), status=422)
    return see_other(f"/counter/applications/{draft.id}/photo")


@router.post("/check")
async def check(request: Request, v: Clerk, rt: Rt) -> Response:
    """Field errors while the clerk types, by the same rule objects as the API (htmx fragments).

    Only fields already typed in or visited are reported, so an empty form is not all red.
    """
    form = await request.form()
    values = _form_values(form)
    raw = {k: val for k, val in values.items() if val}
    raw.setdefault("issuing_state", rt.settings.issuing_state)
    shown = {n for n, val in values.items() if val} | set(str(form.get(TOUCHED, "")).split())
    shown.add(request.headers.get("HX-Trigger-Name", ""))
    errors: dict[str, list[str]] = {}
    try:
        check_application(raw, rules_from_config(rt.settings.extra))
    except ValidationError as exc:
        errors = _messages([e.as_dict() for e in exc.errors if e.field in shown], v.words)
    return render(request, "counter/_check.html", v.words, visit=v, fields=FORM_FIELDS, errors=errors,
                  proposal=proposed_mrz_name(values))
