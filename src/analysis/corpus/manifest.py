"""The corpus manifest: one row per article file, checked on load, and
adding articles to a corpus (``add_article``, ``record_checksums``).

A corpus is a folder holding article files and ``manifest.csv``. Only
``doc_id`` and ``file`` are required; the other columns are optional metadata:

=========== ==============================================================
doc_id      unique id: letters, digits, ``_ . -``; starts with a letter or digit
file        path of the article file, relative to the corpus folder
sha256      SHA-256 of the file's bytes as collected (checked on every run)
outlet      publication or site name
kind        e.g. news report, opinion, blog post
url         address the article was collected from
published   ISO date, or partial date: ``2021``, ``2021-09``, ``2021-09-14``
date_basis  how ``published`` is known: stated, address or inferred
language    language tag, e.g. ``en``, ``zh``
encoding    the file's text encoding when it is not UTF-8 and detection fails
notes       free text
=========== ==============================================================
"""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.fileio import (NotRegular, file_kind, open_regular, sha256_file,
                           temp_path_beside, write_bytes_atomic)
from ..core.lookup import sorted_rows
from ..core.stages import code_fingerprint

COLUMNS = (
    "doc_id", "file", "sha256", "outlet", "kind", "url", "published",
    "date_basis", "language", "encoding", "notes",
)
REQUIRED = ("doc_id", "file")
METADATA = ("outlet", "kind", "url", "published", "date_basis", "language", "notes")
DATE_BASES = ("stated", "address", "inferred")

DOC_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(slots=True)
class Entry:
    """One manifest row. ``line`` is its line number in manifest.csv;
    ``special`` says what the file is when it is not a regular file (it is
    then set aside unread)."""

    doc_id: str
    file: str
    line: int
    sha256: str = ""
    encoding: str = ""
    meta: dict = field(default_factory=dict)
    special: str = ""


