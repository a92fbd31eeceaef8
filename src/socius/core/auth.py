"""Who is calling: the principal of a request, from a session cookie or a bearer token."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from socius.core.authz import Permission, has_permission
from socius.core.errors import NotAuthenticated
from socius.people.models import Role

SESSION_COOKIE = "socius_session"
ANON_COOKIE = "socius_anon"  # binds CSRF tokens before sign-in
LOCALE_COOKIE = "socius_locale"


@dataclass(frozen=True)
class Principal:
    person_id: int | None
    role: Role | None
    display_name: str = ""
    via: str = "anonymous"  # "session" | "token" | "anonymous"
    csrf_secret: str | None = None
    locale: str | None = None  # the person's chosen language, if any
    time_zone: str | None = None  # the person's time zone, for showing times

    @property
    def is_authenticated(self) -> bool:
        return self.person_id is not None

    @property
    def is_guest(self) -> bool:
        return self.role == Role.GUEST

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)


ANONYMOUS = Principal(person_id=None, role=None)


def get_principal(request: Request) -> Principal:
    """Set by PrincipalMiddleware; anonymous if nobody signed in."""
    return request.scope.get("state", {}).get("principal", ANONYMOUS)


def require_principal(request: Request) -> Principal:
    principal = get_principal(request)
    if not principal.is_authenticated:
        raise NotAuthenticated()
    return principal
