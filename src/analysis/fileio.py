"""Checksums and atomic, deterministic writes.

A write goes to a temporary file in the destination folder and is renamed into
place only when complete, so an interrupted run never leaves a half-written
file; a file whose new bytes equal the old ones is not touched at all.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_CHUNK = 1 << 20
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@dataclass
class StageResult:
    """What a stage did: whether its outputs were already current, which files
    it (re)wrote and which it found unchanged, its counts and warnings."""
    out_dir: Path
    up_to_date: bool
    written: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def shown(path) -> str:
    """A path as the user would type it: relative to the working directory
    when inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
    # mkstemp makes the file private (0600); outputs get the usual permissions
    os.fchmod(fd, 0o666 & ~_UMASK)
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


def read_mapping(path, raw: bytes) -> dict:
    """A research instrument's YAML (cleaning rules, codebook, case registry)
    as a mapping; InputError naming the file and the fix otherwise."""
    import yaml

    from .errors import InputError

    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid YAML ({e}); fix the syntax at the position "
                         "shown.") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: must be a YAML mapping (see the layout at its top).")
    return doc


def stage_current(out_dir, stamp_name: str, key: dict) -> bool:
    """Whether a stage's stamp in ``out_dir`` has this key and every output it
    lists is present with its recorded checksum."""
    import json

    out_dir = Path(out_dir)
    try:
        stamp = json.loads((out_dir / stamp_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp.get("key") == key and all(
        (out_dir / f).is_file() and sha256_file(out_dir / f) == info.get("sha256")
        for f, info in stamp.get("outputs", {}).items())


def publish(tmp, out_dir, rows: dict, key: dict, stamp_name: str, extra=None):
    """Finish a stage: write its stamp (key, each output's checksum and rows,
    ``extra``) into ``tmp`` beside the outputs, then move every file into
    ``out_dir``, leaving unchanged ones untouched. Returns (written, unchanged)."""
    import json

    tmp, out_dir = Path(tmp), Path(out_dir)
    outputs = {f: {"sha256": sha256_file(tmp / f), "rows": n} for f, n in rows.items()}
    stamp = {"key": dict(sorted(key.items())), "outputs": outputs, **(extra or {})}
    (tmp / stamp_name).write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n",
                                  encoding="utf-8")
    written, unchanged = [], []
    for f in [*outputs, stamp_name]:
        (written if replace_if_changed(tmp / f, out_dir / f) else unchanged).append(f)
    return written, unchanged


STAMPS = ("build.json", "coding.json", "linking.json")


def stamp_checksums(processed) -> dict:
    """{file: sha256} of the processed tables as their stages' stamps record
    them, so large tables need no rehash. Every run of a stage checks its
    outputs against its stamp, and the report runs the stages first."""
    import json

    out = {}
    for name in STAMPS:
        try:
            stamp = json.loads((Path(processed) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.update({f: info["sha256"] for f, info in stamp.get("outputs", {}).items()})
    return out


def csv_checksums(folder) -> dict:
    """{file name: sha256} of the CSV files directly in ``folder`` (empty when
    it does not exist), sorted by name."""
    folder = Path(folder)
    return {p.name: sha256_file(p) for p in sorted(folder.glob("*.csv"))} if folder.is_dir() \
        else {}