class Manifest(Sequence):
    """The rows of a manifest, held as Arrow columns in blocks of BLOCK rows
    rather than as an object per row (about a fifth of the memory): an Entry
    is made when a row is asked for. ``manifest[i]`` is an Entry,
    ``manifest[i:j]`` and ``take(positions)`` lists of them; iterating makes
    them one at a time. The blocks are in memory while the rows are read and
    checked; once written to an Arrow file (``spill``, or a manifest kept by
    read_manifest), they are read from it as they are asked for, one block
    held at a time, so that a run holds no row of its manifest for long.
    ``source_sha256``: the SHA-256 of the manifest's bytes as read."""

    BLOCK = 8192
    _FIELDS = ("doc_id", "file", "line", "sha256", "encoding", "special")
    _PLAIN = ("doc_id", "file", "line", "sha256")  # the columns not dictionary-encoded

    def __init__(self, meta_keys=()):
        self.meta_keys = tuple(meta_keys)
        self._blocks, self._starts = [], [0]  # tables, and the first row of each
        self._pending = []  # rows not yet in a block, as tuples
        self._file = None  # the Arrow file the blocks are read from, once written
        self._last = (-1, None)  # the block read from it last
        self.source_sha256 = ""
        self._remembered = None  # where to keep these rows, when checked afresh

    def keep(self) -> None:
        """Write rows checked afresh where read_manifest was asked to
        remember them; nothing otherwise."""
        if self._remembered is not None:
            self._remembered.save(self)
            self._remembered = None

    def spill(self, path) -> None:
        """Write the blocks to the Arrow file ``path`` and read them from
        there from now on."""
        if self._file is None:
            self.write(path, {})
            self._open(path)

    def write(self, path, key: dict) -> None:
        """Write the rows to ``path`` (atomically): an Arrow file, one batch
        per block, with ``key`` and the blocks' sizes in its metadata."""
        self._seal()
        names = (*self._FIELDS, *self.meta_keys)
        plain = pa.schema([(n, pa.int64() if n == "line" else pa.string()) for n in names])
        meta = {"key": json.dumps(key, sort_keys=True), "meta_keys": json.dumps(self.meta_keys),
                "blocks": json.dumps(np.diff(self._starts).tolist())}
        tmp = temp_path_beside(path)
        try:
            with pa.OSFile(str(tmp), "wb") as f, pa.ipc.new_file(
                    f, plain.with_metadata(meta),
                    options=pa.ipc.IpcWriteOptions(compression="zstd")) as w:
                for b in range(len(self._starts) - 1):
                    w.write_batch(self._block(b).cast(plain).combine_chunks().to_batches()[0])
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def written(cls, path, key: dict):
        """The manifest written to ``path`` under ``key``, or None when the
        file has another key. Raises OSError or ArrowException when it
        cannot be read."""
        reader = pa.ipc.open_file(pa.OSFile(str(path)))
        meta = reader.schema.metadata or {}
        if json.loads(meta.get(b"key", b"{}")) != key:
            return None
        entries = cls(json.loads(meta[b"meta_keys"]))
        entries._blocks = None
        entries._starts = np.concatenate(([0], np.cumsum(json.loads(meta[b"blocks"]),
                                                          dtype=np.int64))).tolist()
        if len(entries._starts) - 1 != reader.num_record_batches:
            raise ValueError(f"{path}: not as written")
        entries._file = reader
        return entries

    def _open(self, path) -> None:
        self._file = pa.ipc.open_file(pa.OSFile(str(path)))
        self._blocks, self._last = None, (-1, None)

    def _block(self, b: int) -> pa.Table:
        """Block ``b``: from memory, or read from the file (kept until
        another block is asked for)."""
        if self._file is None:
            return self._blocks[b]
        if self._last[0] != b:
            self._last = (b, pa.Table.from_batches([self._file.get_batch(b)]))
        return self._last[1]

    def append(self, doc_id: str, file: str, line: int, sha256: str, encoding: str,
               meta: tuple, special: str) -> None:
        """Add a row; ``meta`` has a value (or None) per ``meta_keys``."""
        self._pending.append((doc_id, file, line, sha256, encoding, special, *meta))
        if len(self._pending) == self.BLOCK:
            self._seal()

    def _seal(self) -> None:
        if not self._pending:
            return
        assert self._file is None, "rows added to a manifest already written"
        columns = list(zip(*self._pending))
        self._pending = []
        names = (*self._FIELDS, *self.meta_keys)
        arrays = [pa.array(c, pa.int64()) if name == "line" else
                  pa.array(c, pa.string()) if name in self._PLAIN else
                  # few distinct values (outlets, kinds, empty encodings): one copy each
                  pa.array(c, pa.string()).dictionary_encode()
                  for name, c in zip(names, columns)]
        self._add_block(pa.Table.from_arrays(arrays, names=list(names)))

    def _add_block(self, table: pa.Table) -> None:
        self._blocks.append(table)
        self._starts.append(self._starts[-1] + table.num_rows)

    def __len__(self) -> int:
        return self._starts[-1] + len(self._pending)

    def rows(self, *names):
        """The values of the named fields (of Entry, or metadata keys; None
        for a key the manifest has no column for) row by row, as tuples: a
        pass over a few fields without making an Entry per row."""
        self._seal()
        for b in range(len(self._starts) - 1):
            table = self._block(b)
            yield from zip(*(_values(table[name]) if name in table.column_names
                             else [None] * table.num_rows for name in names))

    def _entries(self, block: pa.Table) -> list:
        columns = [_values(block[name]) for name in (*self._FIELDS, *self.meta_keys)]
        keys = self.meta_keys
        return [Entry(doc_id, file, line, sha, encoding,
                      {k: v for k, v in zip(keys, meta) if v is not None}, special)
                for doc_id, file, line, sha, encoding, special, *meta in zip(*columns)]

    def _rows(self, lo: int, hi: int) -> list:
        """The Entries of rows [lo, hi)."""
        self._seal()
        out = []
        for b in range(len(self._starts) - 1):
            start, end = self._starts[b], self._starts[b + 1]
            if end > lo and start < hi:
                first = max(lo, start)
                out += self._entries(self._block(b).slice(first - start, min(hi, end) - first))
        return out

    def __getitem__(self, index):
        if isinstance(index, slice):
            lo, hi, step = index.indices(len(self))
            rows = self._rows(lo, hi) if lo < hi else []
            return rows if step == 1 else rows[::step]
        n = len(self)
        if not -n <= index < n:
            raise IndexError("manifest row out of range")
        return self._rows(index % n, index % n + 1)[0]

    def __iter__(self):
        self._seal()
        for b in range(len(self._starts) - 1):
            yield from self._entries(self._block(b))

    def take(self, positions) -> list:
        """The Entries of the rows at ``positions`` (ascending)."""
        self._seal()
        positions = np.asarray(positions, np.int64)
        block_of = np.searchsorted(self._starts, positions, side="right") - 1
        out = []
        for b in np.unique(block_of).tolist():
            local = positions[block_of == b] - self._starts[b]
            out += self._entries(self._block(b).take(pa.array(local)))
        return out


