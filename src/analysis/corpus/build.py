"""The corpus build: raw articles in, the processed tables out.

``build(corpus_dir, out_dir)`` reads and checks the manifest, reads every
article, cleans and segments it, and writes four Parquet tables plus
``build.json`` (what went in, what came out, with checksums). Articles are
processed in fixed-size chunks, in worker processes when there are many, and
appended as they come, so memory stays flat however large the corpus; a huge
article's rows are made and written in pieces, so memory stays within a few
times its size.

Outputs are written into a temporary folder and moved into place only when the
whole run succeeded; files whose bytes did not change are left untouched, and a
run whose inputs, rules, code and packages all match the last build's stamp
writes nothing at all.
"""

import gc
import hashlib
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import __version__
from ..core import paths
from ..core.errors import InputError
from ..core.fileio import sha256_bytes, sha256_files
from ..core.parallel import default_jobs, imap_ordered
from ..core.parquet import RowGroupWriter
from ..core.stages import (StageResult, code_fingerprint, package_versions, publish, read_stamp,
                           stage_current)
from ..core.text import normalize, slices
from ftfy.badness import badness

from . import layout
from .cleaning import Rules, classify, detect_profiles, line_keys, load_rules
from .language import detect as detect_language
from .manifest import list_files, read_manifest
from .readers import (DUPLICATE, DUPLICATE_ID, FORMATS, NO_ARTICLE, NO_BODY, Article,
                      Quarantined, read_entry, unlisted_files)
from .seen import DigestSet, Strings
from .segmenting import paragraphs, segment_pieces

CHUNK = 256  # manifest rows per unit of work; fixed, so outputs never depend on --jobs
STAMP = "build.json"
# the checked manifest, kept beside the tables for the next run (read_manifest's remember)
MANIFEST_KEPT = ".manifest.arrow"
_HASH_BLOCK = 8192  # manifest rows whose files are hashed together when nothing else changed

_str = pa.string()
DOCUMENTS = pa.schema([
    ("doc_id", _str), ("file", _str), ("record", pa.int64()), ("format", _str),
    ("encoding", _str), ("encoding_note", _str), ("sha256", _str), ("text_sha256", _str),
    ("outlet", _str), ("kind", _str), ("url", _str), ("published", _str),
    ("date_basis", _str), ("language", _str), ("language_basis", _str), ("notes", _str),
    ("profiles", _str),
    ("markup", pa.bool_()), ("mojibake", pa.int32()),
    ("title", _str), ("body", _str), ("n_lines", pa.int32()), ("n_body_lines", pa.int32()),
    ("n_paragraphs", pa.int32()), ("n_sentences", pa.int32()),
    ("n_comment_paragraphs", pa.int32()), ("n_chars", pa.int64()), ("n_body_chars", pa.int64()),
])
LINES = pa.schema([
    ("doc_id", _str), ("line_no", pa.int32()), ("role", _str), ("rule", _str),
    ("text", _str), ("start", pa.int64()), ("end", pa.int64()),
])
SEGMENTS = pa.schema([
    ("doc_id", _str), ("segment_id", _str), ("unit", _str), ("role", _str),
    ("parent_id", _str), ("text", _str), ("raw", _str), ("start", pa.int64()),
    ("end", pa.int64()),
])
QUARANTINE = pa.schema([
    ("doc_id", _str), ("file", _str), ("record", pa.int64()), ("reason", _str),
    ("detail", _str),
])
# Columns of running text get no min/max statistics in the Parquet files: no
# reader filters on them, and the writer held about four copies of a value
# to compute them (a 50 MB article's body: 235 MB).
_UNSTATED = frozenset({"body", "text", "raw"})
TABLES = {"documents": DOCUMENTS, "lines": LINES, "segments": SEGMENTS,
          "quarantine": QUARANTINE}
# Rows per Parquet row group of the tables the build writes as it goes, about
# 3-5 MB of text each (a documents row holds the whole body), held until
# written. Each row group's metadata stays in memory until its file is
# closed: a row group per table and chunk of 256 articles held about 13 MB
# by the end of 100,000 articles; these are about a quarter as many.
GROUP_ROWS = {"documents": 1024, "lines": 32_768, "segments": 16_384}
_PACKAGES = ("pyarrow", "pyyaml", "charset-normalizer", "orjson", "trafilatura", "lxml", "ftfy")


