"""Checksums and atomic, deterministic writes.

A write goes to a temporary file in the destination folder and is renamed into
place only when complete, so an interrupted run never leaves a half-written
file; a file whose new bytes equal the old ones is not touched at all.
"""

import hashlib
import os
import tempfile
from pathlib import Path

_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def temp_path_beside(path) -> Path:
    """A fresh, unused temporary path in the same folder as ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def replace_if_changed(tmp, dest) -> bool:
    """Move ``tmp`` onto ``dest`` unless their bytes are equal.

    Returns True when ``dest`` was (re)written. ``tmp`` is gone afterwards.
    """
    tmp, dest = Path(tmp), Path(dest)
    if dest.exists() and _same_bytes(tmp, dest):
        tmp.unlink()
        return False
    os.replace(tmp, dest)
    return True


def write_bytes_atomic(dest, data: bytes) -> bool:
    """Write ``data`` to ``dest`` atomically; returns True when it changed."""
    tmp = temp_path_beside(dest)
    try:
        tmp.write_bytes(data)
        return replace_if_changed(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(_CHUNK), fb.read(_CHUNK)
            if x != y:
                return False
            if not x:
                return True
