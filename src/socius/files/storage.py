"""Where file bytes live: `<data_dir>/files/<aa>/<bb>/<sha256>`, named by their hash (never by anything a client
chose), written to a temporary file beside them and renamed into place, so a reader never sees half a file and
the same bytes are stored once however many versions share them."""

from __future__ import annotations

import contextlib
import os
import re
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
    else:
        os.chmod(temp, 0o640)
        os.replace(temp, target)
    return key