# What processing yields, in order: per manifest row an EntryDone, then per
# article it read a Started, its rows as Rows pieces (lines first, then
# segments) and a Finished. A huge article's rows come in pieces of about
# PIECE_CHARS characters, so it is never held as Python lists all at once.
PIECE_CHARS = 1 << 20


class EntryDone(NamedTuple):
    """A manifest row was read: its file, the file's SHA-256, the note on its
    decoding, what was set aside while reading it and problems that must stop
    the run."""

    file: str
    sha256: str
    encoding_note: str
    quarantined: list
    refusals: list


class Started(NamedTuple):
    """An article read from the last manifest row begins."""

    doc_id: str
    text_sha256: str
    file: str
    record: int | None
    chars: int


class Rows(NamedTuple):
    """Rows of one table, as Arrow. process_chunk adds ``owners``: the
    (article's place in the chunk, its number of rows) of each article they
    belong to, in order."""

    table: str
    rows: pa.Table
    owners: tuple = ()


class Finished(NamedTuple):
    """The article is done: its document row, or why it was set aside."""

    document: dict | None
    quarantined: Quarantined | None = None


def process_article(article: Article, rules: Rules, recurring=frozenset()):
    """Clean and segment one article, yielding Started, Rows... and Finished:
    a pure function of (article, rules, the corpus's recurring lines)."""
    text = article.text
    meta = article.meta
    text_sha = sha256_bytes(text.encode("utf-8"))
    yield Started(article.doc_id, text_sha, article.file, article.record, len(text))
    profiles = detect_profiles(rules, text, meta.get("outlet", ""))
    cleaned = classify(text, rules, profiles, article.keep, article.comments, article.title,
                       recurring, layout.site_key(meta), meta.get("url") or "",
                       meta.get("outlet") or "")
    lines, mode, markup, no_article = (cleaned.lines, cleaned.paragraphs, cleaned.markup,
                                       cleaned.no_article)
    del cleaned  # its list of lines is released with ``lines`` below
    counts = {"n_lines": len(lines), "n_body_lines": sum(ln.role == "body" for ln in lines),
              "n_paragraphs": 0, "n_sentences": 0, "n_comment_paragraphs": 0}
    title = next((normalize(text[ln.start:ln.end]) for ln in lines if ln.role == "title"), None)
    # Python lists of a huge article take many times its size: each piece
    # becomes Arrow column by column as soon as it is complete.
    for lo, hi in slices([ln.end - ln.start for ln in lines], PIECE_CHARS):
        yield Rows("lines", _line_table(article.doc_id, text, lines[lo:hi]))
    spans = paragraphs(lines, mode)
    del lines
    body_parts = []
    for cols in segment_pieces(text, spans, rules, markup, PIECE_CHARS):
        units, roles = cols["unit"], cols["role"]
        paras = [t for u, r, t in zip(units, roles, cols["text"])
                 if u == "paragraph" and r == "body"]
        if paras:
            body_parts.append("\n\n".join(paras))
        counts["n_paragraphs"] += len(paras)
        counts["n_sentences"] += sum(u == "sentence" and r == "body"
                                     for u, r in zip(units, roles))
        counts["n_comment_paragraphs"] += sum(u == "paragraph" and r == "comment"
                                              for u, r in zip(units, roles))
        n = len(units)
        del paras, units, roles
        yield Rows("segments", _columns_to_table(SEGMENTS, {
            "doc_id": lambda: [article.doc_id] * n,
            **{name: (lambda name=name: cols.pop(name)) for name in SEGMENTS.names[1:]}}))
        del cols
    del spans
    body = "\n\n".join(body_parts) if body_parts else None
    del body_parts
    where = f"{article.file}{'' if article.record is None else f', line {article.record}'}"
    if no_article:
        yield Finished(None, Quarantined(article.doc_id, article.file, NO_ARTICLE, (
            f"{where}: not an article: {no_article}; set aside, not coded (its lines "
            "are in the lines table). If it is an article, give its own address in the "
            "manifest's url column, or add a cleaning profile for its outlet."), article.record))
        return
    if body is None:
        yield Finished(None, Quarantined(article.doc_id, article.file, NO_BODY, (
            f"{where}: cleaning marked no line as body (see its rows in the lines table); if "
            "it is an article, add a cleaning profile for its outlet."), article.record))
        return
    yield Finished({
        "doc_id": article.doc_id, "file": article.file, "record": article.record,
        "format": article.format, "encoding": article.encoding,
        "encoding_note": article.encoding_note, "sha256": article.sha256,
        "text_sha256": text_sha,
        **{k: (meta.get(k) or None) for k in ("outlet", "kind", "url", "published",
                                               "date_basis", "notes")},
        # the manifest's language, else the body's, as read by its script and words
        "language": meta.get("language") or detect_language(body),
        "language_basis": "manifest" if meta.get("language") else "detected",
        "profiles": ",".join(profiles) or None,
        # ftfy's count of character sequences that look like text decoded
        # with the wrong encoding ("courtâ€™s"); offsets stay in the raw text
        "markup": markup, "mojibake": mojibake(text),
        "title": title, "body": body,
        **counts,
        "n_chars": len(text),
        "n_body_chars": len(body),
    })


