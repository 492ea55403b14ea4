"""The corpus build: raw articles in, the processed tables out.

``build(corpus_dir, out_dir)`` reads and checks the manifest, reads every
article, cleans and segments it, and writes four Parquet tables plus
``build.json`` (what went in, what came out, with checksums). Articles are
processed in fixed-size chunks, in worker processes when there are many, and
appended as they come, so memory stays flat however large the corpus.

Outputs are written into a temporary folder and moved into place only when the
whole run succeeded; files whose bytes did not change are left untouched, and a
run whose inputs, rules, code and packages all match the last build's stamp
writes nothing at all.
"""

import gc
import hashlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import __version__
from ..core import paths
from ..core.errors import InputError
from ..core.fileio import read_regular, sha256_bytes, sha256_file
from ..core.parallel import default_jobs, imap_ordered
from ..core.stages import (StageResult, code_fingerprint, package_versions, publish, read_stamp,
                           stage_current)
from ..core.text import normalize
from ftfy.badness import badness

from . import layout
from .cleaning import Rules, classify, detect_profiles, line_keys, load_rules
from .manifest import list_files, read_manifest
from .readers import (DUPLICATE, DUPLICATE_ID, FORMATS, NO_ARTICLE, NO_BODY, Article,
                      Quarantined, read_entry, unlisted_files)
from .segmenting import segment

CHUNK = 256  # manifest rows per unit of work; fixed, so outputs never depend on --jobs
STAMP = "build.json"

