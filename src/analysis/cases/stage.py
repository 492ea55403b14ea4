"""The case stage: segments in, case mentions, events and the ledger out.

``link_corpus()`` streams ``segments.parquet`` through ``linking`` and
``events`` in batches of whole documents, and writes cases, case_mentions,
case_events, unlinked_events and case_ledger with their own stamp
(``linking.json``).
"""

import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..coding.codebook import load_codebook
from ..core import paths
from ..core.fileio import sha256_file
from ..core.parquet import document_batches
from ..core.stages import StageResult, code_fingerprint, publish, stage_current
from .events import EVENTS, UNLINKED, detect_events
from .ledger import ledger
from .linking import LINK_COLUMNS, MENTIONS, cases_table, link_segments
from .registry import Registry, load_registry

STAMP = "linking.json"
CASE_OUTPUTS = ("cases.parquet", "case_mentions.parquet", "case_events.parquet",
                "unlinked_events.parquet", "case_ledger.parquet")


def link_corpus(processed_dir=None, registry: Registry | None = None, book=None,
                force=False) -> StageResult:
    """Link ``segments.parquet`` in ``processed_dir`` to the registry and
    detect outcome events; writes CASE_OUTPUTS and linking.json atomically,
    nothing when segments, documents, registry, codebook and code are
    unchanged. The counts are rows per table (cases, case_mentions, ...)."""
    out_dir = Path(processed_dir or paths.PROCESSED)
    registry = registry or load_registry()
    book = book or load_codebook()
    key = {"segments_sha256": sha256_file(out_dir / "segments.parquet"),
           "documents_sha256": sha256_file(out_dir / "documents.parquet"),
           "registry_version": registry.version, "registry_sha256": registry.fingerprint,
           "codebook_version": book.version, "codebook_sha256": book.fingerprint,
           "code_sha256": code_fingerprint("cases.stage")}
    if not force and stage_current(out_dir, STAMP, key):
        return StageResult(out_dir, True)
    docs = pq.read_table(out_dir / "documents.parquet", columns=["doc_id", "published"])
    published = dict(zip(docs["doc_id"].to_pylist(), docs["published"].to_pylist()))
    tmp = Path(tempfile.mkdtemp(prefix=".linking-", dir=out_dir))
    try:
        mentions, events, unlinked = [], [], []
        for batch in document_batches(out_dir / "segments.parquet", 65_536, LINK_COLUMNS):
            m = link_segments(batch, registry)
            e, u = detect_events(batch, m, book, published)
            mentions.append(m)
            events.append(e)
            unlinked.append(u)
        tables = {
            "case_mentions.parquet": _concat(mentions, MENTIONS),
            "case_events.parquet": _concat(events, EVENTS),
            "unlinked_events.parquet": _concat(unlinked, UNLINKED),
        }
        tables["cases.parquet"] = cases_table(registry, tables["case_mentions.parquet"])
        titles = {c.case_id: c.title for c in registry.cases}
        tables["case_ledger.parquet"] = ledger(tables["case_events.parquet"], titles, published)
        for name in CASE_OUTPUTS:
            pq.write_table(tables[name], tmp / name, compression="zstd")
        written, unchanged = publish(tmp, out_dir, {f: tables[f].num_rows for f in CASE_OUTPUTS},
                                     key, STAMP)
        counts = {name.split(".")[0]: t.num_rows for name, t in tables.items()}
        return StageResult(out_dir, False, written, unchanged, counts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _concat(tables, schema):
    return pa.concat_tables(tables) if tables else schema.empty_table()