def _values(column) -> list:
    """A column of a block as a Python list; a dictionary-encoded one through
    its dictionary (each distinct value converted once: to_pylist converts
    every row)."""
    array = column.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        return array.to_pylist()
    values = array.dictionary.to_pylist() + [None]  # index -1: null
    return [values[i] for i in array.indices.fill_null(-1).to_numpy().tolist()]


def check_published(value: str) -> str | None:
    """Return a problem description for a bad ``published`` value, or None."""
    if not value:
        return None
    m = _DATE_RE.fullmatch(value)
    if not m:
        return (f"'{value}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD "
                "(e.g. 2021-09-14, or 2023-12 when only the month is known)")
    y, mo, d = (int(g) if g else None for g in m.groups())
    try:
        date(y, mo or 1, d or 1)
    except ValueError:
        return f"'{value}' is not a real calendar date; correct the month or day"
    return None


def check_metadata(meta: dict) -> list[tuple[str, str]]:
    """Problems in optional metadata, as (field, message) pairs."""
    problems = []
    msg = check_published(meta.get("published", ""))
    if msg:
        problems.append(("published", msg))
    basis = meta.get("date_basis", "")
    if basis and basis not in DATE_BASES:
        problems.append(("date_basis", f"'{basis}' is not one of {', '.join(DATE_BASES)}"))
    return problems


