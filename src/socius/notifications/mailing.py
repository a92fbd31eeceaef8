"""Notification e-mail: choosing what to send, composing it in the recipient's language, sending it over SMTP.

Called by the jobs in `tasks.py`. Immediate e-mails carry one notification each; digests one message per person
with every unread, not yet mailed notification of the kinds they get in that digest. Messages that say the same
thing in the same language are rendered and encoded once (`content`), then addressed to each recipient. Sending
is pipelined over connections reused for many messages (`core.smtp`); a notification is marked `emailed_at` in the
transaction that selected it (rows locked, `SKIP LOCKED`), so a retried or concurrent job never sends it twice.
Each check — still unread, person active with an address, e-mail mode, the community visibility filter — is
made at send time.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from socius.config import Settings
from socius.core import smtp
from socius.core.db import one_of, utcnow
from socius.core.i18n import HTML_LANG, N_, current_locale, gettext, ngettext, using_locale
from socius.notifications.models import EmailMode, Notification, NotificationPreference
from socius.notifications.service import email_mode_clause, preference_join, render_message, visible_clause
from socius.people.models import Person

log = structlog.get_logger(__name__)

# A digest carries what is at most this old (so turning e-mail on after months does not send a flood).
DIGEST_LOOKBACK = dt.timedelta(days=14)
# People per digest transaction; notifications listed in one digest (the rest are counted).
DIGEST_BATCH = 500
DIGEST_ITEMS = 50
PREFERENCES_PATH = "/notifications/preferences"

_said_unconfigured = False


def configured(settings: Settings) -> bool:
    """Is SMTP set up? Says once in the log when it is not."""
    global _said_unconfigured
    if settings.smtp_host:
        return True
    if not _said_unconfigured:
        log.warning("notification_email_disabled", reason="SOCIUS_SMTP_HOST is not set; no e-mail is sent")
        _said_unconfigured = True
    return False


# --- composing -------------------------------------------------------------------------------------------------


def absolute(settings: Settings, path: str) -> str:
    base = settings.base_url.rstrip("/")
    return base + path if path.startswith("/") and not path.startswith("//") else base + "/"


@dataclass
class Line:
    message: str
    url: str


# A message ready for SMTP: envelope addresses and the encoded bytes.
Mail = smtp.Message


@dataclass(frozen=True)
class Content:
    """What every recipient of one message in one language shares: the headers other than To, Date and
    Message-ID, and the MIME body, encoded once (an immediate e-mail to a community is the same text for everyone
    reading the same language)."""

    sender: str
    domain: str
    headers: bytes
    body: bytes

    def to(self, name: str, address: str) -> Mail:
        """The message for one recipient."""
        head = (f"To: {_address(name, address)}\r\nDate: {formatdate(usegmt=True)}\r\n"
                f"Message-ID: <{time.time_ns()}.{secrets.token_hex(6)}@{self.domain}>\r\n")
        return Mail(self.sender, address, head.encode("ascii") + self.headers + self.body)


# An encoded word holds at most 75 characters: "=?utf-8?b?" + base64 of 45 bytes (60) + "?=".
_WORD_BYTES = 45


def _header(value: str) -> str:
    """A header value on one line (user text never adds headers), RFC 2047-encoded when not ASCII: whole
    characters per encoded word, the words folded onto continuation lines."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode()
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _address(name: str, address: str) -> str:
    """`Name <address>`; a name that is not ASCII in one encoded word (readers such as Python's `email` put a
    space between the words of a display name split in several)."""
    name = " ".join(name.split())
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return f"=?utf-8?b?{base64.b64encode(name.encode()).decode('ascii')}?= <{address}>"


