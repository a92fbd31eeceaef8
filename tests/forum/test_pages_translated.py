"""The forum, blog and bookmark pages show no English interface text in Chinese (as tests/core/test_pages_translated.py
does for the core pages; these need a community with content)."""

from __future__ import annotations

import re

import pytest

from socius.blog import service as blog
from socius.bookmarks import service as bookmarks
from socius.forum import service as forum
from tests.core.test_pages_translated import english_ui_strings, visible_text


@pytest.mark.parametrize("locale", ["zh-TW", "zh-CN"])
async def test_app_pages_have_no_english_interface_text(db, client, admin, make_person, community, login, locale):
    helper = await make_person("幫手")
    town = await community(admin, "品管社群", members=[helper])
    topic = await forum.create_topic(db, admin.principal, town.id, {"title": "問題", "body": "內容",
                                                                   "tags": ["品管"], "question": True})
    reply = await forum.reply(db, helper.principal, topic.id, "答案")
    await forum.reply(db, helper.principal, topic.id, "另一個答案")
    await forum.accept(db, admin.principal, topic.id, reply.id)
    entry = await blog.create_entry(db, admin.principal, town.id, {"title": "文章", "body": "內容", "tags": ["品管"]})
    mark = await bookmarks.create_bookmark(db, admin.principal, town.id,
                                           {"url": "https://example.com/", "title": "網站"})
    await db.flush()
    await login(client, admin)
    english = english_ui_strings()
    c = f"/communities/{town.id}"
    for path in (f"{c}/forum", f"{c}/forum?show=unanswered", f"{c}/forum/new", f"{c}/forum/{topic.id}",
                 f"{c}/forum/{topic.id}/edit", f"{c}/blog", f"{c}/blog/new", f"{c}/blog/{entry.id}",
                 f"{c}/blog/{entry.id}/edit", f"{c}/bookmarks", f"{c}/bookmarks/new", f"{c}/bookmarks/{mark.id}",
                 f"{c}/bookmarks/{mark.id}/edit"):
        response = await client.get(path, headers={"Accept-Language": locale})
        assert response.status_code == 200, path
        text = visible_text(response.text)
        left = sorted(s for s in english if re.search(rf"(?<![A-Za-z]){re.escape(s)}(?![A-Za-z])", text))
        assert not left, f"{path} in {locale} still shows: {left}"
