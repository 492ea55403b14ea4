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

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from itertools import islice
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__, paths
from .cleaning import Rules, classify, detect_profiles, load_rules, normalize
from .corpus import (DUPLICATE, DUPLICATE_ID, NO_BODY, Article, Quarantined, read_entry,
                     unlisted_files)
from .errors import InputError
from .fileio import replace_if_changed, sha256_bytes, sha256_file
from .manifest import read_manifest
from .segmenting import segment

CHUNK = 256  # manifest rows per unit of work; fixed, so outputs never depend on --jobs
STAMP = "build.json"

_str = pa.string()
DOCUMENTS = pa.schema([
    ("doc_id", _str), ("file", _str), ("record", pa.int64()), ("format", _str),
    ("encoding", _str), ("sha256", _str), ("text_sha256", _str),
    ("outlet", _str), ("kind", _str), ("url", _str), ("published", _str),
    ("date_basis", _str), ("language", _str), ("notes", _str), ("profiles", _str),
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
    ("parent_id", _str), ("text", _str), ("start", pa.int64()), ("end", pa.int64()),
])
QUARANTINE = pa.schema([
    ("doc_id", _str), ("file", _str), ("record", pa.int64()), ("reason", _str),
    ("detail", _str),
])
TABLES = {"documents": DOCUMENTS, "lines": LINES, "segments": SEGMENTS,
          "quarantine": QUARANTINE}
_PACKAGES = ("pyarrow", "pyyaml", "charset-normalizer", "orjson", "trafilatura", "lxml")


@dataclass
class Processed:
    """One article after cleaning: its rows for each table."""

    doc_id: str
    text_sha256: str
    document: dict | None
    lines: dict
    segments: dict
    quarantined: Quarantined | None = None


@dataclass
class BuildResult:
    out_dir: Path
    up_to_date: bool
    written: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def process_article(article: Article, rules: Rules) -> Processed:
    """Clean and segment one article: a pure function of (article, rules)."""
    text = article.text
    meta = article.meta
    profiles = detect_profiles(rules, text, meta.get("outlet", ""))
    lines, mode = classify(text, rules, profiles, article.keep, article.comments, article.title)
    segs, seg_texts = segment(text, lines, mode, rules)
    n = len(lines)
    line_cols = {
        "doc_id": [article.doc_id] * n,
        "line_no": [ln.line_no for ln in lines],
        "role": [ln.role for ln in lines],
        "rule": [ln.rule for ln in lines],
        "text": [text[ln.start:ln.end] for ln in lines],
        "start": [ln.start for ln in lines],
        "end": [ln.end for ln in lines],
    }
    seg_cols = {
        "doc_id": [article.doc_id] * len(segs),
        "segment_id": [s.segment_id for s in segs],
        "unit": [s.unit for s in segs],
        "role": [s.role for s in segs],
        "parent_id": [s.parent_id for s in segs],
        "text": seg_texts,
        "start": [s.start for s in segs],
        "end": [s.end for s in segs],
    }
    text_sha = sha256_bytes(text.encode("utf-8"))
    body_paras = [t for s, t in zip(segs, seg_texts) if s.unit == "paragraph" and s.role == "body"]
    if not body_paras:
        q = Quarantined(article.doc_id, article.file, NO_BODY, (
            f"{article.file}{'' if article.record is None else f', line {article.record}'}: "
            "cleaning marked no line as body (see its rows in the lines table); if it is an "
            "article, add a cleaning profile for its outlet."), article.record)
        return Processed(article.doc_id, text_sha, None, line_cols, seg_cols, q)
    title = next((normalize(text[ln.start:ln.end]) for ln in lines if ln.role == "title"), None)
    body = "\n\n".join(body_paras)
    doc = {
        "doc_id": article.doc_id, "file": article.file, "record": article.record,
        "format": article.format, "encoding": article.encoding, "sha256": article.sha256,
        "text_sha256": text_sha,
        **{k: (meta.get(k) or None) for k in ("outlet", "kind", "url", "published",
                                               "date_basis", "language", "notes")},
        "profiles": ",".join(profiles) or None,
        "title": title, "body": body,
        "n_lines": n,
        "n_body_lines": sum(ln.role == "body" for ln in lines),
        "n_paragraphs": len(body_paras),
        "n_sentences": sum(s.unit == "sentence" and s.role == "body" for s in segs),
        "n_comment_paragraphs": sum(s.unit == "paragraph" and s.role == "comment" for s in segs),
        "n_chars": len(text),
        "n_body_chars": len(body),
    }
    return Processed(article.doc_id, text_sha, doc, line_cols, seg_cols)


