"""Sending a stored file: always as an attachment, with the type sniffed at upload, never rendered inline."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import FileResponse

from socius.files.service import Download

# Served as bytes to save, whatever was sniffed: a browser must never render these.
NEVER_INLINE = ("text/html", "image/svg+xml", "application/xml", "text/xml", "application/xhtml+xml")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the real name in RFC 5987 form (UTF-8, percent-encoded)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(found: Download) -> FileResponse:
    content_type = found.version.content_type
    if content_type.split(";")[0].strip() in NEVER_INLINE:
        content_type = "application/octet-stream"
    return FileResponse(found.path, media_type=content_type, headers={
        "Content-Disposition": content_disposition(found.version.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        # Access is checked on every request: no shared cache may keep a copy.
        "Cache-Control": "private, no-cache",
        "ETag": f'"{found.version.sha256}"',
    })
