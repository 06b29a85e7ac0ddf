"""One error body for every failure the API reports: a message and field errors in English and Arabic.

`{"message": "...", "errors": [{"field": "...", "rule": "...", "en": "...", "ar": "..."}]}`;
no error ever echoes what was sent (a mistyped password stays unseen).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from issuance.roles import PermissionDenied
from issuance.transitions import IllegalTransition, NotFound


class FieldProblem(BaseModel):
    field: str
    rule: str
    en: str
    ar: str


class ErrorBody(BaseModel):
    message: str
    errors: list[FieldProblem]


# What each status means, as a rule name and in Arabic, when the error names no field.
STATUS_RULES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "الطلب غير صالح"),
    401: ("sign_in", "يلزم تسجيل الدخول، أو بيانات الدخول غير صحيحة"),
    403: ("forbidden", "لا تملك صلاحية هذا الإجراء"),
    404: ("not_found", "غير موجود"),
    405: ("method", "هذه الطريقة غير مسموحة هنا"),
    409: ("conflict", "يتعارض مع حالة السجل الحالية"),
    413: ("too_large", "الحجم أكبر من المسموح"),
    415: ("media_type", "نوع المحتوى غير مقبول"),
    422: ("invalid", "البيانات غير صالحة"),
    429: ("too_many_attempts", "محاولات كثيرة، حاول لاحقا"),
}
# Arabic for the rules of request parsing (pydantic error types), by prefix.
PARSE_RULES_AR: dict[str, str] = {
    "missing": "حقل مطلوب",
    "string_too_long": "النص أطول من المسموح",
    "string_too_short": "النص أقصر من المسموح",
    "string_pattern_mismatch": "يحتوي على أحرف غير مسموح بها",
    "string_type": "يجب أن يكون نصا",
    "int_": "يجب أن يكون عددا صحيحا",
    "bool_": "يجب أن يكون صحا أو خطأ",
    "less_than": "القيمة أكبر من المسموح",
    "greater_than": "القيمة أصغر من المسموح",
    "json_": "نص JSON غير صالح",
    "model_": "يجب أن يكون كائن JSON",
    "dict_": "يجب أن يكون كائن JSON",
    "list_": "يجب أن يكون قائمة",
    "literal_error": "ليست من القيم المسموحة",
    "enum": "ليست من القيم المسموحة",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": rule.replace("_", " ")}
    for status, (rule, _) in STATUS_RULES.items() if status not in (400, 405)
}


def _status_text(status: int) -> tuple[str, str]:
    return STATUS_RULES.get(status, ("error", "حدث خطأ"))


def _arabic_for(rule: str) -> str:
    return next((ar for prefix, ar in PARSE_RULES_AR.items() if rule.startswith(prefix)), "القيمة غير صالحة")


def body(status: int, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The error body; with no field errors, one item naming the status's rule."""
    if not errors:
        rule, ar = _status_text(status)
        errors = [{"field": "", "rule": rule, "en": message, "ar": ar}]
    return {"message": message, "errors": errors}


def _item(raw: Mapping[str, Any], status: int) -> dict[str, str]:
    rule = str(raw.get("rule") or raw.get("code") or raw.get("type") or _status_text(status)[0])
    en = str(raw.get("en") or raw.get("message_en") or raw.get("message") or raw.get("msg") or "")
    ar = str(raw.get("ar") or raw.get("message_ar") or _arabic_for(rule))
    return {"field": str(raw.get("field", "")), "rule": rule, "en": en, "ar": ar}


def from_detail(status: int, detail: Any) -> dict[str, Any]:
    """Any HTTPException detail (text, or a dict with a message and errors) in the one shape."""
    if isinstance(detail, Mapping):
        message = str(detail.get("message") or _status_text(status)[0])
        items = detail.get("errors")
        errors = [_item(e, status) for e in items if isinstance(e, Mapping)] if isinstance(items, list) \
            else [_item(detail, status)]
        return body(status, message, errors)
    return body(status, str(detail))


def _where(loc: tuple[Any, ...]) -> str:
    # ("body", "username") -> "username"; ("path", "application_id") -> "application_id"
    return ".".join(str(p) for p in loc if p not in ("body", "path", "query", "header"))


def from_validation(exc: RequestValidationError) -> dict[str, Any]:
    """Request parsing errors, each naming its field and rule; the rejected input is never echoed."""
    errors = [{"field": _where(tuple(e.get("loc", ()))), "rule": str(e.get("type", "invalid")),
               "en": str(e.get("msg", "invalid")), "ar": _arabic_for(str(e.get("type", "")))}
              for e in exc.errors()]
    return body(422, "the request is invalid", errors)


def _respond(status: int, content: dict[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=dict(headers or {}))


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # FastAPI's "error parsing the body": a body that is not JSON at all
        error = {"field": "body", "rule": "json_invalid", "en": "the body is not valid JSON",
                 "ar": PARSE_RULES_AR["json_"]}
        return _respond(422, body(422, "the body is not valid JSON", [error]))
    return _respond(exc.status_code, from_detail(exc.status_code, exc.detail), exc.headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _respond(422, from_validation(exc))


def _plain(status: int) -> Callable[[Request, Exception], JSONResponse]:
    def handler(_: Request, exc: Exception) -> JSONResponse:
        return _respond(status, body(status, str(exc)))

    return handler


def install(app: FastAPI) -> None:
    """Route every error the app raises through the one body shape."""
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(PermissionDenied, _plain(403))
    app.add_exception_handler(IllegalTransition, _plain(409))
    app.add_exception_handler(NotFound, _plain(404))
