"""Notification e-mail through a real SMTP server (aiosmtpd): immediate messages in the recipient's language,
digests grouping one person's notifications into one message, no second sending, preferences and the community
visibility filter decided at send time."""

from __future__ import annotations

from sqlalchemy import select

from socius.notifications import mailing, service
from socius.notifications.models import EmailMode, Notification
from socius.people.models import Person
from tests.notifications.conftest import body, deferred


async def send_deferred(db, settings) -> int:
    """Run the immediate e-mail jobs the test's transaction deferred (what the `notify_email` job does)."""
    sent = 0
    for args in await deferred(db, "notify_email"):
        count, error = await mailing.send_immediate(db, settings, args["ids"])
        assert error is None
        sent += count
    await db.flush()
    return sent


async def test_an_immediate_email_arrives_in_the_recipients_language_with_the_right_links(
        db, make_person, mail_settings, sink):
    actor = await make_person("王大明")
    hant = await make_person("陳美玲", locale="zh_Hant", email="meiling@example.com")
    english = await make_person("Jessica Wong", locale="en", email="jessica@example.com")
    unset = await make_person("林小華", email="xiaohua@example.com")  # no locale: the site default (zh_Hant)
    audience = select(Person.id).where(Person.id.in_([hant.id, english.id, unset.id]))
    await service.notify_many(db, audience, "mentioned", actor_id=actor.id, url="/posts/7#c3", title="季度計畫")

    assert await send_deferred(db, mail_settings) == 3
    [zh] = sink.to("meiling@example.com")
    assert zh["Subject"] == "王大明 在「季度計畫」中提及您"
    assert zh["To"] == "陳美玲 <meiling@example.com>"
    assert "https://socius.example.com/posts/7#c3" in body(zh)
    assert 'href="https://socius.example.com/posts/7#c3"' in body(zh, "html")
    assert zh["List-Unsubscribe"] == "<https://socius.example.com/notifications/preferences>"
    assert "通知設定" in body(zh)
    assert '<html lang="zh-Hant">' in body(zh, "html")
    [en] = sink.to("jessica@example.com")
    assert en["Subject"] == "王大明 mentioned you in “季度計畫”"
    assert "notification settings" in body(en)
    assert '<html lang="en">' in body(en, "html")
    [default] = sink.to("xiaohua@example.com")
    assert default["Subject"] == zh["Subject"]
    assert all(m["From"] == "Socius <socius@example.com>" for m in sink.messages)


async def test_a_retried_job_does_not_send_again(db, make_person, mail_settings, sink):
    reader = await make_person("Reader", locale="en")
    await service.notify(db, reader.id, "invited", actor_id=None, url="/c/9", community="Design")
    [job] = await deferred(db, "notify_email")
    assert await mailing.send_immediate(db, mail_settings, job["ids"]) == (1, None)
    assert await mailing.send_immediate(db, mail_settings, job["ids"]) == (0, None)  # the retry
    assert len(sink.messages) == 1
    # Nor does a digest carry it again.
    await service.set_preferences(db, reader.principal, {"invited": service.Choice(True, "daily")})
    assert await mailing.digest_recipients(db, EmailMode.DAILY) == []


async def test_a_failed_send_keeps_what_was_sent_marked_and_reports_the_error(db, make_person, settings):
    reader = await make_person("Reader")
    await service.notify(db, reader.id, "mentioned", actor_id=None, url="/p/1", title="T")
    [job] = await deferred(db, "notify_email")
    closed = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": _closed_port(),
                                         "smtp_starttls": False})
    sent, error = await mailing.send_immediate(db, closed, job["ids"])
    assert sent == 0 and isinstance(error, OSError)
    assert await db.scalar(select(Notification.emailed_at).where(Notification.person_id == reader.id)) is None


def _closed_port() -> int:
    from tests.notifications.conftest import free_port

    return free_port()  # nothing listens there any more


async def test_read_notifications_and_people_without_mail_or_deactivated_get_no_email(
        db, make_person, mail_settings, sink, admin):
    from socius.people import service as people

    read_it, gone = await make_person("Read it"), await make_person("Gone")
    await service.notify(db, read_it.id, "mentioned", actor_id=None, url="/p/1", title="T")
    await service.notify(db, gone.id, "mentioned", actor_id=None, url="/p/1", title="T")
    await service.mark_read(db, read_it.principal)
    await people.deactivate(db, admin.principal, gone.id)
    await db.flush()
    assert await send_deferred(db, mail_settings) == 0
    assert sink.messages == []


