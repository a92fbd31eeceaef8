"""Render the one error tree: JSON for API clients, an HTML page (or a redirect to sign in) for browsers."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from socius.core.errors import (
    FieldError,
    InternalError,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    SociusError,
    ValidationFailed,
)
from socius.core.i18n import N_

log = structlog.get_logger(__name__)


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/scim/")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render_error(request: Request, error: SociusError) -> Response:
    if wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return JSONResponse(error.to_json(), status_code=error.status, headers=headers)
    if isinstance(error, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": f"/login?next={quote(target)}"})
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    from socius.core.templating import render

    details = error.by_field() if isinstance(error, ValidationFailed) else {}
    return render(request, "error.html", {"error": error, "details": details}, status=error.status)


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form")]
    return ".".join(parts) or "body"


def _reason(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return N_("is required")
    if kind == "extra_forbidden":
        return N_("is not a known field")
    if kind == "json_invalid":
        return N_("is not valid JSON")
    if kind.startswith("int") or kind.startswith("float"):
        return N_("must be a number")
    if kind.startswith("bool"):
        return N_("must be true or false")
    if kind.startswith("list"):
        return N_("must be a list")
    if kind.startswith(("string", "str")):
        return N_("must be text")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return N_("must be an object")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return N_("is out of range")
    return N_("is not valid")


def install(app: FastAPI) -> None:
    @app.exception_handler(SociusError)
    async def socius_error(request: Request, error: SociusError) -> Response:
        return render_error(request, error)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, error: RequestValidationError) -> Response:
        errors = []
        for e in error.errors():
            # A JSON syntax error's location is a character offset, not a field: name the body.
            field = "body" if e.get("type") == "json_invalid" else _field_name(tuple(e.get("loc", ())))
            errors.append(FieldError(field, _reason(e)))
        return render_error(request, ValidationFailed(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return render_error(request, NotFound())
        if error.status_code == 405:
            return render_error(request, MethodNotAllowed())
        if error.status_code == 401:
            return render_error(request, NotAuthenticated())
        if error.status_code == 403:
            return render_error(request, PermissionDenied())
        if error.status_code == 400:  # FastAPI could not parse the body (not UTF-8, broken multipart)
            return render_error(request, ValidationFailed.one("body", N_("could not be read")))
        generic = SociusError()
        generic.status = error.status_code
        return render_error(request, generic)

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, error: OperationalError) -> Response:
        log.warning("database_unavailable", path=request.url.path, error=type(error.orig).__name__)
        return render_error(request, ServiceUnavailable())

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        return render_error(request, InternalError())
