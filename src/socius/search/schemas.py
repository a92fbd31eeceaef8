"""Shapes of the search API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class SearchHitOut(BaseModel):
    kind: str
    id: int
    title: str
    url: str
    subtitle: str = ""
    # Safe HTML: the text is escaped, matches are wrapped in <mark>.
    snippet: str = ""
    score: float
    updated_at: dt.datetime | None = None
    former: bool | None = None
    external: bool | None = None


class SearchOut(BaseModel):
    q: str
    total: int
    page: int
    per_page: int
    # Large counts are estimated from a sample and rounded to two significant digits: then this is true.
    total_is_estimate: bool = False
    # Matches per kind for the same query and filters, whichever kind is selected.
    facets: dict[str, int]
    # Kinds whose counts in `facets` are such estimates.
    estimated_facets: list[str] = []
    did_you_mean: str | None = None
    items: list[SearchHitOut]


class SuggestionOut(BaseModel):
    kind: str
    id: int
    title: str
    url: str
    subtitle: str = ""


class SuggestionsOut(BaseModel):
    items: list[SuggestionOut]
