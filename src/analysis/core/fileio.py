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
import pyarrow.parquet as pq
import yaml

from .errors import InputError
from .lookup import sorted_rows
from .parquet import RowGroupWriter, stream_batches

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
# what the cache remembers of a file, as ``os.stat`` says it: first what
# names the file (inode and device), then what changes with its bytes
_SIGNATURE = np.dtype([("ino", "<u8"), ("dev", "<u8"), ("size", "<i8"),
                       ("mtime_ns", "<i8"), ("ctime_ns", "<i8")])
# keys looked up together by ``sha256_many``: what is held at once
_LOOKUP_BLOCK = 8_192


def _signatures(stats) -> np.ndarray:
    return np.array([(s.st_ino, s.st_dev, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
                     for s in stats], _SIGNATURE)


def _file_keys(sigs: np.ndarray) -> np.ndarray:
    """One number per inode and device, to search by (``lookup.sorted_rows``)."""
    with np.errstate(over="ignore"):
        return sigs["ino"] * np.uint64(0x9E3779B97F4A7C15) ^ sigs["dev"]


class ChecksumCache:
    """SHA-256 of files remembered by what ``stat`` says of them (inode,
    device, size, modification and change times) in a Parquet file, so a run
    with nothing changed reads no file twice. The change time cannot be set
    back by ``touch`` or a copy that keeps modification times, so an edited
    file always misses the cache; a file changed in the last two seconds is
    hashed and not remembered. The file holds hints only: a lost or stale
    cache costs time, never a wrong checksum of a changed file.

    A file is found by its inode and device, which ``stat`` gives anyway, so
    the paths the file also holds (to forget deleted files) are not read:
    what is held is the signatures sorted by inode and the checksums, 80
    bytes a file. What a run learns is held in compact arrays too
    (``_Learnt``, about 150 bytes a file with its path) until ``save``."""

    VERSION = b"3"

    def __init__(self, path):
        self.path = Path(path)
        self.changed = False
        self.learnt = _Learnt()
        try:
            self.sigs, self.shas, self.keys = self._read()
            self.loaded = True
        except (OSError, ValueError, KeyError, pa.ArrowException):
            # no cache, or not one this code wrote: start afresh
            self.sigs, self.shas = np.zeros(0, _SIGNATURE), np.zeros((0, 32), np.uint8)
            self.keys = _file_keys(self.sigs)
            self.loaded = False

    def _read(self):
        f = pq.ParquetFile(self.path, pre_buffer=False)  # as stream_batches reads
        if (f.schema_arrow.metadata or {}).get(b"version") != self.VERSION or \
                not f.schema_arrow.remove_metadata().equals(_CACHE_SCHEMA):
            raise ValueError("not this version's cache")
        sigs = np.empty(f.metadata.num_rows, _SIGNATURE)
        shas = np.empty((f.metadata.num_rows, 32), np.uint8)
        at = 0
        for batch in f.iter_batches(_CACHE_GROUP_ROWS, columns=[*_SIGNATURE.names, "sha256"],
                                    use_threads=False):
            n = batch.num_rows
            _signatures_of(batch, sigs[at:at + n])
            sha = batch.column("sha256")
            shas[at:at + n] = np.frombuffer(sha.buffers()[1], np.uint8,
                                            n * 32, sha.offset * 32).reshape(n, 32)
            at += n
        keys = _file_keys(sigs)
        if len(keys) > 1 and not (keys[1:] >= keys[:-1]).all():
            raise ValueError("not sorted as this code writes it")
        return sigs, shas, keys

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

    def _block(self, paths: list) -> list:
        stats = [os.stat(p) for p in paths]
        sigs = _signatures(stats)
        keys = _file_keys(sigs)
        # a file's checksum is wherever its whole signature is: in the rows
        # read, or in what this run learnt
        found = np.zeros(len(paths), bool)
        shas = np.zeros((len(paths), 32), np.uint8)
        for have_keys, have_sigs, have_shas in [(self.keys, self.sigs, self.shas),
                                                *self.learnt.runs]:
            rows = sorted_rows(have_keys, keys, lambda rows, at: have_sigs[rows] == sigs[at])
            hit = (rows >= 0) & ~found
            shas[hit] = have_shas[rows[hit]]
            found |= hit
        hexes = shas.tobytes().hex()
        out, new, again = [], [], {}  # again: learnt in this block, for a path given twice
        for i, (path, st) in enumerate(zip(paths, stats)):
            if not stat.S_ISREG(st.st_mode):
                out.append(_hash_file(path))  # a FIFO or device: never remembered
            elif found[i]:
                out.append(hexes[64 * i:64 * i + 64])
            elif path in again:
                out.append(again[path])
            else:
                sha = _hash_file(path)
                # a file changed just now is not remembered; a row of what it
                # held before is harmless (its change time differs) and goes
                # at the next save. Nor is a name that is not UTF-8, which
                # the cache file cannot hold as text.
                if (time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS
                        and _is_text(path)):
                    again[path] = sha
                    new.append(i)
                out.append(sha)
        if new:
            self.learnt.add([paths[i] for i in new], sigs[new],
                            np.frombuffer(bytes.fromhex("".join(out[i] for i in new)),
                                          np.uint8).reshape(-1, 32))
            self.changed = True
        return out

    def save(self) -> None:
        """Write the cache (atomically) when it learnt something and its
        folder exists. A row is written only while its file still has the
        signature it was remembered with: deleted files and rows of what a
        file held before are dropped. The rows read and those learnt are
        merged by search number a piece of each at a time (``_merged``), so
        the memory it takes is about _MERGE_ROWS rows and what was learnt,
        however many files the cache holds."""
        if not self.changed or not self.path.parent.is_dir():
            return
        # what is held at once is a piece of each source: _MERGE_ROWS in all
        rows = max(1_024, _MERGE_ROWS // (len(self.learnt.runs) + 1))
        read = [stream_batches(self.path, rows)] if self.loaded else []
        tmp = temp_path_beside(self.path)
        try:
            with pq.ParquetWriter(tmp, _CACHE_SCHEMA.with_metadata({"version": self.VERSION}),
                                  compression="zstd") as writer:
                groups = RowGroupWriter(writer, _CACHE_GROUP_ROWS)
                for part in _merged(read + self.learnt.pieces(rows)):
                    groups.add(part)
                groups.end()
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self.changed = False


def _merged(sources: list):
    """The current rows (``_still_current``) of ``sources``, iterables of
    cache rows (tables or record batches) each sorted by search number, as
    tables in search-number order: one piece of each source is held at a
    time, and each table yielded takes at most one piece's rows from each.
    Rows with equal numbers come in the order of the sources."""
    pieces = [iter(s) for s in sources]
    held = [None] * len(pieces)  # per source: (rows, keys, rows already given)

    def fill(i):
        for rows in pieces[i]:
            rows = pa.Table.from_batches([rows]) if isinstance(rows, pa.RecordBatch) else rows
            rows = rows.filter(_still_current(rows))
            if rows.num_rows:
                held[i] = (rows, _file_keys(_signatures_of(rows)), 0)
                return
        held[i] = None

    for i in range(len(pieces)):
        fill(i)
    while any(held):
        # up to the smallest last number held: every row at or below it is
        # held now, so what comes later sorts after it
        upto = min(h[1][-1] for h in held if h)
        parts, keys = [], []
        for i, h in enumerate(held):
            if not h:
                continue
            rows, k, at = h
            end = int(np.searchsorted(k, upto, side="right"))
            parts.append(rows.slice(at, end - at))
            keys.append(k[at:end])
            if end == len(k):
                fill(i)
            else:
                held[i] = (rows, k, end)
        part, keys = pa.concat_tables(parts), np.concatenate(keys)
        yield part.take(pa.array(np.argsort(keys, kind="stable")))


class _Learnt:
    """The files a run hashed: search numbers, signatures, checksums and
    paths in numpy and Arrow arrays, about 150 bytes a file, where a dict of
    Python objects by path took about 600 (181 MB for 300,000 files).

    They are held as runs sorted by search number. A run added is merged
    with the last while that is no more than twice its size and the two
    together no more than RUN_ROWS, so a file is looked up in a few sorted
    arrays however it was learnt (in blocks of thousands or one at a time),
    and a merge copies at most RUN_ROWS rows. ``runs`` are (keys,
    signatures, checksums), ``paths`` their paths."""

    RUN_ROWS = 131_072  # about 20 MB

    def __init__(self):
        self.runs = []
        self.paths = []  # one Arrow array of paths per run

    def add(self, paths: list, sigs: np.ndarray, shas: np.ndarray) -> None:
        run = (_file_keys(sigs), sigs, shas)
        names = pa.array(paths, pa.string())
        while (self.runs and len(self.runs[-1][0]) <= 2 * len(run[0])
               and len(self.runs[-1][0]) + len(run[0]) <= self.RUN_ROWS):
            run = tuple(np.concatenate([a, b]) for a, b in zip(self.runs.pop(), run))
            names = pa.concat_arrays([self.paths.pop(), names])
        order = np.argsort(run[0], kind="stable")
        self.runs.append(tuple(a[order] for a in run))
        self.paths.append(names.take(pa.array(order)))

    def pieces(self, rows: int) -> list:
        """Each run as an iterable of cache rows, ``rows`` at a time, for
        ``_merged``."""
        return [self._pieces(k, rows) for k in range(len(self.runs))]

    def _pieces(self, k: int, rows: int):
        _, sigs, shas = self.runs[k]
        for lo in range(0, len(sigs), rows):
            sha = np.ascontiguousarray(shas[lo:lo + rows])
            yield pa.table({
                "path": self.paths[k].slice(lo, rows),
                **{c: sigs[c][lo:lo + rows] for c in _SIGNATURE.names},
                "sha256": pa.FixedSizeBinaryArray.from_buffers(
                    pa.binary(32), len(sha), [None, pa.py_buffer(sha)])},
                schema=_CACHE_SCHEMA)


def _is_text(path: str) -> bool:
    """Whether a name the system gave is UTF-8 (not one with undecodable
    bytes, which Python holds as lone surrogates)."""
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _still_current(rows) -> pa.Array:
    """Which cache rows (a table) still describe their file: it exists and
    ``stat`` gives the signature the row holds."""
    sigs = _signatures_of(rows)
    now = np.zeros(len(sigs), _SIGNATURE)  # a file gone keeps zeros, which match no row
    paths = rows.column("path")
    for lo in range(0, len(now), _LOOKUP_BLOCK):  # a block's names held at a time
        stats = [_stat_or_none(p) for p in paths.slice(lo, _LOOKUP_BLOCK).to_pylist()]
        there = [i for i, st in enumerate(stats) if st is not None]
        now[lo + np.array(there, np.int64)] = _signatures([stats[i] for i in there])
    return pa.array(now == sigs)


def _stat_or_none(path: str):
    try:
        return os.stat(path)
    except (OSError, ValueError):  # gone, or a name the system refuses
        return None


def _signatures_of(rows, out=None) -> np.ndarray:
    """The signature columns of cache rows (a table or record batch), as one
    structured array (written into ``out`` when given)."""
    sigs = np.empty(rows.num_rows, _SIGNATURE) if out is None else out
    for c in _SIGNATURE.names:
        sigs[c] = rows.column(c).to_numpy()
    return sigs


# rows per row group of the cache file, and per batch read back
_CACHE_GROUP_ROWS = 65_536
# rows a save holds of the sources it merges (``_merged``), shared between
# them (the file read and ``_Learnt``'s runs)
_MERGE_ROWS = 65_536
_CACHE_SCHEMA = pa.schema([("path", pa.string()),
                           *((c, pa.from_numpy_dtype(_SIGNATURE[c])) for c in _SIGNATURE.names),
                           ("sha256", pa.binary(32))])


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
