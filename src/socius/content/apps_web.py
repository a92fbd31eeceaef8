"""Page helpers the community apps (forum, blog, bookmarks) share: reading an item form, showing it again with
what was wrong (422), or with the conflict when someone saved first (409: the editor's text stays in the form, the
text saved meanwhile is shown beside it, and the form now carries that version so saving again is a decision)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from socius.content import apps
from socius.content import service as content
from socius.content.models import Item
from socius.core.errors import Conflict, NotFound, ValidationFailed
from socius.core.requests import client_ip
from socius.core.templating import render

PAGE_PARAM_MAX = apps.MAX_OFFSET // apps.PAGE_SIZE + 1


@dataclass(frozen=True)
class FormSpec:
    """An app's item form: its template, its text fields and its checkboxes."""

    template: str
    fields: tuple[str, ...] = ("title", "body", "tags")
    checkboxes: tuple[str, ...] = ()


def page_number(raw: Any) -> int:
    """?page=N as a number from 1 (anything else: the first page)."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), PAGE_PARAM_MAX)


async def read_form(request: Request, spec: FormSpec) -> tuple[dict[str, Any], Any]:
    """(the item's values, the version the editor started from)."""
    form = await request.form()
    values: dict[str, Any] = {name: str(form.get(name, "")) for name in spec.fields}
    for name in spec.checkboxes:
        values[name] = form.get(name) is not None
    return values, apps.expected_version(str(form.get("version", "")))


def values_of(item: Item, spec: FormSpec) -> dict[str, Any]:
    """The form's values for an item as saved."""
    values: dict[str, Any] = {"title": item.title, "body": item.body_md, "description": item.body_md,
                              "tags": ", ".join(item.tags), **{k: v for k, v in item.data.items()
                                                               if isinstance(v, str | bool)}}
    return {name: values.get(name, "") for name in (*spec.fields, *spec.checkboxes)}


def form_page(request: Request, spec: FormSpec, place: apps.Place, values: dict[str, Any], *,
              item: Item | None = None, version: Any = None, errors: dict | None = None,
              conflict: str | None = None, current: Item | None = None, status: int = 200,
              **extra: Any) -> Response:
    return render(request, spec.template, {
        "place": place, "community": place.community, "values": values, "item": item, "version": version,
        "errors": errors or {}, "conflict": conflict, "current": current, **extra}, status=status)


async def item_in(db, principal, community_id: Any, item_id: Any,
                  get: Callable[..., Awaitable[Item]]) -> tuple[apps.Place, Item]:
    """The item, read through its app's service, and only at its own community's address."""
    item = await get(db, principal, item_id)
    if item.community_id != community_id:
        raise NotFound()
    return await apps.community_place(db, principal, community_id), item


async def new_form(request: Request, db, principal, community_id: Any, spec: FormSpec, **extra: Any) -> Response:
    """An empty form: only for members of a community that is not archived (403/409 otherwise, 404 if the
    community cannot be read)."""
    from socius.communities import service as communities

    place = await apps.community_place(db, principal, community_id)
    await communities.require_contributor(db, principal, place.community)
    return form_page(request, spec, place, {name: "" for name in (*spec.fields, *spec.checkboxes)}, **extra)


async def create(request: Request, db, principal, community_id: Any, spec: FormSpec,
                 save: Callable[..., Awaitable[Item]], *, refusals: tuple = (), **extra: Any) -> Response:
    """Save a new item (`save(db, principal, community_id, values, ip=)`) and go to its page; bad input shows the
    form again with each field's reason. `refusals` are Conflicts the form shows too (a duplicate bookmark)."""
    place = await apps.community_place(db, principal, community_id)
    values, _version = await read_form(request, spec)
    try:
        item = await save(db, principal, community_id, values, ip=client_ip(request))
    except ValidationFailed as error:
        return form_page(request, spec, place, values, errors=error.by_field(), status=error.status, **extra)
    except refusals as error:
        return form_page(request, spec, place, values, refusal=error, status=error.status, **extra)
    return RedirectResponse(content.item_url(item), status_code=303)


async def edit_form(request: Request, db, principal, community_id: Any, item_id: Any, spec: FormSpec,
                    get: Callable[..., Awaitable[Item]], **extra: Any) -> Response:
    """The edit form, for those who may edit (everyone else: 404, as if there were no form)."""
    place, item = await item_in(db, principal, community_id, item_id, get)
    if not await content.can_edit(db, principal, item):
        raise NotFound()
    return form_page(request, spec, place, values_of(item, spec), item=item, version=item.version, **extra)


async def save_edit(request: Request, db, principal, community_id: Any, item_id: Any, spec: FormSpec,
                    get: Callable[..., Awaitable[Item]], save: Callable[..., Awaitable[Item]], *,
                    refusals: tuple = (), **extra: Any) -> Response:
    place, item = await item_in(db, principal, community_id, item_id, get)
    values, version = await read_form(request, spec)
    try:
        saved = await save(db, principal, item.id, values, expected_version=version, ip=client_ip(request))
    except ValidationFailed as error:
        return form_page(request, spec, place, values, item=item, version=version, errors=error.by_field(),
                         status=error.status, **extra)
    except refusals as error:
        return form_page(request, spec, place, values, item=item, version=version, refusal=error,
                         status=error.status, **extra)
    except Conflict as error:
        current = await get(db, principal, item.id)
        return form_page(request, spec, place, values, item=current, version=current.version,
                         conflict=error.render_message(), current=current, status=error.status, **extra)
    return RedirectResponse(content.item_url(saved), status_code=303)


async def list_page(request: Request, db, principal, template: str, listing: apps.Listing, page: int,
                    **extra: Any) -> Response:
    """A page of a community app's items with their authors and what the caller may do there."""
    return render(request, template, {
        "listing": listing, "community": listing.community, "page": page,
        "place": await apps.place(db, principal, listing.community),
        "authors": await apps.authors_of(db, listing.items), **extra})


async def item_page(request: Request, db, principal, community_id: Any, item_id: Any, template: str,
                    get: Callable[..., Awaitable[Item]], **extra: Any) -> Response:
    """An item's page in its app, with the social bar (comments or replies, likes, moderation) under it.
    `extra` may hold functions of the item, awaited for its context."""
    from socius.content import web as content_web

    place, item = await item_in(db, principal, community_id, item_id, get)
    context = await content_web.social_context(db, principal, item)
    context.update(place=place, community=place.community)
    for name, value in extra.items():
        context[name] = (await value(item)) if callable(value) else value
    return render(request, template, context)
