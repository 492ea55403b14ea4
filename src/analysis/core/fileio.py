"""Checksums, atomic and deterministic writes, and reading instruments.

A write goes to a temporary file in the destination folder and is renamed into
place only when complete, so an interrupted run never leaves a half-written
file; a file whose new bytes equal the old ones is not touched at all.
"""

import errno
import hashlib
import json
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from .errors import InputError
from .parquet import stream_batches

_CHUNK = 1 << 20
_UMASK = os.umask(0o022)
os.umask(_UMASK)


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
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks; inside
    ``remembered_checksums``, taken from its cache when the file is unchanged."""
    cache = _REMEMBERED[-1] if _REMEMBERED else None
    if cache is not None:
        return cache.sha256(path)
    return _hash_file(path)


def sha256_files(folder, names) -> list:
    """``sha256_file`` of each of ``names`` in ``folder`` ('/'-separated paths
    relative to it), in order."""
    cache = _REMEMBERED[-1] if _REMEMBERED else None
    base = os.path.abspath(folder) + os.sep
    if cache is None:
        return [_hash_file(base + n) for n in names]
    return cache.sha256_many([base + n for n in names])


def _hash_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


_REMEMBERED: list = []
# A file changed less than this long ago may change again within its
# timestamps' resolution without them moving: its checksum is not remembered.
_SETTLED_NS = 2_000_000_000
# what the cache remembers of a file, as ``os.stat`` says it
_SIGNATURE = ("size", "mtime_ns", "ctime_ns", "ino", "dev")
# keys looked up together by ``sha256_many``: what is held at once
_LOOKUP_BLOCK = 8_192


class ChecksumCache:
    """SHA-256 of files remembered by what ``stat`` says of them (size,
    modification and change times, inode, device) in a Parquet file, so a run
    with nothing changed reads no file twice. The change time cannot be set
    back by ``touch`` or a copy that keeps modification times, so an edited
    file always misses the cache; a file changed in the last two seconds is
    hashed and not remembered. The file holds hints only: a lost or stale
    cache costs time, never a wrong checksum of a changed file.

    What was read is held as Arrow columns with a sorted array of the paths'
    hashes to find a row (about 160 bytes a file, where a dict of lists took
    570); what a run learns is held in a dict until ``save``."""

    VERSION = b"2"

    def __init__(self, path):
        self.path = Path(path)
        self.changed = False
        self.learnt = {}  # path: [*signature, sha] or None (forgotten)
        parts = []
        try:
            schema = pq.read_schema(self.path)
            if (schema.metadata or {}).get(b"version") == self.VERSION and \
                    schema.remove_metadata().equals(_CACHE_SCHEMA):
                parts = list(stream_batches(self.path, _CACHE_GROUP_ROWS))
        except (OSError, ValueError, pa.ArrowException):
            parts = []  # no cache, or not one this code wrote: start afresh
        # one array per column (a take from a chunked one joins its chunks each time)
        self.paths = pa.concat_arrays([b.column("path") for b in parts]
                                      or [pa.array([], pa.string())])
        self.shas = pa.concat_arrays([b.column("sha256") for b in parts]
                                     or [pa.array([], pa.binary(32))])
        self.sigs = np.concatenate(
            [np.column_stack([b.column(c).to_numpy() for c in _SIGNATURE]) for b in parts]
            or [np.zeros((0, len(_SIGNATURE)), np.int64)])
        del parts
        hashes = np.fromiter((hash(k) for b in _blocks(self.paths) for k in b.to_pylist()),
                             np.int64, len(self.paths))
        self.order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[self.order]

    def sha256(self, path) -> str:
        return self.sha256_in(os.path.abspath(path))

    def sha256_in(self, key: str) -> str:
        """``sha256`` of a path already absolute and normal (no abspath per file)."""
        return self.sha256_many([key])[0]

    def sha256_many(self, keys: list) -> list:
        """``sha256_in`` of each key, looking them up in blocks."""
        out = []
        for lo in range(0, len(keys), _LOOKUP_BLOCK):
            out += self._block(keys[lo:lo + _LOOKUP_BLOCK])
        return out

    def _block(self, keys: list) -> list:
        stats = [os.stat(k) for k in keys]
        rows = self._rows(keys)
        found = rows[rows >= 0]
        read = iter(zip(self.sigs[found].tolist(),
                        self.shas.take(pa.array(found, pa.int64())).to_pylist()))
        out = []
        for key, st, row in zip(keys, stats, rows.tolist()):
            # what this run learnt of the file (None: forgotten), else what was read
            stored = next(read) if row >= 0 else None
            if key in self.learnt:
                known = self.learnt[key]
            else:
                known = stored and [*stored[0], stored[1].hex()]
            if not stat.S_ISREG(st.st_mode):
                out.append(_hash_file(key))  # a FIFO or device: never remembered
                continue
            sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
            if known is not None and known[:5] == sig:
                out.append(known[5])
                continue
            sha = _hash_file(key)
            if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS:
                self.learnt[key] = [*sig, sha]
                self.changed = True
            elif known is not None:
                self.learnt[key] = None
                self.changed = True
            out.append(sha)
        return out

    def _rows(self, keys: list) -> np.ndarray:
        """Each key's row in the table read, or -1."""
        rows = np.full(len(keys), -1, np.int64)
        if not len(self.hashes):
            return rows
        hashes = np.fromiter(map(hash, keys), np.int64, len(keys))
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        maybe = np.flatnonzero(self.hashes[at] == hashes)
        # a hash is not the path: check it (a collision only costs a hashing)
        paths = self.paths.take(pa.array(self.order[at[maybe]])).to_pylist()
        for i, path in zip(maybe.tolist(), paths):
            if path == keys[i]:
                rows[i] = self.order[at[i]]
        return rows

    def save(self) -> None:
        """Write the cache (atomically) when it learnt something and its
        folder exists; entries of files that no longer exist are dropped."""
        if not self.changed or not self.path.parent.is_dir():
            return
        keep = np.fromiter((k not in self.learnt and os.path.exists(k)
                            for b in _blocks(self.paths) for k in b.to_pylist()),
                           bool, len(self.paths))
        new = sorted((k, v) for k, v in self.learnt.items() if v and os.path.exists(k))
        cols = {"path": [k for k, _ in new],
                **{c: [v[i] for _, v in new] for i, c in enumerate(_SIGNATURE)},
                "sha256": [bytes.fromhex(v[5]) for _, v in new]}
        old = pa.table([self.paths, *map(np.ascontiguousarray, self.sigs.T), self.shas],
                       schema=_CACHE_SCHEMA)
        table = pa.concat_tables([old.filter(pa.array(keep)),
                                  pa.table(cols, schema=_CACHE_SCHEMA)])
        table = table.take(pc.sort_indices(table, sort_keys=[("path", "ascending")]))
        table = table.replace_schema_metadata({"version": self.VERSION})
        tmp = temp_path_beside(self.path)
        try:
            pq.write_table(table, tmp, compression="zstd", row_group_size=_CACHE_GROUP_ROWS)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self.changed = False