def _line_table(doc_id: str, text: str, lines: list) -> pa.Table:
    return _columns_to_table(LINES, {
        "doc_id": lambda: [doc_id] * len(lines),
        "line_no": lambda: [ln.line_no for ln in lines],
        "role": lambda: [ln.role for ln in lines],
        "rule": lambda: [ln.rule for ln in lines],
        "text": lambda: [text[ln.start:ln.end] for ln in lines],
        "start": lambda: [ln.start for ln in lines],
        "end": lambda: [ln.end for ln in lines],
    })


# UTF-8 read as a Latin code page leaves a lead byte's character (U+00C2-U+00EF)
# before a continuation byte's (U+0080-U+00BF, or what cp1252 puts there).
# Text without such a pair has nothing for ftfy to count, and the check runs
# at C speed where ftfy's heuristic runs at about 1.5 MB/s here.
_MOJIBAKE_PAIR = re.compile("[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161"
                            "\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e"
                            "\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")


def mojibake(text: str) -> int:
    """ftfy's count of sequences that look like UTF-8 decoded with a Latin
    code page ("courtâ€™s"); 0 without a telltale pair."""
    return badness(text) if _MOJIBAKE_PAIR.search(text) else 0


def _columns_to_table(schema: pa.Schema, makers: dict) -> pa.Table:
    """A table of ``schema`` whose columns are made one at a time by
    ``makers`` (name -> function returning the column's values as a list), so
    only one column is ever held as Python objects."""
    arrays = []
    for field in schema:
        values = makers[field.name]()
        arrays.append(pa.array(values, field.type))
        del values
    return pa.Table.from_arrays(arrays, schema=schema)


FLUSH_BYTES = 16 << 20  # Arrow bytes of one table held before they are handed on


class _Buffer:
    """One table's rows from the articles of a chunk, handed on as one table
    (one Parquet write) at the end of the chunk, or as soon as they pass
    FLUSH_BYTES: normal chunks make one row group per table as before, and a
    huge article is written while it is processed."""

    def __init__(self, name: str, schema: pa.Schema):
        self.name, self.schema = name, schema
        self.pieces, self.owners, self.nbytes = [], [], 0

    def add(self, seq: int, table: pa.Table):
        self.pieces.append(table)
        self.owners.append((seq, table.num_rows))
        self.nbytes += table.get_total_buffer_size()  # nbytes takes 25 times longer
        return self.take() if self.nbytes >= FLUSH_BYTES else None

    def take(self):
        if not self.pieces:
            return None
        rows = Rows(self.name, _concat(self.pieces, self.schema), tuple(self.owners))
        self.pieces, self.owners, self.nbytes = [], [], 0
        return rows


