"""JSON shapes of the forum API."""

from __future__ import annotations

from pydantic import BaseModel, StrictBool, StrictInt

from socius.content.models import Item
from socius.content.schemas import ItemOut, Strict, TextEdit, TextIn, Window


class TopicOut(ItemOut):
    question: bool
    accepted_id: int | None

    @classmethod
    def of(cls, item: Item) -> TopicOut:
        return cls(**cls.fields_of(item), question=bool(item.data.get("question")), accepted_id=item.accepted_id)


class TopicsOut(BaseModel):
    items: list[TopicOut]
    window: Window


class RepliesOut(BaseModel):
    items: list[ItemOut]


class TopicIn(TextIn):
    question: StrictBool = False


class TopicEdit(TextEdit):
    question: StrictBool | None = None


class AcceptIn(Strict):
    """The reply to accept; null takes the acceptance back."""

    reply_id: StrictInt | None