class Listing:
    """What a corpus folder holds: its regular files, and everything else
    (symbolic links, FIFOs, devices, sockets) with what it is (``special``, a
    dict). Both by '/'-separated paths relative to the folder. Symbolic links
    to folders are listed as such and never entered.

    The files' names are held as one Arrow array of their bytes (UTF-8, with
    undecodable bytes kept as ``os.fsdecode`` keeps them), in the order they
    were listed, and found through a sorted array of their hashes
    (``lookup.sorted_rows``): about 12 bytes a file besides the names, where
    a set of names took about 110."""

    # names taken in at a time while listing
    CHUNK = 8_192

    def __init__(self, files=(), special=None):
        names, hashes, chunk = [], [], []
        for rel in files:
            chunk.append(rel)
            if len(chunk) == self.CHUNK:
                self._take(chunk, names, hashes)
        self._take(chunk, names, hashes)
        self.special = special if special is not None else {}  # after files: a walk fills both
        self.names = pa.concat_arrays(names)
        hashes = np.concatenate(hashes)
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.order = order.astype(np.int32 if len(order) < 2**31 else np.int64)

    @staticmethod
    def _take(chunk: list, names: list, hashes: list) -> None:
        names.append(pa.array(_encoded(chunk), pa.large_binary()))
        hashes.append(np.fromiter(map(hash, chunk), np.int64, len(chunk)))
        chunk.clear()

    def __len__(self) -> int:
        return len(self.hashes)

    def find(self, files: list) -> np.ndarray:
        """Each file's position in ``names``, or -1 when the folder holds no
        such regular file."""
        wanted = pa.array(_encoded(files), pa.large_binary())
        rows = sorted_rows(self.hashes, np.fromiter(map(hash, files), np.int64, len(files)),
                           lambda rows, at: pc.equal(self.names.take(self.order[rows]),
                                                     wanted.take(at)).to_numpy(False))
        found = rows >= 0
        rows[found] = self.order[rows[found]]
        return rows

    def has_file(self, rel: str) -> bool:
        return self.find([rel])[0] >= 0

    def file_set(self) -> set:
        """The files' names as a set, for checking many one by one."""
        return {b.decode("utf-8", "surrogateescape") for b in self.names.to_pylist()}

    def digest(self) -> str:
        """SHA-256 of what the listing holds (names sorted, with the kinds of
        special ones): equal digests, equal listings."""
        h = hashlib.sha256()
        order = pc.sort_indices(self.names)
        for lo in range(0, len(order), self.CHUNK):
            h.update(b"\0" if lo else b"")
            h.update(b"\0".join(self.names.take(order[lo:lo + self.CHUNK]).to_pylist()))
        h.update(b"\2")
        h.update(b"\0".join(_encoded(sorted(f"{k}\1{v}" for k, v in self.special.items())))
                 + b"\2")
        return h.hexdigest()

    def special_kind(self, rel: str) -> str:
        """What makes ``rel`` unreadable: the kind of the path itself or of
        the first folder on its way that is a link ('' when none)."""
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            kind = self.special.get("/".join(parts[:i]))
            if kind:
                return kind if i == len(parts) else f"{kind} to a folder"
        return ""


def _encoded(names: list) -> list:
    return [n.encode("utf-8", "surrogateescape") for n in names]


def list_files(corpus_dir) -> Listing:
    """Every file under ``corpus_dir`` (one walk with os.scandir, whose entry
    types cost no extra system call; far cheaper than a stat per row)."""
    special = {}
    return Listing(_walk(corpus_dir, special), special)