async def test_the_daily_digest_is_one_mail_per_person_with_all_their_notifications(
        db, make_person, mail_settings, sink, in_test_transaction):
    actor = await make_person("Bob")
    ann = await make_person("Ann", locale="en", email="ann@example.com")
    cai = await make_person("蔡文", locale="zh_Hans", email="cai@example.com")
    for title in ("One", "Two", "Three"):
        await service.notify(db, ann.id, "replied", actor_id=actor.id, url=f"/p/{title}", title=title)
    await service.notify(db, ann.id, "tagged", actor_id=actor.id, url="/people/1#tags", tag="SQL")
    await service.notify(db, cai.id, "commented", actor_id=actor.id, url="/p/9", title="计划")
    await service.notify(db, cai.id, "liked", actor_id=actor.id, url="/p/9", title="计划")  # likes: no e-mail
    # Weekly kinds wait for the weekly digest.
    await service.set_preferences(db, ann.principal, {"commented": service.Choice(True, "weekly")})
    await service.notify(db, ann.id, "commented", actor_id=actor.id, url="/p/w", title="Weekly")

    sent = await mailing.run_digest(in_test_transaction, mail_settings, EmailMode.DAILY, batch=1)
    assert sent == 2
    [mail] = sink.to("ann@example.com")
    assert mail["Subject"] == "Your daily summary: 4 new notifications"
    text = body(mail)
    for line in ("Bob replied to “One”", "Bob replied to “Three”", "Bob tagged you with “SQL”",
                 "https://socius.example.com/p/Two"):
        assert line in text
    assert "Weekly" not in text
    [zh] = sink.to("cai@example.com")
    assert zh["Subject"] == "您的每日摘要：1 条新通知"
    assert "Bob 评论了“计划”" in body(zh)

    # Nothing twice: a second run sends nothing; the weekly one sends Ann's weekly notification.
    sink.clear()
    assert await mailing.run_digest(in_test_transaction, mail_settings, EmailMode.DAILY) == 0
    assert await mailing.run_digest(in_test_transaction, mail_settings, EmailMode.WEEKLY) == 1
    [weekly] = sink.messages
    assert "Bob commented on “Weekly”" in body(weekly) and "One" not in body(weekly)


async def test_a_digest_reuses_its_connections(db, make_person, mail_settings, sink, in_test_transaction):
    people = [await make_person(f"P{n}") for n in range(12)]
    for p in people:
        await service.notify(db, p.id, "replied", actor_id=None, url="/p", title="T")
    assert await mailing.run_digest(in_test_transaction, mail_settings, EmailMode.DAILY, batch=5) == 12
    assert len(sink.messages) == 12
    assert sink.sessions <= mail_settings.smtp_connections


async def test_preferences_change_what_is_sent(db, make_person, mail_settings, sink, in_test_transaction):
    reader = await make_person("Reader", email="reader@example.com", locale="en")
    await service.set_preferences(db, reader.principal, {
        "mentioned": service.Choice(True, "daily"),  # not immediately
        "replied": service.Choice(True, "none"),  # never
        "join_approved": service.Choice(True, "immediate"),
    })
    await service.notify(db, reader.id, "mentioned", actor_id=None, url="/p/1", title="Mention")
    await service.notify(db, reader.id, "replied", actor_id=None, url="/p/2", title="Reply")
    await service.notify(db, reader.id, "join_approved", actor_id=None, url="/c/3", community="Design")
    assert await send_deferred(db, mail_settings) == 1
    assert [m["Subject"] for m in sink.messages] == ["Someone approved your request to join Design"]
    sink.clear()
    assert await mailing.run_digest(in_test_transaction, mail_settings, EmailMode.DAILY) == 1
    [digest] = sink.messages
    assert "Mention" in body(digest) and "Reply" not in body(digest)


async def test_someone_removed_from_a_community_is_not_mailed_its_notifications(
        db, make_person, mail_settings, sink, membership, in_test_transaction):
    stays = await make_person("Stays", email="stays@example.com")
    leaves = await make_person("Leaves", email="leaves@example.com")
    await membership.add(stays.id, leaves.id)
    c = membership.community
    audience = select(Person.id).where(Person.id.in_([stays.id, leaves.id]))
    await service.notify_many(db, audience, "mentioned", url=f"/c/{c}/p/1", community_id=c, title="Secret plan")
    await service.notify_many(db, audience, "community_post", url=f"/c/{c}/p/2", community_id=c,
                              community="Restricted", title="Secret launch")
    await membership.remove(leaves.id)

    assert await send_deferred(db, mail_settings) == 1
    assert await mailing.run_digest(in_test_transaction, mail_settings, EmailMode.DAILY) == 1
    assert sink.to("leaves@example.com") == []
    assert len(sink.to("stays@example.com")) == 2