# rows per row group of the cache file, and per batch read back
_CACHE_GROUP_ROWS = 65_536
_CACHE_SCHEMA = pa.schema([("path", pa.string()), *((c, pa.int64()) for c in _SIGNATURE),
                           ("sha256", pa.binary(32))])


def _blocks(array, size: int = _CACHE_GROUP_ROWS):
    """An Arrow array in slices of ``size`` (by default, as the cache file's row groups)."""
    for lo in range(0, len(array), size):
        yield array.slice(lo, size)


@contextmanager
def remembered_checksums(path):
    """Within this block, ``sha256_file`` in this process takes unchanged
    files' checksums from the cache at ``path`` (``ChecksumCache``), which is
    saved at the end, also when the block fails."""
    cache = ChecksumCache(path)
    _REMEMBERED.append(cache)
    try:
        yield cache
    finally:
        _REMEMBERED.pop()
        try:
            cache.save()
        except (OSError, ValueError):  # a folder gone, a path Arrow cannot hold
            pass  # a cache that cannot be written only costs time next run


class NotRegular(Exception):
    """A path that is not a regular file: a symbolic link, FIFO, device,
    socket or folder. ``kind`` names which, in words."""

    def __init__(self, path, kind: str):
        self.path, self.kind = path, kind
        super().__init__(f"{path}: is a {kind}, not a regular file")


def file_kind(mode: int) -> str:
    """'' for a regular file, else what the ``st_mode`` says it is, in words."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def open_regular(path):
    """A regular file, open for reading (binary). Never follows a symbolic
    link (the last component is checked with lstat and opened with
    O_NOFOLLOW), never opens a FIFO or device, and checks that what was
    opened is what was checked. Raises NotRegular otherwise."""
    before = os.lstat(path)
    kind = file_kind(before.st_mode)
    if kind:
        raise NotRegular(path, kind)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:  # replaced by a link after the check
            raise NotRegular(path, "symbolic link") from None
        raise
    now = os.fstat(fd)
    if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino) or file_kind(now.st_mode):
        os.close(fd)
        raise NotRegular(path, file_kind(now.st_mode) or "file replaced while reading")
    return os.fdopen(fd, "rb")


def read_regular(path) -> bytes:
    """The bytes of a regular file (see open_regular)."""
    with open_regular(path) as f:
        return f.read()


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
    try:
        # libyaml's parser when PyYAML has it (its wheels do): 8 times faster
        doc = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid YAML ({e}); fix the syntax at the position "
                         "shown.") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: must be a YAML mapping (see the layout at its top).")
    return doc


def csv_checksums(folder) -> dict:
    """{file name: sha256} of the CSV files directly in ``folder`` (empty when
    it does not exist), sorted by name."""
    folder = Path(folder)
    return {p.name: sha256_file(p) for p in sorted(folder.glob("*.csv"))} if folder.is_dir() \
        else {}


def read_json(path) -> dict:
    """A JSON file as a dict; {} when it is missing or unreadable (a stamp or
    record that must be rebuilt)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# A cell a spreadsheet would run as a formula (OWASP, "CSV injection"): text
# from the corpus or from coders may start with any of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A text cell that a spreadsheet shows as text: one starting like a
    formula gets a leading apostrophe (spreadsheets hide it); numbers written
    as text ("-0.5") and other values are returned as they are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def from_spreadsheet(value: str) -> str:
    """A cell read back from a CSV this package wrote: the apostrophe that
    ``spreadsheet_safe`` put before a formula-like text is taken off again."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def csv_bytes(df, index=False) -> bytes:
    """A DataFrame as UTF-8 CSV with LF line ends, every text cell (and a
    text index when written) made spreadsheet-safe."""
    safe = df.copy()
    for column in safe.select_dtypes(include=["object", "string"]).columns:
        safe[column] = safe[column].map(spreadsheet_safe, na_action="ignore")
    if index and safe.index.dtype == object:
        safe.index = safe.index.map(spreadsheet_safe)
    return safe.to_csv(index=index, lineterminator="\n").encode("utf-8")
