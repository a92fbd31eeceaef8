"""JSON shapes of the blog API: an entry is an item as `content.schemas` shows it."""

from __future__ import annotations

from pydantic import BaseModel

from socius.content.schemas import ItemOut, TextEdit, TextIn, Window

EntryOut = ItemOut
EntryIn = TextIn
EntryEdit = TextEdit


class EntriesOut(BaseModel):
    items: list[EntryOut]
    window: Window
