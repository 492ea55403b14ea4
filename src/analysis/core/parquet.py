"""Reading the processed Parquet tables, whole or streamed by document."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import paths

# Rows a Parquet row group holds (pyarrow's default): a table written at once
# is cut into row groups of this many rows.
ROW_GROUP_ROWS = 1024 * 1024


def stream_batches(path, batch_rows: int, columns=None):
    """The record batches of a Parquet file, read forward in memory bounded by
    a batch, whatever the file's size. Without pre-buffering: with it (the
    pyarrow default) the reader keeps every byte range it has read until the
    iteration ends, about a third of the file's size for segments.parquet.
    One thread: parallel column readers each hold buffers, for little gain."""
    return pq.ParquetFile(path, pre_buffer=False).iter_batches(
        batch_size=batch_rows, columns=columns, use_threads=False)


def document_batches(path, batch_rows: int, columns=None, hold_rows: int | None = None):
    """The rows of a Parquet file (each document's rows contiguous) in batches
    of whole documents of about ``batch_rows`` rows, streamed, as pieces:
    yields (table, last), ``last`` being True on a batch's final piece.

    A batch is one piece, unless its rows reach ``hold_rows`` (a huge
    document) before it ends: then it comes in pieces of about ``batch_rows``
    rows as they are read, so a document of any size is never held whole.
    Batches are the same whatever ``hold_rows``: the rows of one document,
    or of consecutive ones, up to where the last document read begins."""
    held, n_held, open_doc, empty = [], 0, None, None
    for batch in stream_batches(path, batch_rows, columns):
        t = pa.Table.from_batches([batch])
        empty = t.slice(0, 0)
        docs = t["doc_id"]
        last_doc = docs[len(docs) - 1].as_py()
        # only the new rows are checked: the open batch's are all of one document
        other = np.flatnonzero(pc.not_equal(docs, last_doc).fill_null(True)
                               .to_numpy(zero_copy_only=False))
        if len(other):
            cut = int(other[-1]) + 1  # where the last document read begins
        elif open_doc is not None and open_doc != last_doc:
            cut = 0
        else:
            cut = None  # the open batch's document goes on
        if cut is not None:
            yield _joined(held + [t.slice(0, cut)]), True
            held, n_held = [t.slice(cut)], t.num_rows - cut
        else:
            held.append(t)
            n_held += t.num_rows
        open_doc = last_doc
        if hold_rows is not None and n_held >= hold_rows:
            yield _joined(held), False
            held, n_held = [], 0
    if open_doc is not None:
        yield (_joined(held) if held else empty), True


def _joined(tables):
    tables = [t for t in tables if t.num_rows] or tables[:1]
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)



def combined(tables: list) -> pa.Table:
    """One table of ``tables`` (which it empties), each column in one piece
    (as a table built at once; the Parquet bytes depend on it), made column
    by column so that only one column is ever held twice."""
    schema = tables[0].schema
    columns = {name: [c for t in tables for c in t[name].chunks] for name in schema.names}
    tables.clear()
    arrays = []
    for field in schema:
        chunks = columns.pop(field.name)
        arrays.append(pa.concat_arrays(chunks) if chunks else pa.array([], field.type))
        del chunks
    return pa.Table.from_arrays(arrays, schema=schema)


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


class RowGroupWriter:
    """Writes a table given in pieces as pyarrow would write it whole with
    ``row_group_size=group_rows``: row groups of that many rows, each from one
    contiguous array per column (how a column is chunked changes the Parquet
    bytes). ``add`` the pieces in order, then ``end()``; only up to one row
    group is held."""

    def __init__(self, writer: pq.ParquetWriter, group_rows: int = ROW_GROUP_ROWS):
        self.writer = writer
        self.group_rows = group_rows
        self.columns = None  # name -> list of arrays
        self.rows = 0

    def add(self, table: pa.Table):
        if not table.num_rows:
            return
        if self.columns is None:
            self.schema = table.schema
            self.columns = {name: [] for name in table.column_names}
        for name in table.column_names:
            self.columns[name] += table[name].chunks
        self.rows += table.num_rows
        del table
        while self.rows >= self.group_rows:
            self._write(self.group_rows)

    def end(self):
        """Write what is held (the last, shorter row group)."""
        if self.rows:
            self._write(self.rows)
        self.columns = None

    def _write(self, n: int):
        arrays = []
        # column by column, so that only one column is ever held twice
        for name, chunks in self.columns.items():
            head, rest, taken = [], [], 0
            for c in chunks:
                if taken >= n:
                    rest.append(c)
                elif taken + len(c) <= n:
                    head.append(c)
                else:
                    head.append(c.slice(0, n - taken))
                    rest.append(c.slice(n - taken))
                taken += len(c)
            self.columns[name] = rest
            chunks.clear()
            arrays.append(pa.concat_arrays(head) if len(head) > 1 else head[0])
            del head
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.rows -= n
