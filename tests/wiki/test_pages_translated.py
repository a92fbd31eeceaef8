"""The wiki and files pages show no English interface text in Chinese (the core test's rule, on pages that
need a community)."""

from __future__ import annotations

import hashlib
import re

import pytest

from socius.files import service as files
from socius.files.upload import Received
from socius.wiki import service as wiki
from tests.core.test_pages_translated import english_ui_strings, visible_text


@pytest.mark.parametrize("locale", ["zh-TW", "zh-CN"])
async def test_wiki_and_files_pages_are_translated(app, client, login, db, member, community, settings, tmp_path,
                                                   locale):
    app.state.settings = settings.model_copy(update={"data_dir": tmp_path})
    team = await community(member, "知識庫", access="restricted")
    page = await wiki.create_page(db, member.principal, team.id, {"title": "首頁", "body": "內容\n"})
    child = await wiki.create_page(db, member.principal, team.id, {"title": "子頁", "parent_id": page.id})
    await wiki.edit_page(db, member.principal, page.id, {"body": "內容二\n"}, expected_version=1)
    temp = tmp_path / "upload"
    temp.write_bytes(b"hello\n")
    item, _version = await files.add_file(db, member.principal, team.id, Received(
        path=temp, filename="說明.txt", size=6, sha256=hashlib.sha256(b"hello\n").hexdigest(), head=b"hello\n"),
        app.state.settings)
    await db.flush()
    await login(client, member)
    english = english_ui_strings()
    paths = [f"/communities/{team.id}/wiki", page.url, child.url, page.url + "/edit", page.url + "/history",
             page.url + "/revisions/1", page.url + "/diff?from=1&to=2", f"/communities/{team.id}/wiki/new",
             f"/communities/{team.id}/files", f"/communities/{team.id}/files/{item.id}"]
    for path in paths:
        response = await client.get(path, headers={"Accept-Language": locale})
        assert response.status_code == 200, path
        text = visible_text(response.text)
        left = sorted(s for s in english if re.search(rf"(?<![A-Za-z]){re.escape(s)}(?![A-Za-z])", text))
        assert not left, f"{path} in {locale} still shows: {left}"
