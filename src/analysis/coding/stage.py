"""The coding stage: ``segments.parquet`` in, codes with evidence out.

``code_corpus(processed_dir)`` streams the segments through the coder in
batches of whole documents and writes ``codes.parquet``, ``doc_codes.parquet``,
``code_labels.parquet``, ``uncoded.parquet`` (documents in a language the
codebook does not cover, listed rather than coded) and ``coding.json``,
skipping the work when segments, codebook, code and packages are unchanged.
"""

import hashlib
import json
import shutil
import tempfile
from itertools import chain, islice
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..core import paths
from ..core.fileio import sha256_file
from ..core.parallel import default_jobs, imap_ordered
from ..core.parquet import RowGroupWriter, document_batches
from ..core.stages import StageResult, code_fingerprint, package_versions, publish, stage_current
from .codebook import load_codebook
from .coder import CODER_COLUMNS, CODES, DOC_CODES, Tally, code_labels, code_rows
from .schema import Codebook

STAMP = "coding.json"
UNCODED = pa.schema([("doc_id", pa.string()), ("language", pa.string()),
                     ("reason", pa.string())])
# A batch longer than this (a huge document) is coded in pieces as it is read.
HOLD_ROWS = 65_536
# Rows of evidence per row group of codes.parquet: what is held before it is
# written (a 50 MB article has over a million; a row group of that many held
# about 150 MB).
CODE_GROUP_ROWS = 131_072


def code_corpus(processed_dir=None, book: Codebook | None = None, force=False,
                batch_rows=65_536, jobs=None, progress=None) -> StageResult:
    """Code ``segments.parquet`` in ``processed_dir`` into codes and doc_codes.

    Streams the segments in batches (a document's rows are never split
    between batches; a huge one comes in pieces, its tallies added up), coded
    in ``jobs`` worker processes when there is more than one piece and
    written in order, each batch's codes as if at once; writes atomically,
    and writes nothing when the stamp says segments, codebook, code and
    packages are unchanged. ``progress`` is called with (segments done,
    segments in all) as the pieces are coded.
    """
    out_dir = Path(processed_dir or paths.PROCESSED)
    book = book or load_codebook()
    segments_path = out_dir / "segments.parquet"
    uncoded = uncoded_documents(out_dir / "documents.parquet", book)
    key = {
        "segments_sha256": sha256_file(segments_path),
        "uncoded_sha256": hashlib.sha256(
            "\n".join(uncoded["doc_id"].to_pylist()).encode()).hexdigest(),
        "codebook_version": book.version,
        "codebook_sha256": book.fingerprint,
        "code_sha256": code_fingerprint("coding.stage"),
        "packages": package_versions(("pyarrow", "hyperscan")),
    }
    if not force and stage_current(out_dir, STAMP, key):
        return StageResult(out_dir, True)

    tmp = Path(tempfile.mkdtemp(prefix=".coding-", dir=out_dir))
    try:
        writers = {"codes": pq.ParquetWriter(tmp / "codes.parquet", CODES, compression="zstd"),
                   "doc_codes": pq.ParquetWriter(tmp / "doc_codes.parquet", DOC_CODES,
                                                 compression="zstd")}
        rows = {"codes": 0, "doc_codes": 0}
        try:
            # a batch's codes are written as if at once, however many pieces it came in
            codes_out, tally = RowGroupWriter(writers["codes"], CODE_GROUP_ROWS), Tally()
            pieces = document_batches(segments_path, batch_rows, CODER_COLUMNS, HOLD_ROWS)
            if uncoded.num_rows:
                pieces = _without(pieces, uncoded["doc_id"])
            first = list(islice(pieces, 2))
            workers = (jobs or default_jobs()) if len(first) > 1 else 1
            total, done = pq.ParquetFile(segments_path).metadata.num_rows, 0
            for codes, piece_tally, last, n in imap_ordered(
                    _code_piece, chain(_drain(first), pieces), workers, book):
                done += n
                if progress:
                    progress(done, total)
                codes_out.add(codes)
                rows["codes"] += codes.num_rows
                del codes
                tally.add(piece_tally)
                if last:
                    codes_out.end()
                    doc_codes, tally = tally.table(book), Tally()
                    if doc_codes.num_rows:
                        writers["doc_codes"].write_table(doc_codes)
                        rows["doc_codes"] += doc_codes.num_rows
            if progress:  # the segments of uncoded documents were left out
                progress(total, total)
        finally:
            for w in writers.values():
                w.close()
        labels = code_labels(book)
        pq.write_table(labels, tmp / "code_labels.parquet", compression="zstd")
        rows["code_labels"] = labels.num_rows
        pq.write_table(uncoded, tmp / "uncoded.parquet", compression="zstd")
        rows["uncoded"] = uncoded.num_rows
        written, unchanged = publish(tmp, out_dir, {f"{n}.parquet": rows[n] for n in rows},
                                     key, STAMP)
        return StageResult(out_dir, False, written, unchanged, counts=rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def uncoded_documents(documents_path, book: Codebook) -> pa.Table:
    """The documents in a language the codebook does not cover (doc_id,
    language, reason), in the documents table's order: they are not coded,
    so they get no codes and no zeros, and are listed here instead."""
    docs = pq.read_table(documents_path, columns=["doc_id", "language"])
    # each distinct language asked once, not once a document
    other = [x for x in pc.unique(docs["language"]).to_pylist() if not book.covers(x)]
    docs = docs.filter(pc.is_in(docs["language"], value_set=pa.array(other, pa.string()),
                                skip_nulls=False))
    ids = docs["doc_id"].to_pylist()
    langs = [x or "und" for x in docs["language"].to_pylist()]
    covered = ", ".join(book.languages)
    return pa.table({"doc_id": ids, "language": langs, "reason": [
        f"language {x!r} is not one the codebook covers ({covered}): not coded; add "
        "indicators in this language to the codebook (and the language to its languages), "
        "or correct the manifest's language column" for x in langs]}, schema=UNCODED)


def _without(pieces, doc_ids):
    """The pieces with the rows of the given documents left out."""
    for table, last in pieces:
        yield table.filter(pc.invert(pc.is_in(table["doc_id"], value_set=doc_ids))), last


def _drain(items: list):
    """The items of a list, each forgotten as it is taken."""
    while items:
        yield items.pop(0)


def _code_piece(piece, book):
    """(codes, tally, last, rows) of one piece of a batch (runs in a worker)."""
    table, last = piece
    return (*code_rows(table, book), last, table.num_rows)


def accepted_codebooks(processed) -> tuple:
    """The codebook fingerprints this code already checked and coded with in
    ``processed`` (from its stamp), so loading them again can skip the
    examples check; empty when the coder's code changed since."""
    try:
        key = json.loads((Path(processed) / STAMP).read_text(encoding="utf-8"))["key"]
    except (OSError, ValueError, KeyError):
        return ()
    return (key.get("codebook_sha256"),) if key.get("code_sha256") == code_fingerprint(
        "coding.stage") else ()