def process_chunk(entries, corpus_dir, rules, recurring=frozenset()):
    """Read and process a chunk of manifest rows, yielding EntryDone, then
    per article Started and Finished, and the rows of the chunk's articles
    as Rows whose ``owners`` say which article (its place in the chunk) has
    how many of them."""
    buffers = {name: _Buffer(name, TABLES[name]) for name in ("lines", "segments")}
    docs, owners, seq = [], [], 0
    for entry in entries:
        got = read_entry(entry, corpus_dir)
        yield EntryDone(entry.file, got.sha256, got.encoding_note, got.quarantined, got.refusals)
        articles = got.articles[::-1]
        del got
        while articles:  # each article is let go of as soon as it is processed
            yield from _article_events(articles.pop(), seq, rules, recurring, buffers, docs,
                                       owners)
            seq += 1
    for buffer in buffers.values():
        rest = buffer.take()
        if rest is not None:
            yield rest
    table = _table(_rows_to_cols(docs, DOCUMENTS), DOCUMENTS)
    del docs
    yield Rows("documents", table, tuple(owners))


def _article_events(article, seq, rules, recurring, buffers, docs, owners):
    for event in process_article(article, rules, recurring):
        if type(event) is Rows:
            full = buffers[event.table].add(seq, event.rows)
            if full is not None:
                yield full
            continue
        if type(event) is Finished and event.document is not None:
            docs.append(event.document)
            owners.append((seq, 1))
        yield event


def chunk_events(entries, corpus_dir, rules, recurring=frozenset()) -> list:
    """process_chunk's events as a list (what a worker process returns)."""
    with _gc_paused():
        return list(process_chunk(entries, corpus_dir, rules, recurring))


@contextmanager
def _gc_paused():
    """The objects made while processing hold no reference cycles; pausing
    the cyclic garbage collector saves about a fifth of the run time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ---- recurring lines: a first pass over the corpus --------------------------

_COLLECTIONS = frozenset(f for f in FORMATS.values() if f in ("jsonl", "csv"))
_MERGE_AT = 1 << 18  # keys held before they are merged into counts


def line_key_chunk(entries, corpus_dir, rules) -> tuple:
    """(digests, lengths, keys) of the articles with short lines in a chunk
    of manifest rows: their texts' 16-byte digests end to end, how many keys
    of distinct short lines each has, and those keys in one array, article
    after article (runs in a worker process)."""
    digests, lengths, keys = [], [], []
    for entry in entries:
        for a in read_entry(entry, corpus_dir).articles:
            k = line_keys(a.text, rules, layout.site_key(a.meta))
            if k:
                digests.append(hashlib.blake2b(a.text.encode("utf-8"), digest_size=16).digest())
                lengths.append(len(k))
                keys.append(np.fromiter(k, np.uint64, len(k)))
    return (b"".join(digests), np.array(lengths, np.int64),
            np.concatenate(keys) if keys else np.empty(0, np.uint64))


def recurring_lines(entries, corpus_dir, rules, jobs) -> frozenset:
    """Keys of the short lines found in at least ``min_documents`` distinct
    articles of one site, over the whole corpus (an exact duplicate text
    counts once). Skipped, as it can find nothing, when no site has that many
    manifest rows and no row is a collection of records. What it holds grows
    with the distinct lines (16 bytes each) and texts (24 bytes), not with
    every article's keys."""
    need = rules.recurrence_min_documents
    per_site = {}
    for outlet, url in entries.rows("outlet", "url"):
        key = layout.site_key({"outlet": outlet, "url": url})
        per_site[key] = per_site.get(key, 0) + 1
    # positions, not Entries (an Entry each would be held)
    todo = np.fromiter((n for n, (file, outlet, url) in enumerate(
        entries.rows("file", "outlet", "url"))
        if FORMATS.get(Path(file).suffix.lower()) in _COLLECTIONS
        or (site := layout.site_key({"outlet": outlet, "url": url}))
        and per_site[site] >= need), np.int64)
    if not len(todo):
        return frozenset()
    keys, counts = np.empty(0, np.uint64), np.empty(0, np.int64)
    pending, held, seen = [], 0, DigestSet()

    def merge():
        # the held keys counted, then added into the sorted distinct keys
        nonlocal keys, counts, pending, held
        new, n = np.unique(np.concatenate(pending), return_counts=True)
        pending, held = [], 0
        at = np.searchsorted(keys, new)
        known = at < len(keys)
        known[known] = keys[at[known]] == new[known]
        counts[at[known]] += n[known]
        keys = np.insert(keys, at[~known], new[~known])
        counts = np.insert(counts, at[~known], n[~known])

    chunks = (entries.take(todo[i:i + CHUNK]) for i in range(0, len(todo), CHUNK))
    for digests, lengths, k in imap_ordered(line_key_chunk, chunks, (jobs or default_jobs())
                                            if len(todo) > CHUNK else 1, corpus_dir, rules):
        new = np.ones(len(lengths), bool)
        for i in range(len(lengths)):
            digest = digests[16 * i:16 * i + 16]
            if seen.get(digest) is None:
                seen.add(digest)
            else:
                new[i] = False
        pending.append(k if new.all() else k[np.repeat(new, lengths)])
        held += len(pending[-1])
        if held >= _MERGE_AT:
            merge()
    if pending:
        merge()
    return frozenset(keys[counts >= need].tolist())


