"""JSON API: who am I, and my personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Response

from socius.accounts import service
from socius.accounts.schemas import Me, TokenCreate, TokenCreated, TokenOut
from socius.core.authz import Permission, require
from socius.core.requests import Caller, Session

router = APIRouter(tags=["accounts"])


@router.get("/me", response_model=Me)
async def me(principal: Caller) -> Me:
    return Me(id=principal.person_id, display_name=principal.display_name, role=principal.role,
              locale=principal.locale)


@router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(db: Session, principal: Caller) -> list[TokenOut]:
    require(principal, Permission.TOKEN_MANAGE_OWN)
    tokens = await service.list_tokens(db, principal.person_id)
    return [TokenOut.model_validate(t, from_attributes=True) for t in tokens]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
async def create_token(db: Session, principal: Caller, body: TokenCreate) -> TokenCreated:
    require(principal, Permission.TOKEN_MANAGE_OWN)
    token, raw = await service.create_token(db, principal.person_id, body.name, principal.person_id)
    await db.refresh(token)
    return TokenCreated(**TokenOut.model_validate(token, from_attributes=True).model_dump(), token=raw)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(db: Session, principal: Caller, token_id: int) -> Response:
    await service.revoke_token(db, principal, token_id)
    return Response(status_code=204)