def _walk(corpus_dir, special: dict):
    """The regular files' names under ``corpus_dir``; the rest goes into ``special``."""
    stack = [(os.fspath(corpus_dir), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as it:
            for e in it:
                rel = prefix + e.name
                if e.is_symlink():
                    special[rel] = "symbolic link"
                elif e.is_dir(follow_symlinks=False):
                    stack.append((e.path, rel + "/"))
                elif e.is_file(follow_symlinks=False):
                    yield rel
                else:
                    special[rel] = file_kind(e.stat(follow_symlinks=False).st_mode)


def read_manifest(corpus_dir, listing: Listing | None = None, remember=None) -> Manifest:
    """Read and check ``corpus_dir/manifest.csv``.

    Raises InputError listing every problem: a missing or unreadable manifest,
    missing or unknown columns, rows with the wrong number of fields, bad ids,
    paths, checksums or dates, duplicate ids or files, and rows whose file is
    missing. Checksums are compared later, when each file is read. A row
    whose file is a symbolic link, FIFO or device gets ``special`` set.
    ``listing`` is the folder's listing (list_files), when the caller has it.

    ``remember``: a file where the checked manifest is kept (see
    ``_Remembered``); it is read back instead of checking the rows again
    while the manifest's bytes, the folder's listing and this code are
    unchanged. Rows checked afresh are written there by ``Manifest.keep``,
    which the caller runs once its run has succeeded.
    """
    corpus_dir = Path(corpus_dir)
    path = corpus_dir / "manifest.csv"
    listing = list_files(corpus_dir) if listing is None else listing
    if not listing.has_file("manifest.csv"):
        kind = listing.special.get("manifest.csv")
        raise InputError(
            f"{path}: is a {kind}; the manifest must be a regular file in the corpus folder "
            "(copy the file itself there)." if kind else
            f"{path}: no manifest. A corpus folder needs manifest.csv with at least "
            "the columns doc_id,file (one row per article); `analysis add FILE "
            f"--corpus {corpus_dir}` creates it.")
    try:
        remembered = _Remembered(remember, path, listing) if remember else None
        if remembered and remembered.entries is not None:
            return remembered.entries
        source = open_regular(path)
    except NotRegular as e:
        raise InputError(f"{e}; the manifest must be a regular file.") from None
    # read as a stream, the rows checked as they are read: the whole text in a
    # StringIO took five times the file's size
    hashed = _Hashing(source)
    with io.TextIOWrapper(io.BufferedReader(hashed), encoding="utf-8-sig", newline="") as text:
        try:
            entries = _read_rows_checked(path, corpus_dir, listing, text)
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: not UTF-8 text ({e}); save the manifest as UTF-8 "
                             "CSV.") from None
    # the rows were read to the end of the file, so every byte was hashed
    entries.source_sha256 = hashed.hexdigest()
    entries._remembered = remembered
    return entries


class _Hashing(io.RawIOBase):
    """A binary file read through, hashing the bytes as they pass (SHA-256)."""

    def __init__(self, source):
        self.source, self.h = source, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.source.readinto(buffer)
        if n:
            self.h.update(memoryview(buffer)[:n])
        return n

    def close(self) -> None:
        self.source.close()
        super().close()

    def hexdigest(self) -> str:
        return self.h.hexdigest()


class _Remembered:
    """A checked manifest kept in an Arrow file, under a key: the SHA-256 of
    the manifest's bytes, the digest of the corpus folder's listing (which
    files exist, and which are links, FIFOs or devices), and this module's
    code. A manifest is a function of these, so when the key matches, the
    rows are read back from the file as they are asked for (opening it and
    making the key take 0.07 s at 100,000 rows, where checking the rows
    takes 0.8-0.9 s), and otherwise checked again. Only a manifest without
    problems is kept. The file holds a hint only: lost, stale or unreadable,
    it costs time, never a row. ``entries`` is the kept manifest, or None."""

    FORMAT = "1"

    def __init__(self, file, manifest: Path, listing: Listing):
        self.file = Path(file)
        h = hashlib.sha256()
        with open_regular(manifest) as f:
            while block := f.read(1 << 20):
                h.update(block)
        self.key = {"format": self.FORMAT, "manifest_sha256": h.hexdigest(),
                    "listing_sha256": listing.digest(),
                    "code_sha256": code_fingerprint("corpus.manifest"),
                    "python": f"{sys.version_info.major}.{sys.version_info.minor}"}
        try:
            self.entries = Manifest.written(self.file, self.key)
        except (OSError, ValueError, KeyError, pa.ArrowException):
            self.entries = None
        if self.entries is not None:
            self.entries.source_sha256 = self.key["manifest_sha256"]

    def save(self, entries: Manifest) -> None:
        """Keep ``entries`` when they were read from the bytes the key names
        and the file's folder exists (atomically; a failure is ignored)."""
        if entries.source_sha256 != self.key["manifest_sha256"] or \
                not self.file.parent.is_dir():
            return  # the manifest changed while it was read: not what the key names
        try:
            entries.write(self.file, self.key)
        except (OSError, pa.ArrowException):
            pass  # not kept: the next run checks the rows again


class _FirstRows:
    """The row each value of a manifest column was first accepted on, to
    name it when the value comes again: the values of the rows since the
    last block of the manifest in a dict, the earlier ones as sorted hashes
    with their rows (16 bytes a row; a dict of every value kept each value's
    text too: at 300,000 rows the read's peak was 243 MB, now 206). A value
    repeated from an earlier block is found when its block is closed; its
    problem is put where the row's check would have put it (``at``: the
    place in the problems list then; ``rank``: the column's place among the
    row's checks). What is held per row is ints, which the garbage collector
    does not visit."""

    def __init__(self, entries: "Manifest", path: str, column: str, rank: int, message):
        self.entries, self.path, self.column = entries, path, column
        self.rank, self.message = rank, message
        self.hashes = np.empty(0, np.int64)  # earlier blocks' values, sorted
        self.rows = np.empty(0, np.int64)  # and the row of each
        self.open = {}  # value: its place in the open block's lists
        self.open_rows, self.open_lines, self.open_ats = [], [], []
        self.repeats = []  # (value, line, at) of repeats in the open block
        self.found = []  # (at, line, rank, problem) to put into the problems list

    def check(self, value: str, row: int, line: int, at: int) -> None:
        """Hold ``value`` in the open block if it is new to it, else note the
        repeat, whose problem is made when the block closes (to name the
        first row of all)."""
        if value in self.open:
            self.repeats.append((value, line, at))
            return
        self.open[value] = len(self.open_rows)
        self.open_rows.append(row)
        self.open_lines.append(line)
        self.open_ats.append(at)

    def close(self) -> None:
        """Find the open block's values in the earlier blocks, make every
        repeat's problem, and keep the new values' hashes."""
        values = list(self.open)  # in the order of open_rows
        hashes = np.fromiter(map(hash, values), np.int64, len(values))
        # looked up in order: a sorted search runs through memory once
        order = np.argsort(hashes, kind="stable")
        lo = np.empty_like(order)
        hi = np.empty_like(order)
        lo[order] = np.searchsorted(self.hashes, hashes[order], "left")
        hi[order] = np.searchsorted(self.hashes, hashes[order], "right")
        first = {}  # value: the line of its row in an earlier block
        for i in np.flatnonzero(hi > lo).tolist():
            for row in self.rows[lo[i]:hi[i]].tolist():  # a hash is not the value: check
                entry = self.entries[row]
                if getattr(entry, self.column) == values[i]:
                    first[values[i]] = entry.line
                    self._found(self.open_lines[i], self.open_ats[i], values[i], entry.line)
        for value, line, at in self.repeats:
            self._found(line, at, value, first.get(value) or self.open_lines[self.open[value]])
        # the new values inserted into the sorted arrays: no sort of all of them
        if first:
            order = order[np.array([values[i] not in first for i in order.tolist()], bool)]
        at = hi[order]  # after any equal hash
        self.hashes = np.insert(self.hashes, at, hashes[order])
        self.rows = np.insert(self.rows, at, np.array(self.open_rows, np.int64)[order])
        self.open, self.repeats = {}, []
        self.open_rows, self.open_lines, self.open_ats = [], [], []

    def _found(self, line: int, at: int, value: str, first: int) -> None:
        self.found.append((at, line, self.rank,
                           self.message(_Where(self.path, line), value, first)))


def _with_found(problems: list, *trackers) -> list:
    """The problems with the trackers' problems put in their places."""
    found = sorted(item for t in trackers for item in t.found)
    if not found:
        return problems
    out, k = [], 0
    for i, problem in enumerate(problems):
        while k < len(found) and found[k][0] == i:
            out.append(found[k][3])
            k += 1
        out.append(problem)
    return out + [text for *_, text in found[k:]]


def _read_rows_checked(path: Path, corpus_dir: Path, listing: Listing, text) -> Manifest:
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise InputError(f"{path}, line 1: malformed CSV ({e}); check the quoting on that "
                         "line.") from None
    if header is None:
        raise InputError(f"{path}: empty; the first line must be the header, "
                         "e.g. doc_id,file,sha256")
    header = [h.strip() for h in header]
    problems = []
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        problems.append(
            f"{path}, line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
            f"allowed columns are {', '.join(COLUMNS)} (put other information in notes).")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(f"{path}, line 1: missing required column(s) {', '.join(missing)}; "
                        "the header must name at least doc_id and file.")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(f"{path}, line 1: column(s) {', '.join(dupes)} appear more than once; "
                        "keep one of each.")
    if problems:
        raise InputError(problems)

    where_is = {h: i for i, h in enumerate(header)}
    i_doc, i_file = where_is["doc_id"], where_is["file"]
    i_sha, i_enc = where_is.get("sha256"), where_is.get("encoding")
    # only the metadata a row fills is kept (readers ask with .get)
    i_meta = [(k, where_is[k]) for k in METADATA if k in where_is]
    keys, i_values = [k for k, _ in i_meta], [i for _, i in i_meta]
    dated = [j for j, k in enumerate(keys) if k in ("published", "date_basis")]
    entries = Manifest(keys)
    shown_path = str(path)
    seen_ids = _FirstRows(entries, shown_path, "doc_id", 0, lambda where, doc_id, first: (
        f"{where}, field 'doc_id': duplicate doc_id {doc_id!r} (first on line {first}); every "
        "article needs its own id."))
    seen_files = _FirstRows(entries, shown_path, "file", 1, lambda where, file, first: (
        f"{where}, field 'file': {file!r} is already listed on line {first}; list each "
        "file once."))
    n_fields, special, n_rows, block = len(header), listing.special, 0, Manifest.BLOCK
    files = listing.file_set()  # for this check only, and let go of with it
    line = reader.line_num + 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not "".join(row).strip():
                continue  # blank line
            where = _Where(shown_path, start)
            if len(row) != n_fields:
                problems.append(f"{where}: {len(row)} fields where the header has {n_fields}; "
                                "quote values that contain commas.")
                continue
            doc_id, file = row[i_doc].strip(), row[i_file].strip()
            if not DOC_ID_RE.fullmatch(doc_id):
                problems.append(f"{where}, field 'doc_id': {doc_id!r} is not a valid id; use "
                                "letters, digits, '_', '.' or '-', starting with a letter or "
                                "digit.")
            else:
                seen_ids.check(doc_id, n_rows, start, len(problems))
            if not file or file.startswith("/") or "\\" in file or ".." in file.split("/"):
                problems.append(f"{where}, field 'file': {file!r} must be a path inside the "
                                "corpus folder, relative and written with '/'.")
            # before the repeat check: a file listed twice is missing both times or neither
            elif file not in files and not listing.special_kind(file):
                problems.append(f"{where}, field 'file': {corpus_dir / file} does not exist; "
                                "restore the file, or remove this row if the article was "
                                "withdrawn.")
            else:
                seen_files.check(file, n_rows, start, len(problems))
            sha = row[i_sha].strip() if i_sha is not None else ""
            if sha and not _SHA_RE.fullmatch(sha):
                problems.append(f"{where}, field 'sha256': {sha!r} is not a SHA-256 (64 "
                                "lower-case hex digits); leave it empty or correct it.")
            meta = [row[i].strip() or None for i in i_values]
            if dated and any(meta[j] for j in dated):
                problems += [f"{where}, field '{f}': {m}." for f, m in check_metadata(
                    {k: v for k, v in zip(keys, meta) if v is not None})]
            entries.append(doc_id, file, start, sha,
                           row[i_enc].strip() if i_enc is not None else "", meta,
                           listing.special_kind(file) if file and special else "")
            n_rows += 1
            if not n_rows % block:  # a block sealed: its values are hashes now
                seen_ids.close()
                seen_files.close()
    except csv.Error as e:
        raise InputError(f"{path}, line {reader.line_num}: malformed CSV ({e}); "
                         "check the quoting on that line.") from None
    seen_ids.close()
    seen_files.close()
    problems = _with_found(problems, seen_ids, seen_files)
    if problems:
        raise InputError(problems)
    entries._seal()
    return entries


class _Where:
    """"file, line N" for a message, formatted only when a message is made."""

    __slots__ = ("path", "line")

    def __init__(self, path: str, line: int):
        self.path, self.line = path, line

    def __format__(self, spec) -> str:
        return f"{self.path}, line {self.line}"


# -- adding to a corpus ------------------------------------------------------------

@dataclass(frozen=True)
class Added:
    """An article added to a corpus: its id, where it now is, its checksum."""

    doc_id: str
    path: Path
    sha256: str


def add_article(src: Path, corpus: Path, doc_id: str | None, meta: dict) -> Added:
    """Copy ``src`` into the corpus folder (unless it is already there) and
    append its manifest row with its SHA-256 and metadata. Raises InputError
    listing every problem (bad metadata or id, an article already in the
    corpus, a name taken) before anything is written."""
    src, corpus = Path(src), Path(corpus)
    if not src.is_file():
        kind = file_kind(src.stat().st_mode) if src.exists() else ""
        raise InputError(f"{src}: is a {kind}, not a regular file; give the path of the article "
                         "file to add." if kind else
                         f"{src}: no such file; give the path of the article to add.")
    manifest = corpus / "manifest.csv"
    entries = read_manifest(corpus) if manifest.exists() else []
    sha = sha256_file(src)
    problems = [f"--{f.replace('_', '-')}: {m}." for f, m in check_metadata(meta)]
    for e in entries:
        if not e.special and (e.sha256 or sha256_file(corpus / e.file)) == sha:
            problems.append(f"{src}: the corpus already holds this article as {e.doc_id!r} "
                            f"({e.file}, manifest line {e.line}); nothing added.")
    doc_id = doc_id or f"{len(entries):03d}_{sha[:16]}"
    if not DOC_ID_RE.fullmatch(doc_id):
        problems.append(f"--doc-id: {doc_id!r} is not a valid id; use letters, digits, '_', "
                        "'.' or '-', starting with a letter or digit.")
    if any(e.doc_id == doc_id for e in entries):
        problems.append(f"--doc-id: {doc_id!r} is already in {manifest}; choose another id.")
    inside = src.resolve().parent == corpus.resolve()
    name = src.name if inside else f"{doc_id}{src.suffix.lower()}"
    dest = corpus / name
    if not inside and dest.exists():
        problems.append(f"{dest} already exists; choose another --doc-id.")
    if problems:
        raise InputError(problems)
    corpus.mkdir(parents=True, exist_ok=True)
    if not inside:
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dest)
    _append_row(manifest, {"doc_id": doc_id, "file": name, "sha256": sha, **meta})
    return Added(doc_id, dest, sha)


