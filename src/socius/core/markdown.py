"""User text: Markdown rendered to HTML and sanitised, so no script or javascript: link survives."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}


@cache
def _parser() -> MarkdownIt:
    # Raw HTML is not allowed in the source at all; nh3 then removes anything unsafe that remains.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table").enable(
        "strikethrough"
    )


def render(source: str) -> str:
    html = _parser().render(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
