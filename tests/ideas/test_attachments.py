"""Files attached to an idea: by its author, co-authors and managers; read by whoever reads the idea; not
comments; within a campaign's quota."""

from __future__ import annotations

from socius.content.models import Item
from socius.people.models import Role


async def test_an_author_attaches_a_file_readers_download_it_others_cannot(db, make_person, campaign, idea,
                                                                            files_app, bearer):
    owner = await make_person("Owner")
    author = await make_person("Author")
    voter = await make_person("Voter")
    outsider = await make_person("Outsider")
    private = await campaign(owner, "私密挑戰", audience="invited", participants=[author, voter])
    posted = await idea(author, private, "液冷伺服器")
    as_author, as_voter = await bearer(files_app, author), await bearer(files_app, voter)
    as_outsider, as_owner = await bearer(files_app, outsider), await bearer(files_app, owner)

    made = await as_author.post(f"/api/v1/ideas/{posted.item.id}/attachments",
                                files={"file": ("規格.txt", "液冷規格 v1\n".encode())})
    assert made.status_code == 201, made.text
    file_id = made.json()["id"]
    listed = (await as_voter.get(f"/api/v1/ideas/{posted.item.id}/attachments")).json()["items"]
    assert [f["filename"] for f in listed] == ["規格.txt"]
    got = await as_voter.get(f"/api/v1/files/{file_id}/download")
    assert got.status_code == 200 and got.content == "液冷規格 v1\n".encode()
    assert (await as_outsider.get(f"/api/v1/files/{file_id}/download")).status_code == 404
    assert (await as_outsider.post(f"/api/v1/ideas/{posted.item.id}/attachments",
                                   files={"file": ("x.txt", b"x")})).status_code == 404
    refused = await as_voter.post(f"/api/v1/ideas/{posted.item.id}/attachments", files={"file": ("x.txt", b"x")})
    assert refused.status_code == 403  # a reader who is not an author, co-author or manager
    empty = await as_author.post(f"/api/v1/ideas/{posted.item.id}/attachments", files={"file": ("empty.txt", b"")})
    assert empty.status_code == 422 and empty.json()["error"]["fields"][0]["field"] == "file"
    assert (await as_owner.post(f"/api/v1/ideas/{posted.item.id}/attachments",
                                files={"file": ("評估.txt", b"ok\n")})).status_code == 201  # a manager

    shown = (await as_voter.get(f"/api/v1/ideas/{posted.item.id}")).json()
    assert shown["comment_count"] == 0  # files hang under the idea; they are not comments
    listed_comments = await as_voter.get(f"/api/v1/items/{posted.item.id}/comments")
    assert listed_comments.status_code == 200 and listed_comments.json()["items"] == []
    assert (await db.get(Item, file_id)).campaign_id == private.id

    # Hiding the idea hides its files; a waiting guest idea takes none (its readers are not the campaign's yet).
    assert (await as_owner.post(f"/api/v1/items/{posted.item.id}/hide", json={"reason": "重複"})).status_code == 200
    assert (await as_voter.get(f"/api/v1/files/{file_id}/download")).status_code == 404
    refused_hidden = await as_author.post(f"/api/v1/ideas/{posted.item.id}/attachments",
                                          files={"file": ("y.txt", b"y")})
    assert refused_hidden.status_code == 404  # a moderator hid it: not even its author reads it now


async def test_a_waiting_guest_idea_takes_no_files(db, make_person, campaign, idea, files_app, bearer):
    owner = await make_person("Owner")
    guest = await make_person("Guest", role=Role.GUEST, manager_id=owner.id)
    made = await campaign(owner, audience="invited", participants=[guest], moderate_guests=True)
    waiting = await idea(guest, made, "訪客的點子")
    assert waiting.idea.pending
    refused = await (await bearer(files_app, guest)).post(f"/api/v1/ideas/{waiting.item.id}/attachments",
                                                          files={"file": ("草圖.txt", b"x")})
    assert refused.status_code == 409 and "approved" in refused.text


async def test_a_campaigns_attachments_share_one_quota(db, make_person, campaign, idea, files_app, bearer):
    owner = await make_person("Owner")
    made = await campaign(owner)
    posted = await idea(owner, made)
    api = await bearer(files_app, owner)
    chunk = b"a" * (60 * 1024)  # the test app: 64 KiB a file, 200 KiB a place
    for n in range(3):
        assert (await api.post(f"/api/v1/ideas/{posted.item.id}/attachments",
                               files={"file": (f"{n}.txt", chunk)})).status_code == 201
    full = await api.post(f"/api/v1/ideas/{posted.item.id}/attachments", files={"file": ("3.txt", chunk)})
    assert full.status_code == 422 and "campaign's file space is full" in full.json()["error"]["fields"][0]["reason"]


async def test_the_idea_page_attaches_lists_and_deletes_files(db, make_person, campaign, idea, files_app, client,
                                                              login):
    owner = await make_person("Owner")
    author = await make_person("Author")
    made = await campaign(owner)
    posted = await idea(author, made, "液冷伺服器")
    token = await login(client, author)
    page = (await client.get(f"/ideas/{posted.item.id}")).text
    assert f'action="/ideas/{posted.item.id}/attachments"' in page and 'enctype="multipart/form-data"' in page
    sent = await client.post(f"/ideas/{posted.item.id}/attachments", data={"csrf_token": token},
                             files={"file": ("草圖.txt", b"sketch\n")})
    assert sent.status_code == 303, sent.text
    page = (await client.get(f"/ideas/{posted.item.id}")).text
    file_id = int(page.split('href="/files/', 1)[1].split("/", 1)[0])
    assert "草圖.txt" in page
    empty = await client.post(f"/ideas/{posted.item.id}/attachments", data={"csrf_token": token},
                              files={"file": ("empty.txt", b"")})
    assert empty.status_code == 422 and "is empty" in empty.text  # the idea's page again, with the reason
    other = await idea(author, made, "另一個點子")
    elsewhere = await client.post(f"/ideas/{other.item.id}/attachments/{file_id}/delete", data={"csrf_token": token})
    assert elsewhere.status_code == 404 and "草圖.txt" in (await client.get(f"/ideas/{posted.item.id}")).text
    gone = await client.post(f"/ideas/{posted.item.id}/attachments/{file_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert "草圖.txt" not in (await client.get(f"/ideas/{posted.item.id}")).text
