"""Cursor (keyset) pagination: opaque cursors that name the last row seen."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from socius.core.errors import ValidationFailed
from socius.core.i18n import N_

T = TypeVar("T")
MAX_CURSOR_LENGTH = 512
MAX_LIMIT = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The values in a cursor, checked against the expected types; a clear error otherwise."""
    error = ValidationFailed.one(field, N_("is not a valid cursor"))
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise error
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise error from None
    if not isinstance(values, list) or len(values) != len(types):
        raise error
    for value, expected in zip(values, types, strict=True):
        if not isinstance(value, expected) or isinstance(value, bool):
            raise error
    return tuple(values)


def check_limit(limit: int, field: str = "limit") -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationFailed.one(field, N_("must be between 1 and {n}"), n=MAX_LIMIT)
    return limit
