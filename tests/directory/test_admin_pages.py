"""Administrators see sources, sync reports and the review queue, and settle conflicts there."""

from __future__ import annotations

from sqlalchemy import select

from socius.directory import service
from socius.directory.models import DirectoryIdentity, DirectoryReview


async def test_sources_reports_and_review_decisions(client, db, admin, login):
    ad = await service.create_source(db, None, name="AD Taipei", kind="ldap", link_by=["email"],
                                     min_seen_ratio=0.5)
    await service.run_batch(db, ad, [service.Record("u1", {"display_name": "王小明", "email": "xm@example.com"}),
                                     service.Record("u2", {"display_name": "X" * 300})])
    outcome = await service.apply_record(db, ad, service.Record(
        "u3", {"display_name": "Ada T.", "email": admin.person.email}))
    assert outcome.action == "review"
    await db.flush()

    token = await login(client, admin)
    listing = await client.get("/admin/directory")
    assert "AD Taipei" in listing.text and "1 conflict to review" in listing.text
    report = await client.get(f"/admin/directory/sources/{ad.id}")
    assert "must be at most 200 characters" in report.text  # the bad entry's row-level error

    queue = await client.get("/admin/directory/reviews")
    assert "The entry matches an administrator" in queue.text and "Ada Admin" in queue.text
    review = await db.scalar(select(DirectoryReview).where(DirectoryReview.external_id == "u3"))
    decided = await client.post(f"/admin/directory/reviews/{review.id}",
                                data={"csrf_token": token, "decision": "link", "person_id": str(admin.id)})
    assert decided.status_code == 303
    identity = await db.scalar(select(DirectoryIdentity).where(DirectoryIdentity.external_id == "u3"))
    assert identity.person_id == admin.id
    assert "Nothing to review." in (await client.get("/admin/directory/reviews")).text


async def test_directory_pages_are_for_administrators_only(client, member, login):
    await login(client, member)
    for path in ("/admin/directory", "/admin/directory/reviews"):
        assert (await client.get(path)).status_code == 403
