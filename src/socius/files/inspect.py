"""What an upload really is: its type sniffed from its first bytes (a small table of magic numbers), checked
against its name, HTML and script refused whatever their name, zip archives (and the office formats built on
them) read through their central directory only — never extracted — and refused when they would expand too far.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from socius.core.errors import ValidationFailed
from socius.core.i18n import N_

FIELD = "file"
MAX_NAME_BYTES = 255
ZIP_MAX_TOTAL = 1024**3       # uncompressed bytes an archive may claim
ZIP_MAX_RATIO = 100           # uncompressed : compressed
ZIP_MAX_ENTRIES = 10_000
HEAD_BYTES = 4096

# kind → (content type served, the extensions a file of that kind may carry)
KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "png": ("image/png", frozenset({"png"})),
    "jpeg": ("image/jpeg", frozenset({"jpg", "jpeg", "jpe", "jfif"})),
    "gif": ("image/gif", frozenset({"gif"})),
    "webp": ("image/webp", frozenset({"webp"})),
    "tiff": ("image/tiff", frozenset({"tif", "tiff"})),
    "pdf": ("application/pdf", frozenset({"pdf"})),
    "zip": ("application/zip", frozenset({"zip"})),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", frozenset({"docx", "docm"})),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", frozenset({"xlsx", "xlsm"})),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",
             frozenset({"pptx", "pptm"})),
    "odf": ("application/zip", frozenset({"odt", "ods", "odp", "odg"})),
    "ole": ("application/x-ole-storage", frozenset({"doc", "xls", "ppt", "msg", "vsd"})),
    "gzip": ("application/gzip", frozenset({"gz", "tgz"})),
    "7z": ("application/x-7z-compressed", frozenset({"7z"})),
    "rar": ("application/vnd.rar", frozenset({"rar"})),
    "mp4": ("video/mp4", frozenset({"mp4", "m4v", "m4a", "mov", "3gp"})),
    "mp3": ("audio/mpeg", frozenset({"mp3"})),
    "text": ("text/plain; charset=utf-8", frozenset()),
    "binary": ("application/octet-stream", frozenset()),
}
# Old office files share one container; the name tells which program opens them.
OLE_TYPES = {"doc": "application/msword", "xls": "application/vnd.ms-excel",
             "ppt": "application/vnd.ms-powerpoint"}
# A name with one of these extensions must hold that kind of content (a page named .png is not a PNG).
STRICT = {ext: kind for kind, (_type, exts) in KINDS.items() for ext in exts}
# Content of these kinds must carry one of their own extensions (a PDF named .txt is refused too).
NAMED = {"png", "jpeg", "gif", "webp", "tiff", "pdf"}
ZIP_BASED = {"zip", "docx", "xlsx", "pptx", "odf"}
# Names a browser would run or render: refused whatever they contain.
ACTIVE_EXTENSIONS = {"html", "htm", "xhtml", "xht", "shtml", "mht", "mhtml", "svg", "svgz", "js", "mjs", "hta",
                     "xml", "xsl", "xslt"}
# Content a browser would render as a page or run: refused whatever the name says.
ACTIVE_CONTENT = re.compile(
    rb"<\s*(!doctype\s+html|html|head|body|script|iframe|svg|object|embed|frameset|meta\s+http-equiv)[\s>/]",
    re.IGNORECASE)

KIND_LABELS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WebP", "tiff": "TIFF", "pdf": "PDF",
               "zip": "ZIP", "docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint", "odf": "OpenDocument",
               "ole": "Office 97–2003", "gzip": "gzip", "7z": "7-Zip", "rar": "RAR", "mp4": "MP4", "mp3": "MP3",
               "text": "text", "binary": "binary"}


@dataclass(frozen=True)
class Inspected:
    kind: str
    content_type: str


def refuse(reason: str, **params) -> ValidationFailed:
    return ValidationFailed.one(FIELD, reason, **params)


def clean_filename(raw: object) -> str:
    """The name as it will be stored and offered for download; refused (never silently rewritten into a path)
    when it holds separators or control characters."""
    if not isinstance(raw, str):
        raise refuse(N_("must have a file name"))
    name = unicodedata.normalize("NFC", raw).strip()
    if not name or name in (".", ".."):
        raise refuse(N_("must have a file name"))
    if "/" in name or "\\" in name:
        raise refuse(N_("the file name must not contain / or \\"))
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise refuse(N_("the file name must not contain control characters"))
    if len(name.encode()) > MAX_NAME_BYTES:
        raise refuse(N_("the file name must be at most {max} bytes"), max=MAX_NAME_BYTES)
    return name


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _magic(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"ID3"):
        return "mp3"
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The head may end inside a character.
        return error.start >= len(head) - 3
    return True


def _active(head: bytes) -> bool:
    """HTML, SVG or script a browser would render or run. Text encoded as UTF-16 is looked at too."""
    samples = [head]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) > 1 and (head[0] == 0 or head[1] == 0)):
        for encoding in ("utf-16-le", "utf-16-be"):
            samples.append(head.decode(encoding, errors="ignore").encode("utf-8", errors="ignore"))
    return any(ACTIVE_CONTENT.search(sample) for sample in samples)


def _zip_kind(path: Path) -> str:
    """Which zip-based format, from the central directory; refused when it would expand too far."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise refuse(N_("is not a readable zip archive")) from None
    if len(entries) > ZIP_MAX_ENTRIES:
        raise refuse(N_("the archive has more than {max} entries"), max=ZIP_MAX_ENTRIES)
    total = sum(e.file_size for e in entries)
    packed = sum(e.compress_size for e in entries)
    size = path.stat().st_size
    if total > ZIP_MAX_TOTAL:
        raise refuse(N_("the archive would expand to more than {gb} GB"), gb=ZIP_MAX_TOTAL // 1024**3)
    if total > ZIP_MAX_RATIO * max(size, 1):
        raise refuse(N_("the archive would expand more than {ratio} times (a zip bomb?)"), ratio=ZIP_MAX_RATIO)
    if packed > size:  # entries sharing their compressed data: the overlapping-files bomb
        raise refuse(N_("is not a readable zip archive"))
    names = {e.filename for e in entries}
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "ppt/presentation.xml" in names:
            return "pptx"
    if "mimetype" in names:
        return "odf"
    return "zip"


def inspect(path: Path, head: bytes, filename: str) -> Inspected:
    """The upload's kind and the content type it will be served with, or ValidationFailed naming `file`."""
    ext = extension(filename)
    if ext in ACTIVE_EXTENSIONS:
        raise refuse(N_("HTML, SVG, XML and script files are not accepted"))
    kind = _magic(head)
    if kind is None:
        if _active(head[:HEAD_BYTES]):
            raise refuse(N_("HTML, SVG, XML and script files are not accepted"))
        kind = "text" if _is_text(head) else "binary"
    elif kind == "zip":
        kind = _zip_kind(path)
    if ext in STRICT and STRICT[ext] != kind and not (ext == "zip" and kind in ZIP_BASED):
        raise refuse(N_("the content is {actual}, not what the name .{ext} says"),
                     actual=KIND_LABELS[kind], ext=ext)
    if kind in NAMED and ext not in KINDS[kind][1]:
        raise refuse(N_("the content is {actual}: the name must end in .{ext}"),
                     actual=KIND_LABELS[kind], ext=sorted(KINDS[kind][1])[0])
    content_type = OLE_TYPES.get(ext, KINDS[kind][0]) if kind == "ole" else KINDS[kind][0]
    return Inspected(kind, content_type)
