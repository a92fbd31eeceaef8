"""JSON shapes of the bookmarks API."""

from __future__ import annotations

from pydantic import BaseModel, StrictInt, StrictStr

from socius.content.models import Item
from socius.content.schemas import ItemOut, Strict, Window


class BookmarkOut(ItemOut):
    """`link` is the bookmarked address (`url` is the bookmark's page here)."""

    link: str

    @classmethod
    def of(cls, item: Item) -> BookmarkOut:
        return cls(**cls.fields_of(item), link=item.data.get("url", ""))


class BookmarksOut(BaseModel):
    items: list[BookmarkOut]
    window: Window


class BookmarkIn(Strict):
    """The address is checked by the service (http/https only, no credentials, at most 2,000 characters)."""

    url: StrictStr
    title: StrictStr = ""
    description: StrictStr = ""
    tags: list[StrictStr] = []


class BookmarkEdit(Strict):
    version: StrictInt
    url: StrictStr | None = None
    title: StrictStr | None = None
    description: StrictStr | None = None
    tags: list[StrictStr] | None = None
