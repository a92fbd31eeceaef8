"""Receiving an upload: the multipart body read as a stream into a temporary file beside the store, hashed as it
arrives, and abandoned as soon as it passes the size limit — never held in memory whole.

The web and API routes that take files call `receive(...)` instead of letting FastAPI spool the body; a page's
form sends `csrf_token` before the file, and it is checked before a byte of the file is written
(`core.csrf.streams_upload`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from socius.core.csrf import needs_form_token, token_valid
from socius.core.errors import CsrfFailed, ValidationFailed
from socius.core.i18n import N_
from socius.files import storage
from socius.files.inspect import FIELD, HEAD_BYTES

MAX_FIELD_BYTES = 110_000  # a description, a version number, the token
MAX_PARTS = 16
MULTIPART_SLACK = 512 * 1024  # headers and the other fields around the file


@dataclass
class Received:
    """An upload on disk, in a temporary file the caller must `discard()` (or the store takes over)."""

    path: Path | None = None
    filename: str | None = None
    size: int = 0
    sha256: str = ""
    head: bytes = b""
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.path = None


def too_big(limit: int) -> ValidationFailed:
    if limit >= 1024 * 1024:
        return ValidationFailed.one(FIELD, N_("must be at most {mb} MB"), mb=limit // (1024 * 1024))
    return ValidationFailed.one(FIELD, N_("must be at most {kb} KB"), kb=max(1, limit // 1024))


class _Reader:
    def __init__(self, request: Request, limit: int, temp_dir: Path) -> None:
        self.limit = limit
        self.temp_dir = temp_dir
        self.check_token = needs_form_token(request)
        self.request = request
        self.received = Received()
        self.token_ok = not self.check_token
        self.parts = 0
        self._headers: dict[str, str] = {}
        self._header_field = b""
        self._header_value = b""
        self._name: str | None = None
        self._value = bytearray()
        self._file = None
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self._in_file = False
        self.error: Exception | None = None

    # Callbacks run inside parser.write(); an error stops the parse and is raised by `feed`.
    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ValidationFailed.one(FIELD, N_("the form has too many parts"))
        self._headers = {}
        self._name = None
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        # Kept as latin-1 text (byte for byte); a file name is decoded as UTF-8 below, as browsers send it.
        self._headers[self._header_field.decode("latin-1").lower()] = self._header_value.decode("latin-1")
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _kind, params = parse_options_header(self._headers.get("content-disposition", ""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == FIELD:
            if not self.token_ok:
                raise CsrfFailed()
            if self._file is not None or self.received.filename is not None:
                raise ValidationFailed.one(FIELD, N_("send one file at a time"))
            raw = params.get(b"filename")
            self.received.filename = raw.decode("utf-8", "replace") if raw is not None else ""
            self.temp_dir.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.temp_dir, prefix="upload-")
            self._file = os.fdopen(handle, "wb")
            self.received.path = Path(name)
            self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._in_file:
            self.received.size += len(chunk)
            if self.received.size > self.limit:
                raise too_big(self.limit)
            self._hash.update(chunk)
            if len(self._head) < HEAD_BYTES:
                self._head += chunk[: HEAD_BYTES - len(self._head)]
            self._file.write(chunk)
        else:
            self._value += chunk
            if len(self._value) > MAX_FIELD_BYTES:
                raise ValidationFailed.one(self._name or FIELD, N_("is too long"))

    def on_part_end(self) -> None:
        if self._in_file:
            self._file.close()
            self._in_file = False
            return
        if self._name:
            value = self._value.decode("utf-8", "replace")
            self.received.fields.setdefault(self._name, value)
            if self._name == "csrf_token" and self.check_token:
                self.token_ok = token_valid(self.request, value)

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()


async def receive(request: Request, *, limit: int, temp_dir: Path) -> Received:
    """Read the request's multipart body; the file part (`file`) goes to a temporary file. Refusals name the
    field `file` and leave nothing behind."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ValidationFailed.one(FIELD, N_("must be sent as multipart/form-data"))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise too_big(limit)  # refused before reading a byte
    reader = _Reader(request, limit, temp_dir)
    callbacks = {name: getattr(reader, name) for name in (
        "on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
        "on_part_data", "on_part_end")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if reader._in_file:  # the body ended inside the file
            raise ValidationFailed.one(FIELD, N_("the upload was cut off; send it again"))
    except MultipartParseError:
        reader.close()
        reader.received.discard()
        raise ValidationFailed.one(FIELD, N_("is not a well-formed multipart form")) from None
    except BaseException:
        reader.close()
        reader.received.discard()
        raise
    if not reader.token_ok:
        reader.received.discard()
        raise CsrfFailed()
    reader.received.sha256 = reader._hash.hexdigest()
    reader.received.head = bytes(reader._head)
    return reader.received


async def taking(request: Request, store):
    """Receive the request's upload (within the configured limit), hand it to `store(received)`, and discard
    whatever the store did not take — on success and on every refusal."""
    settings = request.app.state.settings
    received = await receive(request, limit=settings.file_max_bytes, temp_dir=storage.temp_dir(settings.data_dir))
    try:
        return await store(received)
    finally:
        received.discard()
