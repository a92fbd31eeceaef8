"""A small HTTP/1.1 load generator: keep-alive connections on asyncio, latency per request.

Deliberately minimal (GET, and requests with a JSON body; Content-Length or chunked bodies): on a 2-core machine
the client shares the CPU with the server it measures, and a full-featured client (httpx) would cost several times
more per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"Host: {host}:{port}\r\n{extra}\r\n".encode("latin-1")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """One GET on the kept-alive connection; returns (status, body)."""
        return await self.request("GET", path)

    async def request(self, method: str, path: str, body: bytes | None = None,
                      content_type: str = "application/json") -> tuple[int, bytes]:
        """One request on the kept-alive connection; returns (status, body)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        line = method.encode("ascii") + b" " + path.encode("ascii") + b" HTTP/1.1\r\n"
        if body is None:
            self.writer.write(line + self.head)
        else:
            length = f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode("latin-1")
            self.writer.write(line + length + self.head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("connection closed by server")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            await self.close()
        return status, body


@dataclass
class Result:
    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    samples: list[tuple[str, float]] = field(default_factory=list)  # (path, seconds)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall: float = 0.0
    bytes: int = 0

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors

    def percentile(self, p: float) -> float:
        """Milliseconds; nearest-rank on the sorted sample."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


async def run_load(
    name: str, host: str, port: int, paths: Sequence[str | tuple[str, str, bytes]], *, concurrency: int,
    headers: dict[str, str], expect: Iterable[int] = (200,), max_seconds: float | None = None,
) -> Result:
    """Send every path once (or until `max_seconds`), `concurrency` requests in flight, each on its own
    kept-alive connection. A path is a GET, or (method, path, JSON body)."""
    expected = set(expect)
    result = Result(name, concurrency)
    queue = iter(paths)
    connections = [Connection(host, port, headers) for _ in range(concurrency)]
    for connection in connections:
        await connection.open()

    deadline = time.perf_counter() + max_seconds if max_seconds else float("inf")

    async def worker(connection: Connection) -> None:
        for item in queue:  # one shared iterator: asyncio runs one worker at a time between awaits
            method, path, payload = ("GET", item, None) if isinstance(item, str) else item
            started = time.perf_counter()
            if started > deadline:
                break
            try:
                status, body = await connection.request(method, path, payload)
            except (HttpError, ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{path}: {type(error).__name__}: {error}")
                await connection.close()
                continue
            elapsed = time.perf_counter() - started
            if status in expected:
                result.latencies.append(elapsed)
                result.samples.append((path, elapsed))
                result.bytes += len(body)
            else:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{path}: HTTP {status}: {body[:200]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    result.wall = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return result