class _InputsDigest:
    """One SHA-256 over the manifest's own SHA-256 (of its bytes as they were
    read), each listed file's checksum (or what it is, when not a regular
    file), and the names of unlisted files and why they are set aside (they
    change the quarantine table); fed row by row, so that no list of
    checksums is held."""

    def __init__(self, entries):
        self.h = hashlib.sha256(f"manifest\0{entries.source_sha256}".encode())

    def add(self, file: str, special: str, sha: str):
        self.h.update(f"\0{file}\0{sha or special}".encode())

    def hexdigest(self, unlisted) -> str:
        for q in unlisted:
            self.h.update(f"\0{q.reason}\0{q.file}".encode())
        return self.h.hexdigest()


def _hashed_inputs(corpus_dir, entries, unlisted) -> str:
    """The inputs' digest, hashing every listed regular file ('' for links,
    FIFOs, devices, which are never read), from the checksum cache for
    unchanged files in a run that keeps one. A plain loop: for many small
    files it was nine times faster here than a thread pool (1.3 s for 100,000
    files)."""
    digest = _InputsDigest(entries)
    rows = entries.rows("file", "special")
    # in blocks of rows, so that what is held stays one block's names and checksums
    while block := list(islice(rows, _HASH_BLOCK)):
        shas = iter(sha256_files(corpus_dir, [f for f, special in block if not special]))
        for file, special in block:
            digest.add(file, special, "" if special else next(shas))
    return digest.hexdigest(unlisted)