def _part(content_type: str, text: str) -> str:
    encoded = base64.encodebytes(text.encode()).decode("ascii").replace("\n", "\r\n")
    return (f'Content-Type: {content_type}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            f"{encoded}")


def content(settings: Settings, subject: str, lines: list[Line], more: int = 0, intro: str = "",
            footer: bool = True) -> Content:
    """A plain text and HTML message in the current language, with the link to the preferences page (not with
    `footer=False`: a message that is no notification, such as a guest's invitation); `Content.to` addresses it.

    Written out directly rather than with `email.message.EmailMessage`, which costs about 4 ms of CPU a message
    (a 20,000-person digest would spend over a minute composing); tests parse what arrives with the `email`
    package."""
    preferences = absolute(settings, PREFERENCES_PATH)
    footer_text = gettext(N_("You receive this e-mail because of your notification settings. Change them here:"))
    more_text = (ngettext("…and %(num)d more notification on Socius.", "…and %(num)d more notifications on Socius.",
                          more) % {"num": more}) if more else ""
    text = [intro, ""] if intro else []
    for line in lines:
        text += [line.message, absolute(settings, line.url), ""]
    if more_text:
        text += [more_text, absolute(settings, "/notifications"), ""]
    if footer:
        text += ["-- ", footer_text, preferences]

    parts = [f"<p>{html.escape(intro)}</p>"] if intro else []
    parts.append("<ul>" + "".join(
        f'<li><a href="{html.escape(absolute(settings, line.url))}">{html.escape(line.message)}</a></li>'
        for line in lines) + "</ul>")
    if more_text:
        parts.append(f'<p><a href="{html.escape(absolute(settings, "/notifications"))}">'
                     f"{html.escape(more_text)}</a></p>")
    if footer:
        parts.append(f'<p style="color:#666;font-size:small">{html.escape(footer_text)} '
                     f'<a href="{html.escape(preferences)}">{html.escape(preferences)}</a></p>')
    page = (f'<!doctype html><html lang="{HTML_LANG[current_locale()]}"><head><meta charset="utf-8"></head><body>'
            + "".join(parts) + "</body></html>")

    sender = parseaddr(settings.smtp_from)[1]
    # The boundary cannot occur in base64 parts ("_" is not in its alphabet).
    boundary = f"=_socius_{secrets.token_hex(12)}"
    headers = [
        f"From: {_address(*parseaddr(settings.smtp_from))}",
        f"Subject: {_header(subject)}",
        *([f"List-Unsubscribe: <{preferences}>"] if footer else []),
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    body = (f"--{boundary}\r\n{_part('text/plain', chr(10).join(text))}"
            + f"--{boundary}\r\n{_part('text/html', page)}"
            + f"--{boundary}--\r\n")
    return Content(sender, sender.rpartition("@")[2] or "socius",
                   ("\r\n".join(headers) + "\r\n\r\n").encode("ascii"), body.encode("ascii"))


def compose(settings: Settings, to: tuple[str, str], subject: str, lines: list[Line], more: int = 0,
            intro: str = "", footer: bool = True) -> Mail:
    """One message to one person (`content(…).to(name, address)`)."""
    return content(settings, subject, lines, more, intro, footer).to(*to)


# --- sending ---------------------------------------------------------------------------------------------------


class Sender:
    """Up to `connections` SMTP connections (`settings.smtp_connections` by default), kept open across batches;
    each sends its share of a batch pipelined (`core.smtp`)."""

    def __init__(self, settings: Settings, connections: int | None = None) -> None:
        s = settings
        self.connections = [smtp.Connection(s.smtp_host, s.smtp_port, starttls=s.smtp_starttls,
                                            username=s.smtp_username, password=s.smtp_password.get_secret_value(),
                                            timeout=s.smtp_timeout_seconds)
                            for _ in range(connections or s.smtp_connections)]

    @staticmethod
    async def _send_slice(connection: smtp.Connection,
                          items: list[tuple[Any, Mail]]) -> tuple[list[Any], Exception | None]:
        results: list[smtp.SMTPError | None] = []
        error = None
        try:
            await connection.send([mail for _, mail in items], results)
        except (smtp.SMTPError, OSError, TimeoutError, asyncio.IncompleteReadError) as stopped:
            error = stopped
        for (key, _), refused in zip(items, results, strict=False):
            if refused is not None:
                # The server will never take this message: do not retry it forever.
                log.warning("notification_email_refused", key=key, reply=str(refused))
        return [key for (key, _), _ in zip(items, results, strict=False)], error

    async def send(self, items: list[tuple[Any, Mail]]) -> tuple[list[Any], Exception | None]:
        """Send (key, message) pairs; returns the keys handled (sent, or refused for good) and the first error
        (what follows it on that connection is not sent)."""
        if not items:
            return [], None
        n = min(len(self.connections), len(items))
        slices = [items[i::n] for i in range(n)]
        results = await asyncio.gather(*(self._send_slice(connection, part)
                                         for connection, part in zip(self.connections, slices, strict=False)))
        sent = [key for keys, _ in results for key in keys]
        errors = [error for _, error in results if error is not None]
        return sent, errors[0] if errors else None

    async def close(self) -> None:
        await asyncio.gather(*(c.quit() for c in self.connections))


# --- choosing --------------------------------------------------------------------------------------------------

_actor = aliased(Person, name="actor")


def _pending(mode: EmailMode) -> list[Any]:
    """Unread, not yet mailed notifications of active people with an address, in e-mail mode `mode`, visible."""
    return [Notification.emailed_at.is_(None), Notification.read_at.is_(None), Person.deactivated_at.is_(None),
            Person.email.is_not(None), email_mode_clause(Notification.kind) == mode.value, visible_clause()]


def _rows(mode: EmailMode, *where: Any):
    return (select(Notification.id, Notification.person_id, Notification.kind, Notification.data,
                   Notification.url, Person.email, Person.display_name, Person.locale,
                   _actor.display_name.label("actor"))
            .join(Person, Person.id == Notification.person_id)
            .outerjoin(_actor, _actor.id == Notification.actor_id)
            .outerjoin(NotificationPreference, preference_join(Notification.person_id, Notification.kind))
            .where(*_pending(mode), *where)
            .order_by(Notification.person_id, Notification.id)
            .with_for_update(of=Notification, skip_locked=True))


async def _mark(db: AsyncSession, ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        await db.execute(update(Notification).where(one_of(Notification.id, ids)).values(emailed_at=utcnow()))


async def send_immediate(db: AsyncSession, settings: Settings, ids: list[int],
                         sender: Sender | None = None) -> tuple[int, Exception | None]:
    """One e-mail per notification among `ids` still due immediately. Marks what was sent (in `db`); returns how
    many and the error that stopped the rest, if any (the caller commits, then raises it so the job retries)."""
    rows = (await db.execute(_rows(EmailMode.IMMEDIATE, one_of(Notification.id, ids)))).all()
    items = []
    # A fan-out's notifications say the same thing to everyone: render and encode once per language.
    shared: dict[tuple[Any, ...], Content] = {}
    for row in rows:
        locale = row.locale or settings.default_locale
        key = (locale, row.kind, row.actor, row.url, json.dumps(row.data, sort_keys=True))
        if (mail := shared.get(key)) is None:
            with using_locale(locale):
                message = render_message(row.kind, row.actor, row.data)
                mail = shared[key] = content(settings, message, [Line(message, row.url)])
        items.append((row.id, mail.to(row.display_name, row.email)))
    own = sender is None
    sender = sender or Sender(settings, 1)
    try:
        sent, error = await sender.send(items)
    finally:
        if own:
            await sender.close()
    await _mark(db, sent)
    return len(sent), error


async def digest_recipients(db: AsyncSession, mode: EmailMode) -> list[int]:
    """Who gets a digest now, in person id order."""
    since = utcnow() - DIGEST_LOOKBACK
    query = (select(Notification.person_id).distinct()
             .join(Person, Person.id == Notification.person_id)
             .outerjoin(NotificationPreference, preference_join(Notification.person_id, Notification.kind))
             .where(*_pending(mode), Notification.created_at > since)
             .order_by(Notification.person_id))
    return list((await db.scalars(query)).all())


def digest_subject(mode: EmailMode, count: int) -> str:
    if mode is EmailMode.WEEKLY:
        subject = ngettext("Your weekly summary: %(num)d new notification",
                           "Your weekly summary: %(num)d new notifications", count)
    else:
        subject = ngettext("Your daily summary: %(num)d new notification",
                           "Your daily summary: %(num)d new notifications", count)
    return subject % {"num": count}


async def send_digest_batch(db: AsyncSession, settings: Settings, sender: Sender, mode: EmailMode,
                            people: list[int]) -> tuple[int, Exception | None]:
    """One digest e-mail for each of `people` with something pending; marks what was sent."""
    since = utcnow() - DIGEST_LOOKBACK
    rows = (await db.execute(_rows(mode, one_of(Notification.person_id, people),
                                   Notification.created_at > since))).all()
    items = []
    for _person, group in itertools.groupby(rows, key=lambda r: r.person_id):
        notes = list(group)
        first = notes[0]
        with using_locale(first.locale or settings.default_locale):
            subject = digest_subject(mode, len(notes))
            lines = [Line(render_message(n.kind, n.actor, n.data), n.url) for n in notes[:DIGEST_ITEMS]]
            message = compose(settings, (first.display_name, first.email), subject, lines,
                              more=max(0, len(notes) - DIGEST_ITEMS),
                              intro=gettext(N_("What happened on Socius since your last summary:")))
        items.append(([n.id for n in notes], message))
    sent, error = await sender.send(items)
    await _mark(db, (i for ids in sent for i in ids))
    return len(sent), error


async def run_digest(transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]], settings: Settings,
                     mode: EmailMode, *, batch: int = DIGEST_BATCH) -> int:
    """Every digest of `mode`: `batch` people per transaction (what a batch sent stays marked if a later one
    fails), over connections reused for the whole run. Returns how many e-mails were sent."""
    if not configured(settings):
        return 0
    async with transaction() as db:
        people = await digest_recipients(db, mode)
    total = 0
    sender = Sender(settings)
    try:
        for start in range(0, len(people), batch):
            async with transaction() as db:
                sent, error = await send_digest_batch(db, settings, sender, mode, people[start:start + batch])
            total += sent
            if error is not None:
                raise error
    finally:
        await sender.close()
    log.info("notification_digest_sent", mode=mode.value, emails=total, people=len(people))
    return total
