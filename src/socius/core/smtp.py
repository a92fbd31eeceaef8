"""A small asyncio SMTP client that sends many messages over one connection, pipelined (RFC 2920).

`smtplib` waits for the server's answer to each command: four round trips a message (MAIL, RCPT, DATA, the
message), each a hand-over between a worker thread and the event loop. Where the server advertises PIPELINING —
every production MTA does — this client writes one message's content, its end, and the next message's MAIL, RCPT
and DATA together and then reads the four answers: one round trip a message, in the event loop, no threads.
Without PIPELINING it goes command by command. STARTTLS and AUTH (PLAIN, LOGIN) as `smtplib` does them.

One message has one recipient (what notification e-mail needs). A recipient or message the server refuses for
good (5xx) is reported and the connection goes on with the next; a temporary refusal (4xx), a lost connection or
a timeout stops the run with an error, and what was delivered before it is known.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

# Lines of one reply kept (a longer one is read as ended there).
_MAX_REPLY_LINES = 100


class SMTPError(Exception):
    """The server answered `code` (or the conversation broke: code 0)."""

    def __init__(self, code: int, message: str, command: str = "") -> None:
        super().__init__(f"{command + ': ' if command else ''}{code} {message}")
        self.code = code
        self.message = message
        self.command = command

    @property
    def permanent(self) -> bool:
        """A 5xx answer: sending the same again will not help."""
        return 500 <= self.code < 600


@dataclass(frozen=True)
class Message:
    sender: str
    recipient: str
    data: bytes  # the whole message, headers and body, lines ending in CRLF


@functools.cache
def _local_hostname() -> str:
    return socket.getfqdn()


_BARE_EOL = re.compile(rb"\r\n|\n|\r(?!\n)")


def _content(data: bytes) -> bytes:
    """The message as sent after DATA: CRLF line ends, leading dots doubled, the final CRLF "." CRLF."""
    if data.count(b"\n") != data.count(b"\r\n") or data.count(b"\r") != data.count(b"\r\n"):
        data = _BARE_EOL.sub(b"\r\n", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..") + b".\r\n"


def _bad_address(message: Message) -> SMTPError | None:
    """A sender or recipient that cannot be written into a command (refused here, as a server would: for good)."""
    for address in (message.sender, message.recipient):
        if not address.isascii() or any(c in address for c in "\r\n<> "):
            return SMTPError(553, f"not an address this client can send to: {address!r}")
    return None


def _envelope(message: Message) -> bytes:
    return (f"MAIL FROM:<{message.sender}>\r\nRCPT TO:<{message.recipient}>\r\nDATA\r\n").encode()


class Connection:
    """One connection to one server, opened on first use; not for use by two tasks at once."""

    def __init__(self, host: str, port: int, *, starttls: bool = True, username: str = "", password: str = "",
                 timeout: float = 30.0) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.features: dict[str, str] = {}

    @property
    def open(self) -> bool:
        return self.writer is not None

    async def connect(self) -> None:
        """Greeting, EHLO (HELO if refused), STARTTLS and AUTH as configured."""
        async with asyncio.timeout(self.timeout):
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            await self._expect(220, "connect")
            hostname = await asyncio.to_thread(_local_hostname)
            await self._hello(hostname)
            if self.starttls:
                if "starttls" not in self.features:
                    raise SMTPError(0, "the server does not offer STARTTLS", "STARTTLS")
                await self._command(b"STARTTLS\r\n", 220, "STARTTLS")
                async with asyncio.timeout(self.timeout):
                    await self.writer.start_tls(ssl.create_default_context(), server_hostname=self.host)
                await self._hello(hostname)
            if self.username:
                await self._login()
        except BaseException:
            self.abort()
            raise

    async def _hello(self, hostname: str) -> None:
        code, text = await self._exchange(f"EHLO {hostname}\r\n".encode())
        if code == 250:
            self.features = {}
            for line in text.splitlines()[1:]:
                name, _, value = line.partition(" ")
                self.features[name.lower()] = value
        else:
            await self._command(f"HELO {hostname}\r\n".encode(), 250, "HELO")
            self.features = {}

    async def _login(self) -> None:
        mechanisms = self.features.get("auth", "").upper().split()
        if "PLAIN" in mechanisms:
            token = base64.b64encode(f"\0{self.username}\0{self.password}".encode()).decode()
            await self._command(f"AUTH PLAIN {token}\r\n".encode(), 235, "AUTH")
        elif "LOGIN" in mechanisms:
            await self._command(b"AUTH LOGIN\r\n", 334, "AUTH")
            await self._command(base64.b64encode(self.username.encode()) + b"\r\n", 334, "AUTH")
            await self._command(base64.b64encode(self.password.encode()) + b"\r\n", 235, "AUTH")
        else:
            raise SMTPError(0, "the server offers neither AUTH PLAIN nor AUTH LOGIN", "AUTH")

    async def _read(self) -> tuple[int, str]:
        """One reply (no time limit of its own: callers put one around a whole exchange)."""
        assert self.reader is not None
        lines = []
        while True:
            line = await self.reader.readline()
            if not line.endswith(b"\n"):
                raise ConnectionResetError("the SMTP server closed the connection")
            lines.append(line[4:].strip().decode("utf-8", "replace"))
            if line[3:4] != b"-" or len(lines) >= _MAX_REPLY_LINES:
                break
        try:
            return int(line[:3]), "\n".join(lines)
        except ValueError:
            raise SMTPError(0, f"not an SMTP reply: {line[:80]!r}") from None

    async def _reply(self) -> tuple[int, str]:
        async with asyncio.timeout(self.timeout):
            return await self._read()

    async def _write(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.writer.drain()

    async def _exchange(self, line: bytes) -> tuple[int, str]:
        async with asyncio.timeout(self.timeout):
            await self._write(line)
            return await self._read()

    async def _command(self, line: bytes, expected: int, name: str) -> str:
        code, text = await self._exchange(line)
        if code != expected:
            raise SMTPError(code, text, name)
        return text

    async def _expect(self, expected: int, name: str) -> None:
        code, text = await self._reply()
        if code != expected:
            raise SMTPError(code, text, name)

    async def send(self, messages: Sequence[Message], results: list[SMTPError | None]) -> None:
        """Send `messages` in order, appending to `results` for each one the server took (None) or refused for
        good (the error). Raises what stopped the rest: a temporary refusal, a lost connection, a timeout."""
        run: list[Message] = []
        for message in [*messages, None]:
            refused = _bad_address(message) if message is not None else None
            if message is not None and refused is None:
                run.append(message)
                continue
            if run:
                await self._send_run(run, results)
                run = []
            if refused is not None:
                results.append(refused)

    async def _send_run(self, messages: Sequence[Message], results: list[SMTPError | None]) -> None:
        if self.writer is None:
            await self.connect()
        try:
            if "pipelining" in self.features:
                await self._send_pipelined(messages, results)
            else:
                for i, message in enumerate(messages):
                    results.append(await self._send_one(message, reconnect=i == 0))
        except BaseException:
            self.abort()
            raise

    async def _send_one(self, message: Message, *, reconnect: bool = False) -> SMTPError | None:
        """MAIL, RCPT, DATA, the content, each waiting for its answer; with `reconnect`, a connection found closed
        at MAIL (it was idle) is opened again once."""
        envelope = _envelope(message).split(b"\r\n")
        for line, expected, name in ((envelope[0], 250, "MAIL"), (envelope[1], 250, "RCPT"),
                                     (envelope[2], 354, "DATA")):
            try:
                code, text = await self._exchange(line + b"\r\n")
                if name == "MAIL" and code == 421 and reconnect:
                    raise ConnectionResetError(text)
            except (ConnectionError, asyncio.IncompleteReadError):
                if name != "MAIL" or not reconnect:
                    raise
                self.abort()
                await self.connect()
                code, text = await self._exchange(line + b"\r\n")
            if code != expected:
                error = SMTPError(code, text, name)
                if name == "RCPT" and error.permanent:
                    await self._command(b"RSET\r\n", 250, "RSET")
                    return error
                raise error
        code, text = await self._exchange(_content(message.data))
        if code == 250:
            return None
        error = SMTPError(code, text, "DATA")
        if error.permanent:
            return error
        raise error

    async def _send_pipelined(self, messages: Sequence[Message], results: list[SMTPError | None]) -> None:
        """Each write carries the previous message's content (its DATA was answered 354), an RSET after a
        refused recipient, and the next message's MAIL, RCPT and DATA; then the answers are read in order."""
        pending: Message | None = None  # its DATA was answered 354: its content goes first in the next write
        reset = retried = False
        index = 0
        while index < len(messages) or pending is not None:
            message = messages[index] if index < len(messages) else None
            write = [_content(pending.data)] if pending is not None else []
            if reset:
                write.append(b"RSET\r\n")
            if message is not None:
                write.append(_envelope(message))
            try:
                async with asyncio.timeout(self.timeout):
                    await self._write(b"".join(write))
                    answer: tuple[int, str] | None = await self._read()
                if answer[0] == 421 and pending is None and not reset:
                    raise ConnectionResetError(answer[1])
            except (ConnectionError, asyncio.IncompleteReadError):
                # Nothing was in flight (no content since the last answer): the server hung up while the
                # connection was idle. Open it again and send the same once more.
                if pending is not None or reset or retried:
                    raise
                retried = True
                self.abort()
                await self.connect()
                if "pipelining" not in self.features:
                    for rest in messages[index:]:
                        results.append(await self._send_one(rest))
                    return
                continue
            retried = False
            async with asyncio.timeout(self.timeout):  # one limit for the rest of the answers
                if pending is not None:
                    code, text = answer
                    if code != 250 and not 500 <= code < 600:
                        raise SMTPError(code, text, "DATA")
                    results.append(None if code == 250 else SMTPError(code, text, "DATA"))
                    pending, answer = None, None
                if reset:
                    code, text = answer or await self._read()
                    if code != 250:
                        raise SMTPError(code, text, "RSET")
                    reset, answer = False, None
                if message is None:
                    break
                mail = answer or await self._read()
                rcpt = await self._read()
                data = await self._read()
                index += 1
                if mail[0] != 250:
                    raise SMTPError(*mail, "MAIL")
                if rcpt[0] not in (250, 251):
                    if data[0] == 354:  # a server that took DATA without a recipient: end the empty message
                        await self._exchange(b".\r\n")
                    if not 500 <= rcpt[0] < 600:
                        raise SMTPError(*rcpt, "RCPT")
                    results.append(SMTPError(*rcpt, "RCPT"))
                    reset = True
                    continue
                if data[0] != 354:
                    raise SMTPError(*data, "DATA")
                pending = message

    async def quit(self) -> None:
        """Say goodbye and close (errors ignored: the messages are already sent)."""
        if self.writer is None:
            return
        with contextlib.suppress(OSError, SMTPError, TimeoutError, asyncio.IncompleteReadError):
            await self._exchange(b"QUIT\r\n")
        self.abort()

    def abort(self) -> None:
        """Close without a goodbye (after an error: the conversation's state is unknown)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
        self.features = {}
