"""Notification fixtures: a real SMTP server (aiosmtpd) on 127.0.0.1 collecting what is sent, settings pointing at
it, and the jobs a test's transaction deferred (`in_test_transaction` is in tests/conftest.py)."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text


@dataclass
class Sink:
    """What the SMTP server received: one parsed message per delivery, and each delivery's recipients."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    sessions: int = 0
    refuse: set[str] = field(default_factory=set)  # addresses answered "550" at RCPT
    defer: set[str] = field(default_factory=set)  # addresses whose message is answered "451" at its end
    # aiosmtpd reads pipelined commands in order but does not say so; production servers do (and the client then
    # pipelines). Off: the client goes command by command.
    pipelining: bool = True
    servers: list = field(default_factory=list)  # the server side of each session

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        self.servers.append(server)
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.defer & set(envelope.rcpt_tos):
            return "451 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def hang_up(self) -> None:
        """Close every session from the server's side (as a server does after its idle timeout)."""
        for server in self.servers:
            if server.transport is not None:
                server.loop.call_soon_threadsafe(server.transport.close)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, rcpts in zip(self.messages, self.recipients, strict=True) if address in rcpts]

    def clear(self) -> None:
        self.messages.clear()
        self.recipients.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture
def mail_settings(settings, smtp_sink):
    """The test settings, sending to the sink."""
    _sink, port = smtp_sink
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
                                       "smtp_from": "Socius <socius@example.com>",
                                       "base_url": "https://socius.example.com", "default_locale": "zh_Hant"})


@pytest.fixture
def sink(smtp_sink) -> Sink:
    return smtp_sink[0]


async def deferred(db, task: str) -> list[dict]:
    """The arguments of the `socius:<task>` jobs queued in the test's transaction, oldest first."""
    rows = await db.execute(text("SELECT args FROM procrastinate_jobs WHERE task_name = :task ORDER BY id"),
                            {"task": f"socius:{task}"})
    return [row[0] for row in rows]


def body(message: EmailMessage, subtype: str = "plain") -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


@dataclass
class Members:
    """A real restricted community (the communities module's filter is the one installed)."""

    db: object
    owner: object
    community: int

    async def add(self, *person_ids: int) -> None:
        # Straight in (no invitation, which would be a notification of its own).
        from socius.communities.models import Membership

        self.db.add_all([Membership(community_id=self.community, person_id=p) for p in person_ids])
        await self.db.flush()

    async def remove(self, person_id: int) -> None:
        from socius.communities import service as communities

        await communities.remove_member(self.db, self.owner.principal, self.community, person_id)


@pytest.fixture
async def membership(db, make_person):
    """A restricted community: `await membership.add(person, …)`, `.remove(person)`, its id `.community`."""
    from socius.communities import service as communities

    owner = await make_person("Community owner")
    made = await communities.create(db, owner.principal, {"name": "Secret project", "access": "restricted"})
    await db.flush()
    return Members(db, owner, made.id)
