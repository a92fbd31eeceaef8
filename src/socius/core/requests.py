"""Small helpers every web and API module uses on the incoming request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.auth import Principal, get_principal, require_principal
from socius.core.db import get_session

Session = Annotated[AsyncSession, Depends(get_session)]
Caller = Annotated[Principal, Depends(require_principal)]
MaybeCaller = Annotated[Principal, Depends(get_principal)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never redirect a signed-in person to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def json_response(model: BaseModel, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A pydantic model serialised once (FastAPI would validate a returned model again)."""
    return Response(model.__pydantic_serializer__.to_json(model), status_code=status,
                    media_type="application/json", headers=headers)
