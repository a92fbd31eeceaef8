"""One error tree for pages and API.

Services raise these; `app.py` renders them as JSON (`{"error": {...}}`) under /api and as an HTML page
elsewhere. Messages are gettext msgids with `{placeholders}`, translated when rendered in the caller's language.
Services never raise HTTP exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socius.core.i18n import N_, gettext


@dataclass
class FieldError:
    field: str
    reason: str  # msgid
    params: dict[str, Any] = field(default_factory=dict)

    def render(self) -> dict[str, str]:
        return {"field": self.field, "reason": gettext(self.reason).format(**self.params)}


class SociusError(Exception):
    status = 400
    code = "bad_request"
    message = N_("The request could not be processed.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.message)

    def render_message(self) -> str:
        return gettext(self.message).format(**self.params)

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.render_message()}}


class NotFound(SociusError):
    """Missing and forbidden objects look the same."""

    status = 404
    code = "not_found"
    message = N_("Not found.")


class NotAuthenticated(SociusError):
    status = 401
    code = "not_authenticated"
    message = N_("Please sign in.")


class PermissionDenied(SociusError):
    status = 403
    code = "forbidden"
    message = N_("You are not allowed to do this.")


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    message = N_("The form has expired. Please reload the page and try again.")


class Conflict(SociusError):
    status = 409
    code = "conflict"
    message = N_("The change conflicts with the current state.")


class RateLimited(SociusError):
    status = 429
    code = "rate_limited"
    message = N_("Too many attempts. Please wait a few minutes and try again.")


class MethodNotAllowed(SociusError):
    status = 405
    code = "method_not_allowed"
    message = N_("This method is not allowed here.")


class ServiceUnavailable(SociusError):
    """The database could not be reached: worth retrying, nothing the client did wrong."""

    status = 503
    code = "unavailable"
    message = N_("The service is briefly unavailable. Please try again.")


class InternalError(SociusError):
    """A bug: logged with its traceback; the client learns nothing more."""

    status = 500
    code = "internal_error"
    message = N_("Something went wrong on our side. It has been logged.")


class ValidationFailed(SociusError):
    """Bad input: names every field at fault and the reason."""

    status = 422
    code = "invalid"
    message = N_("Some fields are not valid.")

    def __init__(self, errors: list[FieldError] | FieldError, message: str | None = None) -> None:
        super().__init__(message)
        self.errors = errors if isinstance(errors, list) else [errors]

    @classmethod
    def one(cls, field: str, reason: str, **params: Any) -> ValidationFailed:
        return cls([FieldError(field, reason, params)])

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["error"]["fields"] = [e.render() for e in self.errors]
        return body

    def by_field(self) -> dict[str, str]:
        return {e.field: e.render()["reason"] for e in self.errors}
