"""An SMTP server for the benchmarks: accepts every message on 127.0.0.1:<port>, checks and counts it, prints
"ready" when listening and, when terminated, a JSON line with what it received and the CPU seconds it used.

    python bench/smtp_sink.py 2525 [recipients.txt] [--aiosmtpd]

A minimal ESMTP server on asyncio's protocol layer (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; PIPELINING
advertised), because aiosmtpd — a complete server on streams — spent about 0.6 ms of CPU a message, more than the
client it measured. Each message is checked as it arrives: a sender and at least one recipient, a header block with
`To:`, `Subject:` and `Message-ID:`, a recipient that appears in the `To:` header, and a MIME end boundary; a
message failing a check is answered 554 and counted as `invalid`, so a sender that drops or mangles messages
cannot pass for a fast one. With a second argument, each accepted message's recipients are written to that file
(one line a recipient) at the end, for the benchmark to compare with who should have received one. With
`--aiosmtpd`, aiosmtpd does the SMTP (with PIPELINING advertised) and the same checks, to compare with earlier runs.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time


class Stats:
    def __init__(self) -> None:
        self.messages = 0
        self.invalid = 0
        self.sessions = 0
        self.bytes = 0
        self.recipients: list[bytes] = []

    def accept(self, data: bytes, recipients: list[bytes]) -> bool:
        """Check and count one message; False when it fails a check (answer 554)."""
        if not _check(data, recipients):
            self.invalid += 1
            return False
        self.messages += 1
        self.bytes += len(data)
        self.recipients.extend(recipients)
        return True


def _check(data: bytes, recipients: list[bytes]) -> bool:
    """Is this a whole message for these recipients (headers, the recipient named in To:, the MIME end)?"""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    headers = b"\r\n" + data[:end].lower() + b"\r\n"
    if b"\r\nsubject:" not in headers or b"\r\nmessage-id:" not in headers:
        return False
    at = headers.find(b"\r\nto:")
    if at < 0:
        return False
    to = headers[at:headers.find(b"\r\n", at + 2)]
    return all(r.lower() in to for r in recipients) and data.rstrip().endswith(b"--")


def _address(line: bytes) -> bytes:
    """The address in `MAIL FROM:<a> SIZE=…` or `RCPT TO:<a>`."""
    start = line.find(b"<")
    return line[start + 1:line.find(b">", start)]


class Session(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = b""
        self.in_data = False
        self.sender: bytes | None = None
        self.recipients: list[bytes] = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.stats.sessions += 1
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    break
                message, self.buffer = self.buffer[:end + 2], self.buffer[end + 5:]
                self.in_data = False
                replies.append(self._message(message.replace(b"\r\n..", b"\r\n.")))
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
            replies.append(self._command(line))
        if replies:
            self.transport.write(b"".join(replies))

    def _command(self, line: bytes) -> bytes:
        verb = line[:4].upper()
        if verb == b"MAIL":
            self.sender, self.recipients = _address(line), []
            return b"250 OK\r\n"
        if verb == b"RCPT":
            if self.sender is None:
                return b"503 MAIL first\r\n"
            self.recipients.append(_address(line))
            return b"250 OK\r\n"
        if verb == b"DATA":
            if not self.recipients:
                return b"503 RCPT first\r\n"
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"EHLO":
            return b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 33554432\r\n"
        if verb == b"HELO":
            return b"250 sink\r\n"
        if verb in (b"RSET", b"NOOP"):
            self.sender, self.recipients = None, []
            return b"250 OK\r\n"
        if verb == b"QUIT":
            self.transport.write(b"221 Bye\r\n")
            self.transport.close()
            return b""
        return b"502 Not implemented\r\n"

    def _message(self, data: bytes) -> bytes:
        recipients, self.sender, self.recipients = self.recipients, None, []
        return b"250 Message accepted\r\n" if self.stats.accept(data, recipients) else b"554 Malformed message\r\n"


async def serve(port: int) -> Stats:
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Session(stats), "127.0.0.1", port, backlog=256)
    await _until_stopped()
    server.close()
    return stats


async def _until_stopped() -> None:
    """Say "ready", then wait for SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    await stop.wait()


async def serve_aiosmtpd(port: int) -> Stats:
    from aiosmtpd.controller import Controller

    stats = Stats()

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            stats.sessions += 1
            session.host_name = hostname
            responses.insert(1, "250-PIPELINING")
            return responses

        async def handle_DATA(self, server, session, envelope):
            accepted = stats.accept(envelope.original_content, [r.encode() for r in envelope.rcpt_tos])
            return "250 Message accepted" if accepted else "554 Malformed message"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    await _until_stopped()
    controller.stop()
    return stats


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--aiosmtpd"]
    stats = asyncio.run((serve_aiosmtpd if "--aiosmtpd" in sys.argv else serve)(int(args[0])))
    if len(args) > 1:
        with open(args[1], "wb") as out:
            out.write(b"".join(r + b"\n" for r in stats.recipients))
    print(json.dumps({"messages": stats.messages, "invalid": stats.invalid, "sessions": stats.sessions,
                      "bytes": stats.bytes, "cpu_seconds": round(time.process_time(), 2)}), flush=True)


if __name__ == "__main__":
    main()
