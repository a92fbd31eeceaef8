"""What a principal may do. Permissions have names (`scope:resource:action`) so grep shows who may do what."""

from __future__ import annotations

import enum

from socius.core.errors import PermissionDenied
from socius.people.models import Role


class Permission(enum.StrEnum):
    DIRECTORY_READ = "people:directory:read"          # browse and search everyone
    PROFILE_EDIT_OWN = "people:profile:edit_own"
    PROFILE_EDIT_ANY = "people:profile:edit_any"
    PEOPLE_ADMINISTER = "people:person:administer"    # roles, deactivation
    AUDIT_READ = "admin:audit:read"
    TOKEN_MANAGE_OWN = "accounts:token:manage_own"
    EXPERTISE_READ = "expertise:experts:read"          # the expert finder, team builder, skills coverage
    TAGS_ADMINISTER = "expertise:tag:administer"      # synonyms and merges
    COMMUNITIES_BROWSE = "communities:community:browse"  # read public and moderated communities, follow people
    COMMUNITIES_CREATE = "communities:community:create"
    COMMUNITIES_ADMINISTER = "communities:community:administer"  # every community, restricted ones included
    CAMPAIGNS_CREATE = "ideas:campaign:create"
    CAMPAIGNS_ADMINISTER = "ideas:campaign:administer"  # every campaign, private ones included


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.GUEST: frozenset({Permission.PROFILE_EDIT_OWN, Permission.TOKEN_MANAGE_OWN}),
    Role.MEMBER: frozenset(
        {Permission.DIRECTORY_READ, Permission.PROFILE_EDIT_OWN, Permission.TOKEN_MANAGE_OWN,
         Permission.EXPERTISE_READ, Permission.COMMUNITIES_BROWSE, Permission.COMMUNITIES_CREATE,
         Permission.CAMPAIGNS_CREATE}
    ),
    Role.ADMINISTRATOR: frozenset(Permission),
}


def has_permission(role: Role | None, permission: Permission) -> bool:
    return role is not None and permission in ROLE_PERMISSIONS[Role(role)]


def require(principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise PermissionDenied()
