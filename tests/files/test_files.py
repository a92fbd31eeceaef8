"""Community files: uploading through the page and the API, what is refused (and that nothing is kept), the
quota, download headers, and who may download — checked on every request."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from sqlalchemy import func, select

from socius.communities import service as communities
from socius.content import service as content
from socius.content.models import Item
from socius.files.models import FileVersion
from tests.files.conftest import stored


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>報告</w:document>")
    return buffer.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def _counts(db) -> tuple[int, int]:
    return (await db.scalar(select(func.count()).select_from(FileVersion)),
            await db.scalar(select(func.count()).select_from(Item).where(Item.kind == "file")))


async def test_a_member_uploads_a_file_and_downloads_it_with_safe_headers(files_app, client, login, db, member,
                                                                          team, tmp_path):
    community, _owner = team
    token = await login(client, member)
    page = await client.get(f"/communities/{community.id}/files")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    body = png()
    made = await client.post(f"/communities/{community.id}/files", data={"csrf_token": token, "description": "標誌"},
                             files={"file": ("設計 稿(1).png", body, "text/html")})
    assert made.status_code == 303, made.text
    item_id = int(made.headers["location"].rsplit("/", 1)[1])
    shown = await client.get(made.headers["location"])
    assert "設計 稿" in shown.text and "Version 1" in shown.text and 'id="social"' in shown.text

    got = await client.get(f"/files/{item_id}/download")
    assert got.status_code == 200 and got.content == body
    assert got.headers["content-type"] == "image/png"  # sniffed, not the text/html the client claimed
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="__ _(1).png"')
    assert "filename*=UTF-8''%E8%A8%AD%E8%A8%88%20%E7%A8%BF%281%29.png" in disposition
    version = (await db.scalars(select(FileVersion).where(FileVersion.item_id == item_id))).one()
    assert stored(tmp_path) == [tmp_path / "files" / version.storage_key]
    assert version.storage_key.endswith(version.sha256) and version.content_type == "image/png"


async def test_a_new_version_keeps_the_old_one(files_app, bearer, db, member, team):
    community, _owner = team
    api = await bearer(files_app, member)
    first = await api.post(f"/api/v1/communities/{community.id}/files", files={"file": ("notes.txt", b"v1\n")})
    assert first.status_code == 201, first.text
    item_id = first.json()["id"]
    second = await api.post(f"/api/v1/files/{item_id}/versions", files={"file": ("notes.txt", b"v2, longer\n")})
    assert second.status_code == 201, second.text
    meta = (await api.get(f"/api/v1/files/{item_id}")).json()
    assert meta["version"] == 2 and [v["number"] for v in meta["versions"]] == [2, 1]
    assert (await api.get(f"/api/v1/files/{item_id}/download")).content == b"v2, longer\n"
    old = await api.get(f"/api/v1/files/{item_id}/download", params={"version": 1})
    assert old.content == b"v1\n" and old.headers["content-type"] == "text/plain; charset=utf-8"
    for bad in ({"version": 3}, {"version": 0}, {"version": 10**30}, {"version": "x"}):
        assert (await api.get(f"/api/v1/files/{item_id}/download", params=bad)).status_code in (404, 422)
    listed = (await api.get(f"/api/v1/communities/{community.id}/files")).json()
    assert [f["filename"] for f in listed["items"]] == ["notes.txt"] and listed["used_bytes"] == 3 + 11
    assert (await api.delete(f"/api/v1/files/{item_id}")).status_code == 204
    assert (await api.get(f"/api/v1/files/{item_id}/download")).status_code == 404
    assert (await api.get(f"/api/v1/communities/{community.id}/files")).json()["used_bytes"] == 0
    await api.aclose()


BOMB = zip_of({"zeros.bin": b"\x00" * (20 * 1024 * 1024)})
MANY = zip_of({f"f{i}.txt": b"" for i in range(10_001)})


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("big.bin", b"x" * (64 * 1024 + 1), "must be at most 64 KB"),
    ("empty.txt", b"", "is empty"),
    ("page.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not accepted"),
    ("page.txt", b"\n  <html><body onload=alert(1)>", "not accepted"),
    ("notes.txt", "<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>".encode("utf-16"),
     "not accepted"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not accepted"),
    ("photo.jpg", png(), "the content is PNG, not what the name .jpg says"),
    ("report.pdf", b"MZ\x90\x00 a Windows program", "the content is binary, not what the name .pdf says"),
    ("scan.txt", b"%PDF-1.7\n...", "the content is PDF: the name must end in .pdf"),
    ("report.docx", b"just text", "the content is text, not what the name .docx says"),
    ("sheet.xlsx", docx(), "the content is Word, not what the name .xlsx says"),
    ("broken.zip", b"PK\x03\x04 not really", "is not a readable zip archive"),
    ("bomb.zip", BOMB, "would expand more than 100 times"),
    ("bomb.docx", BOMB, "would expand more than 100 times"),
    ("many.zip", MANY, "more than 10000 entries"),
    ("../../etc/passwd", b"root", "must not contain / or \\"),
    ("a\\b.txt", b"root", "must not contain / or \\"),
    (b"bell\x07.txt", b"ding", "must not contain control characters"),
    (b"tab\there\x1b.txt", b"ding", "must not contain control characters"),
    ("\u202egnp.txt", b"right-to-left override", "must not contain control characters"),
    ("", b"data", "must have a file name"),
])
async def test_bad_uploads_are_refused_and_nothing_is_kept(files_app, bearer, db, member, team, tmp_path, name,
                                                           data, reason):
    community, _owner = team
    files_app.state.settings = files_app.state.settings.model_copy(update={"file_max_bytes": 2 * 1024 * 1024
                                                                           if len(data) > 64 * 1024 + 1 else
                                                                           64 * 1024,
                                                                           "community_file_quota_bytes": 10**9})
    before = await _counts(db)
    api = await bearer(files_app, member)
    if isinstance(name, bytes):  # a name as raw bytes: clients escape control characters, a crafted request not
        boundary = b"raw-boundary"
        body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="' + name
                + b'"\r\n\r\n' + data + b"\r\n--" + boundary + b"--\r\n")
        refused = await api.post(f"/api/v1/communities/{community.id}/files", content=body,
                                 headers={"Content-Type": "multipart/form-data; boundary=raw-boundary"})
    else:
        refused = await api.post(f"/api/v1/communities/{community.id}/files", files={"file": (name, data)})
    await api.aclose()
    assert refused.status_code == 422, refused.text
    fields = refused.json()["error"]["fields"]
    assert [f["field"] for f in fields] == ["file"]
    assert reason in fields[0]["reason"]
    assert stored(tmp_path) == []
    assert await _counts(db) == before


async def test_the_page_shows_why_an_upload_was_refused(files_app, client, login, db, member, team, tmp_path):
    community, _owner = team
    token = await login(client, member)
    refused = await client.post(f"/communities/{community.id}/files", data={"csrf_token": token},
                                files={"file": ("invoice.pdf", b"<html><script>steal()</script>", "application/pdf")})
    assert refused.status_code == 422
    assert 'id="file-error"' in refused.text and "HTML, SVG, XML and script files are not accepted" in refused.text
    assert stored(tmp_path) == []


async def test_an_upload_without_the_form_token_is_refused_before_the_file_is_read(files_app, client, login, db,
                                                                                   member, team, tmp_path):
    community, _owner = team
    await login(client, member)
    before = await _counts(db)
    forged = await client.post(f"/communities/{community.id}/files", files={"file": ("a.txt", b"hello")})
    assert forged.status_code == 403
    wrong = await client.post(f"/communities/{community.id}/files", data={"csrf_token": "nope"},
                              files={"file": ("a.txt", b"hello")})
    assert wrong.status_code == 403
    assert stored(tmp_path) == [] and await _counts(db) == before


async def test_an_oversized_upload_is_cut_off_while_streaming(files_app, bearer, member, team, tmp_path):
    """No Content-Length: the server stops reading soon after the limit, not at the end of the body."""
    community, _owner = team
    sent = {"bytes": 0}
    boundary = "socius-test-boundary"

    async def body():
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        yield head
        for _ in range(1000):  # 64 MB in all, if anyone read it
            sent["bytes"] += 64 * 1024
            yield b"\x01" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    api = await bearer(files_app, member)
    refused = await api.post(f"/api/v1/communities/{community.id}/files", content=body(),
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    await api.aclose()
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "file"
    assert sent["bytes"] <= 4 * 64 * 1024
    assert stored(tmp_path) == []
    declared = await (await bearer(files_app, member)).post(
        f"/api/v1/communities/{community.id}/files", content=b"",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(10**9)})
    assert declared.status_code == 422  # refused from its Content-Length before a byte is read


async def test_the_community_quota(files_app, bearer, db, member, team, tmp_path):
    community, _owner = team
    api = await bearer(files_app, member)
    for n in range(3):  # 3 × 60 KB of the 200 KB
        made = await api.post(f"/api/v1/communities/{community.id}/files",
                              files={"file": (f"part{n}.bin", bytes([n + 1]) * (60 * 1024))})
        assert made.status_code == 201, made.text
    kept = stored(tmp_path)
    over = await api.post(f"/api/v1/communities/{community.id}/files",
                          files={"file": ("part3.bin", b"\x09" * (60 * 1024))})
    assert over.status_code == 422
    assert over.json()["error"]["fields"] == [{"field": "file",
                                               "reason": "the community's file space is full (180 KB of 200 KB "
                                                         "used)"}]
    assert stored(tmp_path) == kept
    await api.aclose()


async def test_who_may_download(files_app, client, login, bearer, db, make_person, admin, guest, member, team):
    community, owner = team
    api = await bearer(files_app, owner)
    item_id = (await api.post(f"/api/v1/communities/{community.id}/files",
                              files={"file": ("plan.txt", b"secret plan\n")})).json()["id"]
    await api.aclose()
    outsider = await make_person("Outsider")
    urls = [f"/files/{item_id}/download", f"/communities/{community.id}/files/{item_id}",
            f"/communities/{community.id}/files"]
    api_urls = [f"/api/v1/files/{item_id}", f"/api/v1/files/{item_id}/download",
                f"/api/v1/communities/{community.id}/files"]
    for someone, expected in ((outsider, 404), (guest, 404), (member, 200), (admin, 200)):
        client.cookies.clear()
        await login(client, someone)
        for url in urls:
            assert (await client.get(url)).status_code == expected, (someone.username, url)
        reader = await bearer(files_app, someone)
        for url in api_urls:
            assert (await reader.get(url)).status_code == expected, (someone.username, url)
        upload = await reader.post(f"/api/v1/communities/{community.id}/files", files={"file": ("x.txt", b"x")})
        assert upload.status_code == {404: 404, 200: 201}[expected] if someone is not admin else 403
        await reader.aclose()

    # A link kept from while one was a member stops working the moment one leaves.
    client.cookies.clear()
    await login(client, member)
    link = f"/files/{item_id}/download?version=1"
    assert (await client.get(link)).content == b"secret plan\n"
    await communities.leave(db, member.principal, community.id)
    await db.flush()
    assert (await client.get(link)).status_code == 404
    reader = await bearer(files_app, member)
    assert (await reader.get(f"/api/v1/files/{item_id}/download")).status_code == 404
    await reader.aclose()


async def test_only_the_uploader_or_moderators_add_versions(files_app, bearer, make_person, community):
    owner = await make_person("Owner")
    colleague = await make_person("Colleague")
    open_team = await community(owner, "Open", access="public", members=[colleague])
    api = await bearer(files_app, owner)
    item_id = (await api.post(f"/api/v1/communities/{open_team.id}/files",
                              files={"file": ("a.txt", b"a")})).json()["id"]
    await api.aclose()
    other = await bearer(files_app, colleague)
    assert (await other.post(f"/api/v1/files/{item_id}/versions", files={"file": ("a.txt", b"b")})).status_code == 403
    assert (await other.delete(f"/api/v1/files/{item_id}")).status_code == 403
    assert (await other.get(f"/api/v1/files/{item_id}/download")).content == b"a"
    await other.aclose()


async def test_office_documents_are_served_with_their_type(files_app, bearer, member, team):
    community, _owner = team
    api = await bearer(files_app, member)
    made = await api.post(f"/api/v1/communities/{community.id}/files", files={"file": ("報告.docx", docx())})
    assert made.status_code == 201, made.text
    got = await api.get(made.json()["download_url"])
    assert got.headers["content-type"] == ("application/vnd.openxmlformats-officedocument.wordprocessingml"
                                           ".document")
    assert got.headers["content-disposition"].startswith('attachment; filename="__.docx"')
    await api.aclose()


async def test_a_file_hidden_by_a_moderator_cannot_be_downloaded_by_members(files_app, bearer, db, member, team):
    community, owner = team
    api = await bearer(files_app, member)
    item_id = (await api.post(f"/api/v1/communities/{community.id}/files",
                              files={"file": ("leak.txt", b"do not share\n")})).json()["id"]
    other = await bearer(files_app, owner)
    assert (await other.get(f"/api/v1/files/{item_id}/download")).status_code == 200
    await content.set_hidden(db, owner.principal, item_id, True)
    await db.flush()
    assert (await api.get(f"/api/v1/files/{item_id}/download")).status_code == 404
    assert (await other.get(f"/api/v1/files/{item_id}/download")).status_code == 200  # moderators still see it
    await api.aclose()
    await other.aclose()
