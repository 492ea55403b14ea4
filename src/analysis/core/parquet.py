"""Reading the processed Parquet tables, whole or streamed by document."""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import paths


def document_batches(path, batch_rows: int, columns=None):
    """Tables of whole documents' rows of a Parquet file (each document's rows
    contiguous), about ``batch_rows`` rows each, streamed: a document is never
    split."""
    pending = None
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns):
        t = pa.Table.from_batches([batch])
        if pending is not None:
            t = pa.concat_tables([pending, t])
        docs = t["doc_id"]
        last = docs[len(docs) - 1].as_py()
        # hold back the last document: its rows may go on in the next batch
        cut = len(docs)
        while cut > 0 and docs[cut - 1].as_py() == last:
            cut -= 1
        if cut == 0:
            pending = t
            continue
        pending = t.slice(cut)
        yield t.slice(0, cut)
    if pending is not None and pending.num_rows:
        yield pending


def shared_pylist(column) -> list:
    """A column as a Python list in which equal values are one object:
    ``to_pylist`` makes an object per row, and a huge document repeats its
    doc_id and each paragraph id hundreds of thousands of times."""
    encoded = pc.dictionary_encode(column.combine_chunks()
                                   if isinstance(column, pa.ChunkedArray) else column)
    values = encoded.dictionary.to_pylist() + [None]  # index -1: null
    return [values[i] for i in pc.fill_null(encoded.indices, -1).to_numpy().tolist()]


def read_table(name: str, out_dir=None):
    """A processed table as a pandas DataFrame (for notebooks and tests)."""
    return pq.read_table(Path(out_dir or paths.PROCESSED) / f"{name}.parquet").to_pandas()