def build(corpus_dir=None, out_dir=None, rules_path=None, jobs=None, force=False,
          progress=None, allow_empty=False) -> StageResult:
    """Run read -> check -> clean -> segment on a corpus folder.

    Raises InputError (before anything is written) for a bad manifest, a
    missing file, a checksum mismatch or bad cleaning rules, and when a corpus
    with no usable document would replace outputs that have some (unless
    ``allow_empty``). ``progress`` is called with (articles_done,
    articles_total) after each chunk.
    """
    corpus_dir = Path(corpus_dir or paths.RAW)
    out_dir = Path(out_dir or paths.PROCESSED)
    listing = list_files(corpus_dir)
    entries = read_manifest(corpus_dir, listing, remember=out_dir / MANIFEST_KEPT)
    rules = load_rules(rules_path or paths.CLEANING_RULES, corpus_dir / paths.CORPUS_RULES_NAME)
    unlisted = unlisted_files(entries, listing)
    del listing  # every file's name: not needed from here on
    key = {
        "analysis": __version__,
        "code_sha256": code_fingerprint("corpus.build"),
        "rules_version": rules.version,
        "rules_sha256": rules.fingerprint,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "packages": package_versions(_PACKAGES),
    }
    warnings = []
    unrecorded = sum(1 for (sha,) in entries.rows("sha256") if not sha)
    if unrecorded:
        warnings.append(f"{unrecorded} manifest row(s) have no sha256, so edits to those files "
                        f"cannot be detected; record them with `analysis checksums --corpus "
                        f"{corpus_dir}`.")
    stamp = None if force else read_stamp(out_dir, STAMP)
    # Hash the inputs up front only when everything else already matches; a
    # real build gets the same checksums from the workers that read the files.
    if stamp and {k: v for k, v in stamp.get("key", {}).items() if k != "inputs_sha256"} == key:
        if stage_current(out_dir, STAMP, {**key, "inputs_sha256": _hashed_inputs(
                corpus_dir, entries, unlisted)}):
            entries.keep()
            return StageResult(out_dir, True,
                               warnings=warnings + _encoding_warning(stamp.get("counts", {}))
                               + _mojibake_warning(stamp.get("counts", {})))

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
    try:
        entries.spill(tmp / "manifest.arrow")  # read from there, a block at a time
        digest = _InputsDigest(entries)
        counts = _run(entries, corpus_dir, rules, unlisted, tmp, jobs, progress, digest)
        before = (read_stamp(out_dir, STAMP) or {}).get("counts", {}).get("documents", 0)
        if not counts["documents"] and before and not allow_empty:
            c = counts["summary"]
            raise InputError(
                f"{corpus_dir}: no usable document ({c['manifest_rows']} manifest row(s), "
                f"{c['quarantined']} set aside), but {out_dir} holds {before} document(s) from "
                "the last build; nothing was replaced. Check the corpus folder and its "
                "manifest, or pass --allow-empty to replace them with empty tables.")
        key["inputs_sha256"] = digest.hexdigest(unlisted)
        written, unchanged = publish(tmp, out_dir, {f"{n}.parquet": counts[n] for n in TABLES},
                                     key, STAMP, {"counts": counts["summary"]})
        entries.keep()
        return StageResult(out_dir, False, written, unchanged, counts["summary"],
                           warnings + _encoding_warning(counts["summary"])
                           + _mojibake_warning(counts["summary"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _encoding_warning(summary: dict) -> list:
    n = summary.get("encoding_notes", 0)
    if not n:
        return []
    return [f"{n} file(s) were decoded without certainty (encoding detected, not declared, or "
            "invalid bytes replaced); each document's encoding_note says how. For example: "
            + " | ".join(summary.get("encoding_note_examples", []))]


def _mojibake_warning(summary: dict) -> list:
    n = summary.get("mojibake_documents", 0)
    if not n:
        return []
    return [f"{n} document(s) look like text decoded with the wrong encoding (mojibake such as "
            "'courtâ€™s'; the documents table's mojibake column counts the suspect sequences), "
            "e.g. " + ", ".join(summary.get("mojibake_examples", [])) + ". Their words will not "
            "match the codebook: declare the file's real encoding in the manifest's encoding "
            "column, or repair the text at its source (ftfy.fix_text) and add it again."]


def _chunks(entries):
    """The manifest rows in chunks of CHUNK, each made as it is taken."""
    for i in range(0, len(entries), CHUNK):
        yield entries[i:i + CHUNK]


def _results(entries, corpus_dir, rules, jobs, recurring):
    """(rows in chunk, its events) in manifest order: a chunk's events come
    as they are made in this process, or as a list from a worker process
    when the corpus has more than one chunk."""
    jobs = (jobs or default_jobs()) if len(entries) > CHUNK else 1
    fn = process_chunk if jobs == 1 else chunk_events
    sizes = (min(CHUNK, len(entries) - i) for i in range(0, len(entries), CHUNK))
    yield from zip(sizes, imap_ordered(fn, _chunks(entries), jobs, corpus_dir, rules,
                                       recurring))


def _run(entries, corpus_dir, rules, unlisted, tmp, jobs, progress, digest):
    """Write the tables into ``tmp``; their row counts and the summary. Each
    file's checksum goes into ``digest`` as it is read."""
    writers = {name: pq.ParquetWriter(tmp / f"{name}.parquet", schema, compression="zstd",
                                      write_statistics=[f for f in schema.names
                                                        if f not in _UNSTATED])
               for name, schema in TABLES.items()}
    groups = {name: RowGroupWriter(writers[name], n) for name, n in GROUP_ROWS.items()}
    rows = dict.fromkeys(TABLES, 0)
    quarantine, refusals, roles, notes, garbled = [], [], {}, [], []
    listed = entries.rows("file", "special")
    n_markup = n_garbled = 0
    seen = _FirstSeen()
    done = chars = n_notes = 0
    recurring = recurring_lines(entries, corpus_dir, rules, jobs)
    try:
        with _gc_paused():
            for n, events in _results(entries, corpus_dir, rules, jobs, recurring):
                keep, dupes, others = [], [], []  # per article of the chunk; set aside
                for ev in events:
                    kind = type(ev)
                    if kind is EntryDone:
                        digest.add(*next(listed), ev.sha256)
                        if ev.encoding_note:
                            n_notes += 1
                            if len(notes) < 3:
                                notes.append(f"{ev.file}: {ev.encoding_note}")
                        others += ev.quarantined
                        refusals += ev.refusals
                    elif kind is Started:
                        chars += ev.chars
                        keep.append(seen.check(ev, dupes))
                    elif kind is Finished:
                        if keep[-1] and ev.quarantined is not None:
                            others.append(ev.quarantined)
                    elif not refusals:  # Rows; after a refusal, keep reading only
                        t = ev.rows
                        if not all(keep[i] for i, _ in ev.owners):
                            # by position: a repeated id must not take the first along
                            t = t.filter(pa.array(np.repeat([keep[i] for i, _ in ev.owners],
                                                            [k for _, k in ev.owners]),
                                                  pa.bool_()))
                        groups[ev.table].add(t)
                        rows[ev.table] += t.num_rows
                        if ev.table == "lines":
                            for item in pc.value_counts(t["role"]).to_pylist():
                                roles[item["values"]] = (roles.get(item["values"], 0)
                                                         + item["counts"])
                        elif ev.table == "documents" and t.num_rows:
                            n_markup += pc.sum(t["markup"].cast(pa.int64())).as_py() or 0
                            bad = t.filter(pc.greater(t["mojibake"], 0))
                            n_garbled += bad.num_rows
                            garbled += bad["doc_id"].to_pylist()[:3 - len(garbled)]
                        del t
                del events
                quarantine += dupes + others
                done += n
                if progress:
                    progress(done, len(entries))
        if refusals:
            raise InputError(refusals)
        for g in groups.values():
            g.end()
        quarantine += unlisted
        q = _table(_rows_to_cols([vars(q) for q in quarantine], QUARANTINE), QUARANTINE)
        if q.num_rows:
            writers["quarantine"].write_table(q)
        rows["quarantine"] = q.num_rows
    finally:
        for w in writers.values():
            w.close()
    reasons = {}
    for q in quarantine:
        reasons[q.reason] = reasons.get(q.reason, 0) + 1
    rows["summary"] = {
        "manifest_rows": len(entries), "documents": rows["documents"],
        "quarantined": len(quarantine), "quarantine_reasons": dict(sorted(reasons.items())),
        "line_roles": dict(sorted(roles.items())), "chars_read": chars,
        "lines": rows["lines"], "segments": rows["segments"],
        "encoding_notes": n_notes, "encoding_note_examples": notes,
        "recurring_lines": len(recurring), "markup_documents": n_markup,
        "mojibake_documents": n_garbled, "mojibake_examples": garbled,
    }
    return rows


class _FirstSeen:
    """The doc ids and texts of the articles kept so far, to set aside a
    repeated id or an exact duplicate text (naming the article it repeats);
    about 70 bytes an article (see seen.py)."""

    def __init__(self):
        self.ids, self.texts, self.names = DigestSet(), DigestSet(), Strings()

    def check(self, article: Started, dupes: list) -> bool:
        """Whether an article is new to the corpus; a repeated id or an exact
        duplicate text is set aside in ``dupes`` instead."""
        doc_id = hashlib.blake2b(article.doc_id.encode("utf-8"), digest_size=16).digest()
        if self.ids.get(doc_id) is not None:
            dupes.append(Quarantined(article.doc_id, article.file, DUPLICATE_ID, (
                f"doc_id {article.doc_id!r} is already used by an earlier article; collection "
                "record ids must not repeat manifest ids."), article.record))
            return False
        text = bytes.fromhex(article.text_sha256)
        first = self.texts.get(text)
        if first is not None:
            dupes.append(Quarantined(article.doc_id, article.file, DUPLICATE, (
                f"exact duplicate of {self.names[first]!r} (same text); kept the "
                "first, set this one aside. Remove its manifest row if it was added twice."),
                article.record))
            return False
        self.texts.add(text, self.names.append(article.doc_id))
        self.ids.add(doc_id)
        return True


def _rows_to_cols(rows, schema):
    return {name: [r.get(name) for r in rows] for name in schema.names}


def _concat(tables, schema):
    """One table of the articles' tables, each column in one piece (as one
    table built from all the rows was, so the Parquet bytes are the same)."""
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables).combine_chunks() if tables else schema.empty_table()


def _table(cols, schema):
    return pa.Table.from_pydict(cols, schema=schema)