def record_checksums(corpus: Path) -> int:
    """Fill the sha256 of every manifest row that lacks one; returns how many
    were filled (existing values are left as they are; links, FIFOs and
    devices are not read)."""
    corpus = Path(corpus)
    entries = read_manifest(corpus)
    manifest = corpus / "manifest.csv"
    header, rows = _read_rows(manifest)
    if "sha256" not in header:
        header.append("sha256")
    filled = 0
    for e, r in zip(entries, rows):
        if not r.get("sha256") and not e.special:
            r["sha256"] = sha256_file(corpus / e.file)
            filled += 1
    if filled:
        _write_rows(manifest, header, rows)
    return filled


def _read_rows(manifest: Path):
    text = manifest.read_bytes().decode("utf-8-sig") if manifest.exists() else ""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip() for h in rows[0]] if rows else ["doc_id", "file", "sha256"]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    return header, [dict(zip(header, r)) for r in body]


def _write_rows(manifest: Path, header, rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    write_bytes_atomic(manifest, out.getvalue().encode("utf-8"))


def _append_row(manifest: Path, row: dict):
    """Append a row, widening the header with any column the row fills."""
    header, rows = _read_rows(manifest)
    header += [c for c in COLUMNS if row.get(c) and c not in header]
    _write_rows(manifest, header, rows + [row])
