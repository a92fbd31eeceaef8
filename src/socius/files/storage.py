"""Where file bytes live: `<data_dir>/files/<aa>/<bb>/<sha256>`, named by their hash (never by anything a client
chose), written to a temporary file beside them and renamed into place, so a reader never sees half a file and
the same bytes are stored once however many versions share them. Bytes no live version names any more are
removed by the periodic sweep (`files.service.sweep_store`)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HASH = re.compile(r"[0-9a-f]{64}")


def root(data_dir: Path) -> Path:
    return Path(data_dir) / "files"


def temp_dir(data_dir: Path) -> Path:
    return root(data_dir) / "tmp"


def key_for(sha256: str) -> str:
    if not HASH.fullmatch(sha256):
        raise ValueError("not a SHA-256")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def path_of(data_dir: Path, storage_key: str) -> Path:
    sha256 = storage_key.rsplit("/", 1)[-1]
    return root(data_dir) / key_for(sha256)  # rebuilt from the hash: a stored key can never point elsewhere


def keep(data_dir: Path, temp: Path, sha256: str) -> str:
    """Move an upload's temporary file into the store under its hash; returns the storage key."""
    key = key_for(sha256)
    target = root(data_dir) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()  # the same bytes are already stored
        # Young again: the sweep leaves recent bytes alone, so bytes an upload has just come to share are not
        # taken for unreferenced ones.
        with contextlib.suppress(FileNotFoundError):
            os.utime(target)
    else:
        os.chmod(temp, 0o640)
        os.replace(temp, target)
    return key


@dataclass(frozen=True)
class Stored:
    sha256: str
    path: Path
    size: int
    modified: float  # seconds since the epoch


def stored(data_dir: Path, *, older_than: float) -> Iterator[Stored]:
    """The blobs in the store last written (or shared by an upload) before `older_than`, a time as from
    `time.time()`. Names that are not a hash are not ours: left alone."""
    base = root(data_dir)
    for first in _dirs(base):
        for second in _dirs(first):
            with os.scandir(second) as entries:
                for entry in entries:
                    if not HASH.fullmatch(entry.name) or not entry.name.startswith(first.name + second.name):
                        continue
                    with contextlib.suppress(FileNotFoundError):
                        info = entry.stat(follow_symlinks=False)
                        if entry.is_file(follow_symlinks=False) and info.st_mtime < older_than:
                            yield Stored(entry.name, Path(entry.path), info.st_size, info.st_mtime)


def _dirs(parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    with os.scandir(parent) as entries:
        return sorted(Path(e.path) for e in entries
                      if len(e.name) == 2 and e.is_dir(follow_symlinks=False) and re.fullmatch("[0-9a-f]{2}", e.name))


def remove(blob: Stored, *, older_than: float) -> bool:
    """Delete a blob if it is still as old as when it was listed (an upload sharing it since made it young)."""
    try:
        if blob.path.stat().st_mtime >= older_than:
            return False
        blob.path.unlink()
    except FileNotFoundError:
        return False
    return True


def remove_stale_temporary(data_dir: Path, *, older_than: float) -> int:
    """Temporary files of uploads that never finished (a crash, a lost connection) last written before
    `older_than`; an upload in progress keeps writing to its own, so it stays young."""
    removed = 0
    directory = temp_dir(data_dir)
    if not directory.is_dir():
        return 0
    with os.scandir(directory) as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < older_than:
                    os.unlink(entry.path)
                    removed += 1
    return removed