def process_chunk(entries, corpus_dir, rules):
    """Read and process a chunk of manifest rows (runs in a worker process).

    Returns (processed, quarantined, refusals, bytes_read)."""
    processed, quarantined, refusals, nbytes = [], [], [], 0
    for entry in entries:
        articles, q, r = read_entry(entry, corpus_dir)
        quarantined += q
        refusals += r
        for a in articles:
            nbytes += len(a.text)
            processed.append(process_article(a, rules))
    return processed, quarantined, refusals, nbytes


def code_fingerprint() -> str:
    """SHA-256 over the package's source and instruments (not its caches)."""
    h = hashlib.sha256()
    for p in sorted(paths.PACKAGE.rglob("*")):
        if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts:
            h.update(p.relative_to(paths.PACKAGE).as_posix().encode() + b"\0")
            h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


def package_versions(names=_PACKAGES) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _inputs_digest(corpus_dir, entries, unlisted):
    h = hashlib.sha256()
    h.update((corpus_dir / "manifest.csv").read_bytes())
    for e in entries:
        h.update(f"\0{e.file}\0{sha256_file(corpus_dir / e.file)}".encode())
    for q in unlisted:
        h.update(f"\0unlisted\0{q.file}".encode())
    return h.hexdigest()


def _stamp_matches(out_dir: Path, key: dict) -> bool:
    try:
        stamp = json.loads((out_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("key") != key:
        return False
    for name, info in stamp.get("outputs", {}).items():
        p = out_dir / name
        if not p.is_file() or sha256_file(p) != info.get("sha256"):
            return False
    return True


def build(corpus_dir=None, out_dir=None, rules_path=None, jobs=None, force=False,
          progress=None) -> BuildResult:
    """Run read -> check -> clean -> segment on a corpus folder.

    Raises InputError (before anything is written) for a bad manifest, a
    missing file, a checksum mismatch or bad cleaning rules. ``progress`` is
    called with (articles_done, articles_total) after each chunk.
    """
    corpus_dir = Path(corpus_dir or paths.RAW)
    out_dir = Path(out_dir or paths.PROCESSED)
    entries = read_manifest(corpus_dir)
    rules = load_rules(rules_path or paths.CLEANING_RULES, corpus_dir / paths.CORPUS_RULES_NAME)
    unlisted = unlisted_files(corpus_dir, entries)
    key = {
        "analysis": __version__,
        "code_sha256": code_fingerprint(),
        "rules_version": rules.version,
        "rules_sha256": rules.fingerprint,
        "inputs_sha256": _inputs_digest(corpus_dir, entries, unlisted),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "packages": package_versions(),
    }
    warnings = []
    unrecorded = sum(1 for e in entries if not e.sha256)
    if unrecorded:
        warnings.append(f"{unrecorded} manifest row(s) have no sha256, so edits to those files "
                        f"cannot be detected; record them with `analysis checksums --corpus "
                        f"{corpus_dir}`.")
    if not force and _stamp_matches(out_dir, key):
        return BuildResult(out_dir, True, warnings=warnings)

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
    try:
        counts = _run(entries, corpus_dir, rules, unlisted, tmp, jobs, progress)
        outputs = {}
        for name in TABLES:
            f = f"{name}.parquet"
            outputs[f] = {"sha256": sha256_file(tmp / f), "rows": counts[name]}
        stamp = {"key": key, "outputs": outputs, "counts": counts["summary"]}
        (tmp / STAMP).write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n",
                                 encoding="utf-8")
        result = BuildResult(out_dir, False, counts=counts["summary"], warnings=warnings)
        for f in [*outputs, STAMP]:
            changed = replace_if_changed(tmp / f, out_dir / f)
            (result.written if changed else result.unchanged).append(f)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _chunks(entries):
    for i in range(0, len(entries), CHUNK):
        yield entries[i:i + CHUNK]


def _results(entries, corpus_dir, rules, jobs):
    """Chunk results in manifest order, from worker processes when worth it."""
    jobs = jobs or min(2, os.cpu_count() or 1)
    if jobs <= 1 or len(entries) <= CHUNK:
        for chunk in _chunks(entries):
            yield len(chunk), process_chunk(chunk, corpus_dir, rules)
        return
    chunks = _chunks(entries)
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        # A sliding window of 2 chunks per worker bounds memory; results are
        # taken in submission order, so output order never depends on timing.
        pending = deque((len(c), pool.submit(process_chunk, c, corpus_dir, rules))
                        for c in islice(chunks, 2 * jobs))
        while pending:
            n, fut = pending.popleft()
            nxt = next(chunks, None)
            if nxt is not None:
                pending.append((len(nxt), pool.submit(process_chunk, nxt, corpus_dir, rules)))
            yield n, fut.result()


def _run(entries, corpus_dir, rules, unlisted, tmp, jobs, progress):
    writers = {name: pq.ParquetWriter(tmp / f"{name}.parquet", schema, compression="zstd")
               for name, schema in TABLES.items()}
    rows = dict.fromkeys(TABLES, 0)
    quarantine, refusals = [], []
    seen_text, seen_ids = {}, set()
    done = nbytes = 0
    roles = {}
    try:
        for n, (processed, q, r, b) in _results(entries, corpus_dir, rules, jobs):
            quarantine += q
            refusals += r
            nbytes += b
            if refusals:
                continue  # keep reading: report every refusal at once
            docs, lines, segs = [], [], []
            for p in processed:
                if p.doc_id in seen_ids:
                    quarantine.append(Quarantined(p.doc_id, (p.document or {}).get("file", ""),
                                                  DUPLICATE_ID, (
                        f"doc_id {p.doc_id!r} is already used by an earlier article; "
                        "collection record ids must not repeat manifest ids.")))
                    continue
                first = seen_text.get(p.text_sha256)
                if first is not None:
                    d = p.document or {}
                    quarantine.append(Quarantined(p.doc_id, d.get("file", ""), DUPLICATE, (
                        f"exact duplicate of {first!r} (same text); kept the first, set this one "
                        "aside. Remove its manifest row if it was added twice."), d.get("record")))
                    continue
                seen_text[p.text_sha256] = p.doc_id
                seen_ids.add(p.doc_id)
                if p.quarantined is not None:
                    quarantine.append(p.quarantined)
                else:
                    docs.append(p.document)
                lines.append(p.lines)
                segs.append(p.segments)
                for role in p.lines["role"]:
                    roles[role] = roles.get(role, 0) + 1
            _write(writers["documents"], DOCUMENTS, _rows_to_cols(docs, DOCUMENTS))
            _write(writers["lines"], LINES, _concat(lines, LINES))
            _write(writers["segments"], SEGMENTS, _concat(segs, SEGMENTS))
            rows["documents"] += len(docs)
            rows["lines"] += sum(len(c["doc_id"]) for c in lines)
            rows["segments"] += sum(len(c["doc_id"]) for c in segs)
            done += n
            if progress:
                progress(done, len(entries))
        if refusals:
            raise InputError(refusals)
        quarantine += unlisted
        _write(writers["quarantine"], QUARANTINE, _rows_to_cols(
            [vars(q) for q in quarantine], QUARANTINE))
        rows["quarantine"] = len(quarantine)
    finally:
        for w in writers.values():
            w.close()
    reasons = {}
    for q in quarantine:
        reasons[q.reason] = reasons.get(q.reason, 0) + 1
    rows["summary"] = {
        "manifest_rows": len(entries), "documents": rows["documents"],
        "quarantined": len(quarantine), "quarantine_reasons": dict(sorted(reasons.items())),
        "line_roles": dict(sorted(roles.items())), "chars_read": nbytes,
        "lines": rows["lines"], "segments": rows["segments"],
    }
    return rows


def _rows_to_cols(rows, schema):
    return {name: [r.get(name) for r in rows] for name in schema.names}


def _concat(col_dicts, schema):
    out = {name: [] for name in schema.names}
    for cols in col_dicts:
        for name in schema.names:
            out[name].extend(cols[name])
    return out


def _write(writer, schema, cols):
    if cols[schema.names[0]]:
        writer.write_table(pa.Table.from_pydict(cols, schema=schema))


def read_table(name: str, out_dir=None):
    """A processed table as a pandas DataFrame (for notebooks and tests)."""
    return pq.read_table(Path(out_dir or paths.PROCESSED) / f"{name}.parquet").to_pandas()