_str = pa.string()
DOCUMENTS = pa.schema([
    ("doc_id", _str), ("file", _str), ("record", pa.int64()), ("format", _str),
    ("encoding", _str), ("encoding_note", _str), ("sha256", _str), ("text_sha256", _str),
    ("outlet", _str), ("kind", _str), ("url", _str), ("published", _str),
    ("date_basis", _str), ("language", _str), ("notes", _str), ("profiles", _str),
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
TABLES = {"documents": DOCUMENTS, "lines": LINES, "segments": SEGMENTS,
          "quarantine": QUARANTINE}
_PACKAGES = ("pyarrow", "pyyaml", "charset-normalizer", "orjson", "trafilatura", "lxml", "ftfy")


@dataclass
class Processed:
    """One article after cleaning: its rows for each table (the lines and
    segments as Arrow tables, its document row as a dict)."""

    doc_id: str
    text_sha256: str
    document: dict | None
    lines: pa.Table
    segments: pa.Table
    quarantined: Quarantined | None = None


def process_article(article: Article, rules: Rules, recurring=frozenset()) -> Processed:
    """Clean and segment one article: a pure function of (article, rules, the
    corpus's recurring lines)."""
    text = article.text
    meta = article.meta
    profiles = detect_profiles(rules, text, meta.get("outlet", ""))
    cleaned = classify(text, rules, profiles, article.keep, article.comments, article.title,
                       recurring, layout.site_key(meta), meta.get("url") or "",
                       meta.get("outlet") or "")
    lines, markup, no_article = cleaned.lines, cleaned.markup, cleaned.no_article
    seg_cols = segment(text, lines, cleaned.paragraphs, rules, markup)
    del cleaned  # its list of lines is released below, once the lines table is made
    n = len(lines)
    text_sha = sha256_bytes(text.encode("utf-8"))
    units, roles = seg_cols["unit"], seg_cols["role"]
    body_paras = [t for u, r, t in zip(units, roles, seg_cols["text"])
                  if u == "paragraph" and r == "body"]
    n_segments = len(units)
    counts = {
        "n_lines": n,
        "n_body_lines": sum(ln.role == "body" for ln in lines),
        "n_paragraphs": len(body_paras),
        "n_sentences": sum(u == "sentence" and r == "body" for u, r in zip(units, roles)),
        "n_comment_paragraphs": sum(u == "paragraph" and r == "comment"
                                    for u, r in zip(units, roles)),
    }
    title = next((normalize(text[ln.start:ln.end]) for ln in lines if ln.role == "title"), None)
    body = "\n\n".join(body_paras) if body_paras else None
    del body_paras, units, roles
    # Python lists of a huge article take many times its size: each column
    # becomes Arrow as soon as it is complete, and its list is dropped.
    line_table = _columns_to_table(LINES, {
        "doc_id": lambda: [article.doc_id] * n,
        "line_no": lambda: [ln.line_no for ln in lines],
        "role": lambda: [ln.role for ln in lines],
        "rule": lambda: [ln.rule for ln in lines],
        "text": lambda: [text[ln.start:ln.end] for ln in lines],
        "start": lambda: [ln.start for ln in lines],
        "end": lambda: [ln.end for ln in lines],
    })
    del lines
    seg_table = _columns_to_table(SEGMENTS, {
        "doc_id": lambda: [article.doc_id] * n_segments,
        **{name: (lambda name=name: seg_cols.pop(name)) for name in SEGMENTS.names[1:]}})
    del seg_cols
    where = f"{article.file}{'' if article.record is None else f', line {article.record}'}"
    q = None
    if no_article:
        q = Quarantined(article.doc_id, article.file, NO_ARTICLE, (
            f"{where}: not an article: {no_article}; set aside, not coded (its lines "
            "are in the lines table). If it is an article, give its own address in the "
            "manifest's url column, or add a cleaning profile for its outlet."), article.record)
    elif body is None:
        q = Quarantined(article.doc_id, article.file, NO_BODY, (
            f"{where}: cleaning marked no line as body (see its rows in the lines table); if "
            "it is an article, add a cleaning profile for its outlet."), article.record)
    if q is not None:
        return Processed(article.doc_id, text_sha, None, line_table, seg_table, q)
    doc = {
        "doc_id": article.doc_id, "file": article.file, "record": article.record,
        "format": article.format, "encoding": article.encoding,
        "encoding_note": article.encoding_note, "sha256": article.sha256,
        "text_sha256": text_sha,
        **{k: (meta.get(k) or None) for k in ("outlet", "kind", "url", "published",
                                               "date_basis", "language", "notes")},
        "profiles": ",".join(profiles) or None,
        # ftfy's count of character sequences that look like text decoded
        # with the wrong encoding ("courtâ€™s"); offsets stay in the raw text
        "markup": markup, "mojibake": mojibake(text),
        "title": title, "body": body,
        **counts,
        "n_chars": len(text),
        "n_body_chars": len(body),
    }
    return Processed(article.doc_id, text_sha, doc, line_table, seg_table)


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


class ArticleRows(NamedTuple):
    """One article read in a chunk, and how many rows it has in each table
    (a document row only when cleaning found a body)."""

    doc_id: str
    text_sha256: str
    file: str
    record: int | None
    rows: dict  # {"documents": 0 or 1, "lines": n, "segments": n}


@dataclass
class Chunk:
    """What a worker returns for a chunk of manifest rows.

    ``articles`` has one ArticleRows per article read, in order; ``tables``
    holds their rows; ``shas`` has the SHA-256 of each manifest row's file,
    in order."""

    articles: list
    shas: list
    tables: dict
    quarantined: list
    refusals: list
    chars: int
    encoding_notes: list  # "file: note" for each file decoded with a note


def process_chunk(entries, corpus_dir, rules, recurring=frozenset()) -> Chunk:
    """Read and process a chunk of manifest rows (runs in a worker process)."""
    # The objects made here hold no reference cycles; pausing the cyclic
    # garbage collector saves about a fifth of the run time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        read, shas, docs, lines, segs, quarantined, refusals = [], [], [], [], [], [], []
        notes, chars = [], 0
        for entry in entries:
            got = read_entry(entry, corpus_dir)
            shas.append(got.sha256)
            if got.encoding_note:
                notes.append(f"{entry.file}: {got.encoding_note}")
            quarantined += got.quarantined
            refusals += got.refusals
            for a in got.articles:
                chars += len(a.text)
                p = process_article(a, rules, recurring)
                read.append(ArticleRows(p.doc_id, p.text_sha256, a.file, a.record, {
                    "documents": int(p.quarantined is None), "lines": p.lines.num_rows,
                    "segments": p.segments.num_rows}))
                if p.quarantined is not None:
                    quarantined.append(p.quarantined)
                else:
                    docs.append(p.document)
                lines.append(p.lines)
                segs.append(p.segments)
        tables = {"documents": _table(_rows_to_cols(docs, DOCUMENTS), DOCUMENTS),
                  "lines": _concat(lines, LINES), "segments": _concat(segs, SEGMENTS)}
        return Chunk(read, shas, tables, quarantined, refusals, chars, notes)
    finally:
        if was_enabled:
            gc.enable()


# ---- recurring lines: a first pass over the corpus --------------------------

_COLLECTIONS = frozenset(f for f in FORMATS.values() if f in ("jsonl", "csv"))
_MERGE_AT = 1 << 22  # keys held before they are merged into counts


def line_key_chunk(entries, corpus_dir, rules) -> list:
    """(digest of the text, keys of its distinct short lines) of each article
    in a chunk of manifest rows (runs in a worker process)."""
    out = []
    for entry in entries:
        for a in read_entry(entry, corpus_dir).articles:
            keys = line_keys(a.text, rules, layout.site_key(a.meta))
            if keys:
                digest = hashlib.blake2b(a.text.encode("utf-8"), digest_size=16).digest()
                out.append((digest, np.fromiter(keys, np.uint64, len(keys))))
    return out


def recurring_lines(entries, corpus_dir, rules, jobs) -> frozenset:
    """Keys of the short lines found in at least ``min_documents`` distinct
    articles of one site, over the whole corpus (an exact duplicate text
    counts once). Skipped, as it can find nothing, when no site has that many
    manifest rows and no row is a collection of records."""
    need = rules.recurrence_min_documents
    per_site = {}
    for e in entries:
        key = layout.site_key(e.meta)
        per_site[key] = per_site.get(key, 0) + 1
    todo = [e for e in entries
            if FORMATS.get(Path(e.file).suffix.lower()) in _COLLECTIONS
            or (layout.site_key(e.meta) and per_site[layout.site_key(e.meta)] >= need)]
    if not todo:
        return frozenset()
    keys, counts = np.empty(0, np.uint64), np.empty(0, np.int64)
    pending, held, seen = [], 0, set()

    def merge():
        nonlocal keys, counts, pending, held
        allkeys = np.concatenate([keys] + pending)
        weights = np.concatenate([counts] + [np.ones(len(p), np.int64) for p in pending])
        keys, inverse = np.unique(allkeys, return_inverse=True)
        counts = np.bincount(inverse, weights=weights, minlength=len(keys)).astype(np.int64)
        pending, held = [], 0

    chunks = list(_chunks(todo))
    for result in imap_ordered(line_key_chunk, chunks, (jobs or default_jobs())
                               if len(chunks) > 1 else 1, corpus_dir, rules):
        for digest, k in result:
            if digest in seen:
                continue
            seen.add(digest)
            pending.append(k)
            held += len(k)
        if held >= _MERGE_AT:
            merge()
    merge()
    return frozenset(keys[counts >= need].tolist())


def _inputs_digest(corpus_dir, entries, shas, unlisted):
    """One SHA-256 over the manifest, each listed file's checksum (or what it
    is, when not a regular file), and the names of unlisted files and why
    they are set aside (they change the quarantine table)."""
    h = hashlib.sha256()
    h.update(read_regular(corpus_dir / "manifest.csv"))
    for e, sha in zip(entries, shas):
        h.update(f"\0{e.file}\0{sha or e.special}".encode())
    for q in unlisted:
        h.update(f"\0{q.reason}\0{q.file}".encode())
    return h.hexdigest()


def _hash_files(corpus_dir, entries):
    """SHA-256 of every listed regular file ('' for links, FIFOs, devices,
    which are never read). A plain loop: for many small files it was nine
    times faster here than a thread pool (1.3 s for 100,000 files)."""
    return ["" if e.special else sha256_file(os.path.join(corpus_dir, e.file)) for e in entries]


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
    entries = read_manifest(corpus_dir, listing)
    rules = load_rules(rules_path or paths.CLEANING_RULES, corpus_dir / paths.CORPUS_RULES_NAME)
    unlisted = unlisted_files(entries, listing)
    key = {
        "analysis": __version__,
        "code_sha256": code_fingerprint("corpus.build"),
        "rules_version": rules.version,
        "rules_sha256": rules.fingerprint,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "packages": package_versions(_PACKAGES),
    }
    warnings = []
    unrecorded = sum(1 for e in entries if not e.sha256)
    if unrecorded:
        warnings.append(f"{unrecorded} manifest row(s) have no sha256, so edits to those files "
                        f"cannot be detected; record them with `analysis checksums --corpus "
                        f"{corpus_dir}`.")
    stamp = None if force else read_stamp(out_dir, STAMP)
    # Hash the inputs up front only when everything else already matches; a
    # real build gets the same checksums from the workers that read the files.
    if stamp and {k: v for k, v in stamp.get("key", {}).items() if k != "inputs_sha256"} == key:
        digest = _inputs_digest(corpus_dir, entries, _hash_files(corpus_dir, entries), unlisted)
        if stage_current(out_dir, STAMP, {**key, "inputs_sha256": digest}):
            return StageResult(out_dir, True,
                               warnings=warnings + _encoding_warning(stamp.get("counts", {}))
                               + _mojibake_warning(stamp.get("counts", {})))

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
    try:
        counts, shas = _run(entries, corpus_dir, rules, unlisted, tmp, jobs, progress)
        before = (read_stamp(out_dir, STAMP) or {}).get("counts", {}).get("documents", 0)
        if not counts["documents"] and before and not allow_empty:
            c = counts["summary"]
            raise InputError(
                f"{corpus_dir}: no usable document ({c['manifest_rows']} manifest row(s), "
                f"{c['quarantined']} set aside), but {out_dir} holds {before} document(s) from "
                "the last build; nothing was replaced. Check the corpus folder and its "
                "manifest, or pass --allow-empty to replace them with empty tables.")
        key["inputs_sha256"] = _inputs_digest(corpus_dir, entries, shas, unlisted)
        written, unchanged = publish(tmp, out_dir, {f"{n}.parquet": counts[n] for n in TABLES},
                                     key, STAMP, {"counts": counts["summary"]})
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
    for i in range(0, len(entries), CHUNK):
        yield entries[i:i + CHUNK]


def _results(entries, corpus_dir, rules, jobs, recurring):
    """(rows in chunk, Chunk) in manifest order, from worker processes when
    the corpus has more than one chunk."""
    jobs = jobs or default_jobs()
    chunks = list(_chunks(entries))
    for chunk, result in zip(chunks, imap_ordered(process_chunk, chunks,
                                                  jobs if len(chunks) > 1 else 1,
                                                  corpus_dir, rules, recurring)):
        yield len(chunk), result


def _run(entries, corpus_dir, rules, unlisted, tmp, jobs, progress):
    writers = {name: pq.ParquetWriter(tmp / f"{name}.parquet", schema, compression="zstd")
               for name, schema in TABLES.items()}
    rows = dict.fromkeys(TABLES, 0)
    quarantine, refusals, roles, shas, notes, garbled = [], [], {}, [], [], []
    n_markup = n_garbled = 0
    seen_text, seen_ids = {}, set()
    done = chars = n_notes = 0
    recurring = recurring_lines(entries, corpus_dir, rules, jobs)
    try:
        for n, chunk in _results(entries, corpus_dir, rules, jobs, recurring):
            refusals += chunk.refusals
            shas += chunk.shas
            chars += chunk.chars
            n_notes += len(chunk.encoding_notes)
            notes += chunk.encoding_notes[:3 - len(notes)]
            done += n
            if refusals:
                continue  # keep reading: report every refusal at once
            keep, drop = [], set()
            for a in chunk.articles:
                if a.doc_id in seen_ids:
                    quarantine.append(Quarantined(a.doc_id, a.file, DUPLICATE_ID, (
                        f"doc_id {a.doc_id!r} is already used by an earlier article; collection "
                        "record ids must not repeat manifest ids."), a.record))
                elif a.text_sha256 in seen_text:
                    quarantine.append(Quarantined(a.doc_id, a.file, DUPLICATE, (
                        f"exact duplicate of {seen_text[a.text_sha256]!r} (same text); kept the "
                        "first, set this one aside. Remove its manifest row if it was added "
                        "twice."), a.record))
                else:
                    seen_text[a.text_sha256] = a.doc_id
                    seen_ids.add(a.doc_id)
                    keep.append(True)
                    continue
                keep.append(False)
                drop.add(a.doc_id)
            quarantine += [q for q in chunk.quarantined if q.doc_id not in drop]
            for name in ("documents", "lines", "segments"):
                t = chunk.tables[name]
                if drop:  # by position: a repeated id must not take the first article along
                    counts = [a.rows[name] for a in chunk.articles]
                    t = t.filter(pa.array(np.repeat(keep, counts), pa.bool_()))
                if t.num_rows:
                    writers[name].write_table(t)
                rows[name] += t.num_rows
                if name == "lines":
                    for item in pc.value_counts(t["role"]).to_pylist():
                        roles[item["values"]] = roles.get(item["values"], 0) + item["counts"]
                elif name == "documents" and t.num_rows:
                    n_markup += pc.sum(t["markup"].cast(pa.int64())).as_py() or 0
                    bad = t.filter(pc.greater(t["mojibake"], 0))
                    n_garbled += bad.num_rows
                    garbled += bad["doc_id"].to_pylist()[:3 - len(garbled)]
            if progress:
                progress(done, len(entries))
        if refusals:
            raise InputError(refusals)
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
    return rows, shas


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