async def test_without_smtp_nothing_is_sent_and_the_log_says_so_once(db, settings, in_test_transaction,
                                                                       make_person, monkeypatch):
    messages = []
    monkeypatch.setattr(mailing, "_said_unconfigured", False)
    monkeypatch.setattr(mailing.log, "warning", lambda event, **kw: messages.append(event))
    reader = await make_person("Reader")
    await service.notify(db, reader.id, "replied", actor_id=None, url="/p", title="T")
    assert settings.smtp_host == ""
    assert await mailing.run_digest(in_test_transaction, settings, EmailMode.DAILY) == 0
    assert await mailing.run_digest(in_test_transaction, settings, EmailMode.DAILY) == 0
    assert messages == ["notification_email_disabled"]
    assert await db.scalar(select(Notification.emailed_at).where(Notification.person_id == reader.id)) is None


async def test_a_refused_address_does_not_hold_up_the_others_and_is_not_retried(db, make_person, mail_settings,
                                                                                  sink):
    bad = await make_person("Bad", email="bad@example.com")
    good = await make_person("Good", email="good@example.com")
    sink.refuse.add("bad@example.com")
    audience = select(Person.id).where(Person.id.in_([bad.id, good.id]))
    await service.notify_many(db, audience, "mentioned", url="/p/1", title="T")
    [job] = await deferred(db, "notify_email")
    assert await mailing.send_immediate(db, mail_settings, job["ids"]) == (2, None)
    assert [r for rcpts in sink.recipients for r in rcpts] == ["good@example.com"]
    assert await mailing.send_immediate(db, mail_settings, job["ids"]) == (0, None)


async def test_text_from_users_cannot_add_headers(db, make_person, mail_settings, sink):
    reader = await make_person("Reader\r\nBcc: everyone@example.com", email="reader@example.com", locale="en")
    await service.notify(db, reader.id, "mentioned", actor_id=None, url="/p/1",
                         title="Hi\r\nBcc: spy@example.com\r\n\r\nfake body")
    assert await send_deferred(db, mail_settings) == 1
    [mail] = sink.messages
    assert mail["Bcc"] is None
    assert sink.recipients == [["reader@example.com"]]
    assert mail["Subject"] == "Someone mentioned you in “Hi Bcc: spy@example.com fake body”"


async def test_long_names_and_titles_in_any_script_arrive_whole(db, make_person, mail_settings, sink):
    long_title = "第三季度跨部門產品規劃會議紀要與後續行動項目🚀" * 3  # several encoded words, a 4-byte character
    reader = await make_person("歐陽・陳美玲 Meiling (Taipei office, 研發中心)", email="meiling@example.com")
    await service.notify(db, reader.id, "mentioned", actor_id=None, url="/p/1", title=long_title)
    assert await send_deferred(db, mail_settings) == 1
    [mail] = sink.messages
    assert mail["Subject"] == f"某人 在「{long_title}」中提及您"
    assert mail["To"].addresses[0].display_name == "歐陽・陳美玲 Meiling (Taipei office, 研發中心)"
    assert mail["To"].addresses[0].addr_spec == "meiling@example.com"


async def test_one_message_to_many_is_rendered_per_language_and_addressed_to_each(db, make_person, mail_settings,
                                                                                   sink):
    actor = await make_person("王大明")
    people = [await make_person(f"Person {n}", locale=("en", "zh_Hans")[n % 2], email=f"p{n}@example.com")
              for n in range(6)]
    audience = select(Person.id).where(Person.id.in_([p.id for p in people]))
    await service.notify_many(db, audience, "mentioned", actor_id=actor.id, url="/posts/7", title="計畫")
    assert await send_deferred(db, mail_settings) == 6
    by_address = {rcpts[0]: m for m, rcpts in zip(sink.messages, sink.recipients, strict=True)}
    for n in range(len(people)):
        mail = by_address[f"p{n}@example.com"]
        assert mail["To"] == f"Person {n} <p{n}@example.com>"
        assert mail["Subject"] == ("王大明 mentioned you in “計畫”", "王大明 在“計畫”中提及您")[n % 2]
        assert "https://socius.example.com/posts/7" in body(mail)
    assert len({m["Message-ID"] for m in sink.messages}) == 6
