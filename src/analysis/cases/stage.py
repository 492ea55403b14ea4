"""The case stage: segments in, case mentions, events and the ledger out.

``link_corpus()`` streams ``segments.parquet`` through ``linking`` and
``events`` in batches of whole documents, linked in worker processes (or on
a Dask cluster: ``core.parallel``) and written in order, and writes cases,
case_mentions, case_events, unlinked_events and case_ledger with their own
stamp (``linking.json``). A batch too long to hold (a huge document) is
linked here in two passes over its pieces, kept meanwhile in a temporary
file.
"""

import shutil
import tempfile
from itertools import chain, islice
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..coding.codebook import load_codebook
from ..core import paths
from ..core.fileio import sha256_file
from ..core.parallel import Done, default_jobs, imap_ordered
from ..core.parquet import RowGroupWriter, document_batches
from ..core.stages import StageResult, code_fingerprint, publish, stage_current
from .events import EVENTS, UNLINKED, detect_events
from .ledger import ledger
from .linking import LINK_COLUMNS, MENTIONS, Linker, cases_table, link_segments
from .registry import Registry, load_registry

STAMP = "linking.json"
CASE_OUTPUTS = ("cases.parquet", "case_mentions.parquet", "case_events.parquet",
                "unlinked_events.parquet", "case_ledger.parquet")
# Rows read at a time; a batch longer than HOLD_ROWS (a huge document) is
# linked in pieces.
BATCH_ROWS = HOLD_ROWS = 65_536
# Rows per row group of the mentions and events tables: what is held before it
# is written (a 50 MB article has hundreds of thousands).
LINK_GROUP_ROWS = 32_768
# What the ledger reads of the case events.
LEDGER_COLUMNS = ["case_id", "doc_id", "segment_id", "event", "favours", "date", "evidence",
                  "start"]


def link_corpus(processed_dir=None, registry: Registry | None = None, book=None,
                force=False, progress=None, jobs=None) -> StageResult:
    """Link ``segments.parquet`` in ``processed_dir`` to the registry and
    detect outcome events; writes CASE_OUTPUTS and linking.json atomically,
    nothing when segments, documents, registry, codebook and code are
    unchanged. The counts are rows per table (cases, case_mentions, ...).
    ``progress`` is called with (segments done, segments in all); ``jobs``
    worker processes link the batches (default: every core)."""
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
        rows = _write_links(out_dir / "segments.parquet", registry, book, published, tmp,
                            progress, jobs)
        # the cases and the ledger from the tables just written, reading back
        # only the columns they need
        tables = {
            "cases.parquet": cases_table(registry, pq.read_table(
                tmp / "case_mentions.parquet", columns=["case_id", "doc_id"])),
            "case_ledger.parquet": ledger(
                pq.read_table(tmp / "case_events.parquet", columns=LEDGER_COLUMNS),
                {c.case_id: c.title for c in registry.cases}, published),
        }
        for name, table in tables.items():
            pq.write_table(table, tmp / name, compression="zstd")
            rows[name] = table.num_rows
        written, unchanged = publish(tmp, out_dir, {f: rows[f] for f in CASE_OUTPUTS},
                                     key, STAMP)
        counts = {name.split(".")[0]: rows[name] for name in CASE_OUTPUTS}
        return StageResult(out_dir, False, written, unchanged, counts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_links(segments, registry, book, published, tmp, progress=None, jobs=None) -> dict:
    """Write case_mentions, case_events and unlinked_events into ``tmp`` as
    the batches are linked, each as if written at once in row groups of
    LINK_GROUP_ROWS rows; their row counts."""
    names = ("case_mentions.parquet", "case_events.parquet", "unlinked_events.parquet")
    writers = [pq.ParquetWriter(tmp / name, schema, compression="zstd")
               for name, schema in zip(names, (MENTIONS, EVENTS, UNLINKED))]
    rows = dict.fromkeys(names, 0)
    parties = {(c.case_id, p.party_id): p for c in registry.cases for p in c.parties}
    try:
        outs = [RowGroupWriter(w, LINK_GROUP_ROWS) for w in writers]
        total, done = pq.ParquetFile(segments).metadata.num_rows, 0
        items = _link_items(segments, registry, book, published, parties, tmp)
        first = list(islice(items, 2))
        workers = (jobs or default_jobs()) if len(first) > 1 else 1
        for n, *tables in imap_ordered(_link_batch, chain(first, items), workers, registry,
                                       book, parties):
            done += n
            if progress:
                progress(done, total)
            for name, out, table in zip(names, outs, tables):
                out.add(table)
                rows[name] += table.num_rows
            del tables
        if progress:
            progress(total, total)
        for out in outs:
            out.end()
    finally:
        for w in writers:
            w.close()
    return rows


def _link_batch(item, registry, book, parties):
    """(segments, mentions, events, unlinked) of a batch of whole documents
    with its documents' publication dates (runs in a worker)."""
    piece, published = item
    m = link_segments(piece, registry)
    return (piece.num_rows, m, *detect_events(piece, m, book, published, parties))


def _link_items(path, registry, book, published, parties, tmp):
    """The linker's work, in order: each batch of whole documents with its
    documents' publication dates, for ``_link_batch``; the pieces of a huge
    document linked here, in two passes, as ``Done`` results."""
    linker, spill = None, tmp / "pieces.arrows"
    for piece, last in _paragraph_pieces(document_batches(path, BATCH_ROWS, LINK_COLUMNS,
                                                          HOLD_ROWS)):
        if last and linker is None:  # the whole batch at once
            ids = pc.unique(piece["doc_id"]).to_pylist()
            yield piece, {d: published.get(d) for d in ids}
            continue
        if linker is None:
            linker, sink = Linker(registry), pa.ipc.new_stream(spill, piece.schema)
        linker.scan(piece)
        sink.write_batch(_one_batch(piece))
        del piece
        if not last:
            continue
        sink.close()
        linker.resolve()
        # read, not memory-mapped: mapped pages would stay resident
        with pa.OSFile(str(spill)) as f, pa.ipc.open_stream(f) as source:
            for batch in source:
                piece = pa.Table.from_batches([batch])
                m = linker.mentions(piece)
                yield Done((piece.num_rows, m,
                            *detect_events(piece, m, book, published, parties)))
                del batch, piece, m
        spill.unlink()
        linker = None


def _paragraph_pieces(pieces):
    """The pieces cut again so that none splits a paragraph from its
    sentences: a piece's last paragraph goes on to the next piece."""
    carry = None
    for piece, last in pieces:
        if carry is not None:
            piece, carry = pa.concat_tables([carry, piece]), None
        if not last:
            paras = np.flatnonzero(pc.equal(piece["unit"], "paragraph").fill_null(False)
                                   .to_numpy(zero_copy_only=False))
            cut = int(paras[-1]) if len(paras) else 0
            piece, carry = piece.slice(0, cut), piece.slice(cut)
            if not piece.num_rows:
                continue
        yield piece, last


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    batches = table.combine_chunks().to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)
