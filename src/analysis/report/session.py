"""What a notebook needs from the package, in one object.

A notebook makes one ``Session`` from its parameters. The session selects the
documents (outlets, date range), reads processed tables restricted to them,
and saves figures and tables into the output folder, each with a JSON
sidecar: its caption, its n, the checksums of the processed tables the
notebook had read, and the versions of the package, cleaning rules, codebook
and registry that made them, so every file traces back to its inputs.

The tables, coding sheets and package modules a notebook used are also
remembered for the report's incremental rebuilds: the report runner asks for
them with ``write_dependencies`` after the notebook ran (see
``analysis.report.run``).
"""

import html
import json
import numbers
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from IPython.display import Markdown

from .. import __version__
from ..core import paths
from ..core.errors import InputError
from ..core.fileio import (csv_bytes, csv_checksums, replace_if_changed, sha256_file,
                           temp_path_beside, write_bytes_atomic)
from ..core.parquet import RowGroupWriter, stream_batches
from ..core.stages import STAMPS, stamp_checksums
from ..plots.style import FORMATS, save_figure
from ..results.selection import select_documents
from ..validation.event_sheets import EVENTS_DIR, read_event_sheets
from ..validation.event_sheets import ROWS as EVENT_ROWS  # the columns of its rows
from ..validation.sheets import (EVALUATION, coding_sets, held_out_problems, read_coders,
                                 read_sheets, sheet_documents)

# processed tables read in this process: {file name: sha256}
_READ: dict = {}
# a table longer than this is saved as Parquet, not CSV (the KWIC table of a
# 100,000-article corpus is hundreds of MB as CSV)
LARGE_TABLE_ROWS = 50_000
# the documents table's columns a Session holds (``Session.documents``)
DOCUMENT_COLUMNS = ["doc_id", "outlet", "kind", "published", "date_basis", "language", "format",
                    "title", "n_paragraphs", "n_sentences", "n_comment_paragraphs",
                    "n_body_chars"]
# ``Session.chunks``: documents per chunk, and rows read from a file at a time
DOCS_PER_CHUNK = 2_000
BATCH_ROWS = 65_536
# rows per row group of a saved Parquet table: what is held while it is written
TABLE_GROUP_ROWS = 65_536
# folders of manual coding sheets read in this process: {folder as given: {file: sha256}},
# and the name of each within its coding folder ({folder as given: "coding/events"})
_FOLDERS: dict = {}
_LABELS: dict = {}
# Markdown's specials, and "$", which JupyterLab and nbconvert take for maths
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")


class Session:
    """Processed tables of the selected documents, and deterministic saving.

    ``processed_dir`` holds the pipeline's tables; figures go to
    ``output_dir/figures`` and tables to ``output_dir/tables``. ``outlets``
    and ``figure_formats`` are lists, or one string for one item. Raises
    InputError when the processed tables are missing or a filter is malformed.
    """

    def __init__(self, processed_dir, output_dir, figure_formats=FORMATS, outlets=(),
                 date_from=None, date_to=None):
        self.processed = Path(processed_dir)
        self.output = Path(output_dir)
        self.formats = as_tuple(figure_formats)
        if not (self.processed / "documents.parquet").is_file():
            raise InputError(f"{self.processed}: no processed corpus here; run `make report` "
                             "(or `analysis build`) first, or set processed_dir.")
        self._checksums = stamp_checksums(self.processed)
        self.versions = _versions(self.processed)
        self.inputs = {}
        self._saved = 0
        # the columns the notebooks use (not the body text, as large as the
        # corpus, nor checksums, paths and notes: a kernel holds these columns
        # of every document); ``read("documents")`` gives the others
        schema = self.read_schema("documents")
        # a row group at a time (a reader of batches holds more while it reads)
        file = pq.ParquetFile(self.processed / "documents.parquet", pre_buffer=False)
        table = pa.Table.from_batches(
            [b for i in range(file.num_row_groups) for b in
             file.read_row_group(i, DOCUMENT_COLUMNS, use_threads=False).to_batches()],
            pa.schema([schema.field(c) for c in DOCUMENT_COLUMNS]))
        del file
        # selected on the columns the selection reads, each row with its place
        # in the table, so that only the selected documents are made into a
        # DataFrame, once (the whole table as one besides would double it)
        basis = table.select(["doc_id", "outlet", "published"]).to_pandas()
        basis["place"] = np.arange(len(basis))
        picked, self.notes = select_documents(basis, as_tuple(outlets), date_from, date_to)
        places = picked["place"].to_numpy()
        del basis, picked
        # every document, already sorted by doc_id, is the table as it is
        # (no copy of it taken)
        every = len(places) == table.num_rows and bool((places == np.arange(len(places))).all())
        self.documents = (table if every else table.take(places)).to_pandas()
        # the selected documents in the documents table's order (the order every
        # processed table is written in; ``documents`` is sorted by doc_id)
        self.doc_ids = pd.Index((table["doc_id"] if every else
                                 table["doc_id"].take(np.sort(places))).to_pandas(),
                                name="doc_id")

    @property
    def n_documents(self) -> int:
        return len(self.documents)

    def read(self, name: str, columns=None, filters=None):
        """A processed table (all documents) as a DataFrame; remembers its checksum."""
        self.read_schema(name)
        return pq.read_table(self.processed / f"{name}.parquet", columns=columns,
                             filters=filters).to_pandas()

    def table(self, name: str, columns=None, filters=None):
        """A processed table restricted to the selected documents, whole: for
        the small tables. Read the large ones (segments, lines, codes,
        doc_codes, events) with ``chunks``."""
        df = self.read(name, columns, filters)
        if "doc_id" in df.columns:
            df = df[df["doc_id"].isin(self.doc_ids)].reset_index(drop=True)
        return df

    def rows_of(self, name: str, doc_ids, columns=None, filters=None):
        """A processed table's rows of the given documents (those selected;
        say, the documents of the coding sheets), read through a filter so
        that only they are ever held."""
        ids = sorted(d for d in set(doc_ids) if d in self.doc_ids)
        if not ids:
            schema = self.read_schema(name)
            return schema.empty_table().select(columns or schema.names).to_pandas()
        return self.table(name, columns, filters=[("doc_id", "in", ids), *(filters or ())])

    def pick(self, name: str, draws, columns=None, filters=None) -> list:
        """For each array of positions in ``draws`` (0-based places among the
        selected rows passing ``filters``, in reading order), the rows of a
        processed table at those places, in the order the positions are
        given: samples drawn from a table too large to load, all in one pass
        over it, chunk by chunk."""
        sizes = [len(d) for d in draws]
        positions = np.concatenate([np.asarray(d, dtype=np.int64) for d in draws] + [[]])
        positions = positions.astype(np.int64)
        order = np.argsort(positions, kind="stable")
        wanted, parts, offset = positions[order], [], 0
        for part in self.chunks((name, columns, filters)):
            lo, hi = np.searchsorted(wanted, [offset, offset + len(part)])
            parts.append(part.iloc[wanted[lo:hi] - offset])
            offset += len(part)
        rows = pd.concat(parts, ignore_index=True).iloc[np.argsort(order, kind="stable")]
        ends = np.cumsum([0, *sizes])
        return [rows.iloc[a:b].reset_index(drop=True) for a, b in zip(ends[:-1], ends[1:])]

    def chunks(self, *tables, docs: int = DOCS_PER_CHUNK):
        """The selected documents' rows of one or more processed tables, read
        side by side in chunks of ``docs`` documents (in the documents
        table's order, so rows come in the tables' own order): for each chunk a
        DataFrame (one table) or a tuple of DataFrames (several), each holding
        every row the table has for those documents. A table is a name, or
        (name, columns) or (name, columns, filters) as for ``read``.

        Memory stays bounded whatever the corpus's size, so a notebook adds up
        counts over the chunks instead of loading millions of rows. The
        pipeline writes every table in the documents table's order; a table
        out of that order raises InputError rather than splitting a document
        between chunks."""
        cursors = [self._cursor(*((t,) if isinstance(t, str) else t)) for t in tables]
        for lo in range(0, max(len(self.doc_ids), 1), docs):
            hi = min(lo + docs, len(self.doc_ids))
            parts = tuple(c.take(lo, hi).to_pandas() for c in cursors)
            yield parts[0] if len(parts) == 1 else parts

    def _cursor(self, name: str, columns=None, filters=None):
        schema = self.read_schema(name)  # checks the file and remembers its checksum
        return _Cursor(self.processed / f"{name}.parquet", name, schema, columns, filters,
                       self.doc_ids)

    def read_schema(self, name: str) -> pa.Schema:
        """A processed table's columns and types, without its rows; remembers
        its checksum like ``read``."""
        path = self.processed / f"{name}.parquet"
        if not path.is_file():
            raise InputError(f"{path}: missing; run `make report` (or `analysis build`) to "
                             "produce the processed tables.")
        sha = self._checksums.get(path.name) or sha256_file(path)
        self.inputs[path.name] = _READ[path.name] = sha
        return pq.read_schema(path)

    def coding_sheets(self, coding_dir):
        """The manual coding sheets of ``coding_dir``, checked on load
        (``validation.sheets.read_sheets``; InputError naming file, line and
        column) and restricted to the selected documents, as rows set, sheet,
        line, unit, doc_id, segment_id, coder, code, value, note. ``set`` is
        ``development`` for the sheets directly in the folder (every CSV but
        the coders file) and ``evaluation`` for those in its evaluation/
        subfolder, named evaluation/NAME; an evaluation document that a
        development sheet codes too is refused (``held_out_problems``). None or
        a folder without sheets gives no rows. Remembers every file's checksum."""
        def read(files, documents, segments, coders):
            labels = self.read("code_labels")
            codes = labels.loc[labels["family"] != "outcome", "code"].tolist()
            return read_sheets(files, codes, documents, segments, coders)

        return self._sheets(coding_dir, None, read, ["set", "sheet", "line", "unit", "doc_id",
                                                     "segment_id", "coder", "code", "value",
                                                     "note"])

    def event_sheets(self, coding_dir):
        """The outcome-event sheets of ``coding_dir``'s events/ subfolder
        (``validation.event_sheets``), as ``coding_sheets`` reads paragraph
        sheets: checked, restricted to the selected documents, ``set``
        development or evaluation (events/evaluation/), held out. Columns set,
        then ``event_sheets.ROWS``."""
        def read(files, documents, segments, coders):
            labels = self.read("code_labels")
            events = labels.loc[labels["family"] == "outcome", "code"].tolist()
            cases = self.read("cases", columns=["case_id"])["case_id"]
            return read_event_sheets(files, events, cases, documents, segments, coders)

        return self._sheets(coding_dir, EVENTS_DIR, read, ["set", *EVENT_ROWS])

    def _sheets(self, coding_dir, sub, read, columns):
        """The sheets of ``coding_dir``/``sub`` and its evaluation/ folder, read
        with ``read(files, documents, segments, coders)``, as ``coding_sheets``
        says."""
        if coding_dir is None:
            return pd.DataFrame(columns=columns)
        root = Path(coding_dir)
        folder = root / sub if sub else root
        for where in (folder, folder / EVALUATION):
            sums = csv_checksums(where)
            _FOLDERS[str(where)] = sums
            # named from the coding folder, wherever it is: coding/events/evaluation
            _LABELS[str(where)] = label = (Path(root.name) / where.relative_to(root)).as_posix()
            self.inputs.update({f"{label}/{f}": sha for f, sha in sums.items()})
        sets = coding_sets(folder, paths.CODERS.name)
        if not sets:
            return pd.DataFrame(columns=columns)
        # the body paragraphs of the documents the sheets name (a unit of any
        # other is not in a sheet), not the whole corpus's
        named = [("doc_id", "in", sorted(set().union(*(
            sheet_documents(files) for files in sets.values()))) or [""])]
        documents = self.read("documents", columns=["doc_id"], filters=named)
        segments = self.read("segments", columns=["doc_id", "segment_id", "unit", "role"],
                             filters=[*named, ("unit", "=", "paragraph"), ("role", "=", "body")])
        coders = read_coders(Path(coding_dir) / paths.CODERS.name)
        coded = pd.concat([read(files, documents, segments, coders).assign(set=name)
                           for name, files in sets.items()], ignore_index=True)
        coded["sheet"] = coded["sheet"].where(coded["set"] != EVALUATION,
                                              EVALUATION + "/" + coded["sheet"])
        if problems := held_out_problems(coded):
            raise InputError(problems)
        coded = coded[columns]
        return coded[coded["doc_id"].isin(self.doc_ids)].reset_index(drop=True)

    def save_figure(self, fig, stem: str, caption: str, n: str, data=()) -> list:
        """Save ``fig`` as figures/stem.<format> plus figures/stem.json (caption,
        n, files, inputs, and ``data``: the stems of the saved tables it draws,
        when not saved in the same cell); returns the paths of the figure files."""
        files = save_figure(fig, stem, self.output / "figures", self.formats)
        self._sidecar("figures", stem, caption, n, [p.name for p in files],
                      **({"data": list(data)} if data else {}))
        return files

    def save_table(self, df, stem: str, caption: str, n, index=False) -> Path:
        """Save ``df`` as tables/stem.csv (UTF-8, LF line ends, text cells that
        a spreadsheet would run as formulas neutralised) plus tables/stem.json;
        returns the table's path. A table of more than ``LARGE_TABLE_ROWS``
        rows is saved as tables/stem.parquet instead (zstd, row groups of
        ``TABLE_GROUP_ROWS``), a fraction of the size, and the report page
        shows its first rows. ``n`` is the caption's n, or a function of the
        table's rows that gives it."""
        with self.writing_table(stem, caption, n) as table:
            table.add(df.reset_index() if index else df)
        return table.path

    @contextmanager
    def writing_table(self, stem: str, caption: str, n):
        """A table written part by part, as ``save_table`` writes a whole one:
        ``with nb.writing_table(...) as table: table.add(part)`` for each part
        (DataFrames with the same columns, say one per chunk of documents), so
        a table of millions of rows is never held whole. Nothing is written
        when the block fails."""
        table = _TableWriter(self.output / "tables", stem)
        try:
            yield table
        except BaseException:
            table.abort()
            raise
        table.close()
        self._sidecar("tables", stem, caption, n(table.rows) if callable(n) else n,
                      [table.path.name], rows=table.rows)

    def _sidecar(self, kind, stem, caption, n, files, **extra):
        self._saved += 1
        info = {"kind": kind[:-1], "caption": caption, "n": n, "files": files,
                "order": self._saved, "inputs": dict(sorted(self.inputs.items())),
                "versions": self.versions, **extra}
        write_bytes_atomic(self.output / kind / f"{stem}.json",
                           (json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False)
                            + "\n").encode("utf-8"))

    @staticmethod
    def with_interval(value, low, high, digits: int) -> str:
        """A figure with its interval, "0.71 (95% CI 0.52-0.86)"; "undefined"
        for no figure, and no interval when it has none."""
        if value is None or pd.isna(value):
            return "undefined"
        if low is None or high is None or pd.isna(low) or pd.isna(high):
            return f"{value:.{digits}f} (no interval: too few units)"
        return f"{value:.{digits}f} (95% CI {low:.{digits}f}-{high:.{digits}f})"

    def say(self, template: str, **values):
        """Markdown for a sentence of interpretation; text ``values`` (which may
        come from the corpus) are escaped, so they always show as text; numbers
        keep their type for format specs such as ``{share:.0%}``."""
        return Markdown(template.format(**{
            k: v if isinstance(v, numbers.Number) else escape_markdown(v)
            for k, v in values.items()}))


class _TableWriter:
    """Holds a table's parts until it passes LARGE_TABLE_ROWS rows, then
    streams them into a Parquet file (row groups of TABLE_GROUP_ROWS, the same
    bytes however the rows came); a smaller table is one CSV. ``close``
    writes atomically and leaves an identical file untouched, and removes
    the table's other form (from a run of another size)."""

    def __init__(self, folder: Path, stem: str):
        self.folder, self.stem = folder, stem
        self.held, self.rows = [], 0
        self.path = folder / f"{stem}.csv"
        self.tmp = self.writer = self.groups = self.schema = None

    def add(self, part: pd.DataFrame) -> None:
        self.rows += len(part)
        if self.writer is not None:
            self._write(part)
            return
        self.held.append(part)
        if self.rows > LARGE_TABLE_ROWS:
            self.path = self.folder / f"{self.stem}.parquet"
            self.tmp = temp_path_beside(self.path)
            self.schema = pa.Schema.from_pandas(self.held[0], preserve_index=False)
            self.schema = self.schema.remove_metadata()
            self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
            self.groups = RowGroupWriter(self.writer, TABLE_GROUP_ROWS)
            held, self.held = self.held, []
            for p in held:
                self._write(p)

    def _write(self, part: pd.DataFrame) -> None:
        # a row group's worth at a time: a table of every document, given
        # whole, is never held twice (as a DataFrame and as Arrow)
        for lo in range(0, len(part), TABLE_GROUP_ROWS):
            self.groups.add(pa.Table.from_pandas(part.iloc[lo:lo + TABLE_GROUP_ROWS],
                                                 schema=self.schema, preserve_index=False)
                            .replace_schema_metadata(None))

    def close(self) -> None:
        if self.writer is not None:
            self.groups.end()
            self.writer.close()
            replace_if_changed(self.tmp, self.path)
        else:
            whole = (pd.concat(self.held, ignore_index=True) if len(self.held) > 1
                     else self.held[0] if self.held else pd.DataFrame())
            write_bytes_atomic(self.path, csv_bytes(whole, index=False))
        self.held = []
        stale = self.path.with_suffix(".parquet" if self.path.suffix == ".csv" else ".csv")
        stale.unlink(missing_ok=True)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.tmp.unlink(missing_ok=True)


class _Cursor:
    """Reads a processed table forward, batch by batch, and hands out the
    rows of the documents at places [lo, hi) of the selection; rows of
    documents not selected are dropped, rows of later documents wait."""

    def __init__(self, path: Path, name: str, schema: pa.Schema, columns, filters,
                 place: pd.Index):
        # the filters' columns are read too, and left out after filtering
        used = [f[0] for f in filters or () if isinstance(f, tuple)] + [
            g[0] for f in filters or () if isinstance(f, list) for g in f]
        cols = None if columns is None else list(dict.fromkeys(["doc_id", *columns, *used]))
        self.name, self.place, self.columns = name, place, columns
        self.filter = pq.filters_to_expression(filters) if filters else None
        self.schema = schema if cols is None else pa.schema([schema.field(c) for c in cols])
        self.batches = stream_batches(path, BATCH_ROWS, cols)
        self.waiting = None  # (rows, their places)

    def take(self, lo: int, hi: int) -> pa.Table:
        parts = []
        while True:
            if self.waiting is None:
                batch = next(self.batches, None)
                if batch is None:
                    break
                rows = pa.Table.from_batches([batch])
                if self.filter is not None:
                    rows = rows.filter(self.filter)
                places = self.place.get_indexer(rows["doc_id"].to_pandas())
                mine = places >= 0
                self.waiting = (rows.filter(pa.array(mine)), places[mine])
            rows, places = self.waiting
            if len(places) and places.min() < lo:
                raise InputError(f"{self.name}.parquet: rows of document "
                                 f"{self.place[places.min()]!r} come after those of later "
                                 "documents; the pipeline writes every table in the documents "
                                 "table's order. Rebuild the processed tables (`analysis build "
                                 "--force`).")
            now = places < hi
            if now.all():
                parts.append(rows)
                self.waiting = None
                continue
            parts.append(rows.filter(pa.array(now)))
            self.waiting = (rows.filter(pa.array(~now)), places[~now])
            break
        table = pa.concat_tables(parts) if parts else self.schema.empty_table()
        return table if self.columns is None else table.select(self.columns)


def _versions(processed: Path) -> dict:
    """The versions that made the processed tables: the package, the cleaning
    rules, the codebook and the case registry, from the stages' stamps."""
    keys = {}
    for name in STAMPS:
        try:
            keys.update(json.loads((processed / name).read_text(encoding="utf-8"))["key"])
        except (OSError, ValueError, KeyError):
            continue
    return {"analysis": __version__, "cleaning_rules": keys.get("rules_version"),
            "codebook": keys.get("codebook_version"), "registry": keys.get("registry_version")}


def as_tuple(value) -> tuple:
    """A list parameter as a tuple: one string (``papermill -p outlets "Sixth
    Tone"``) is one item, not its letters; None is empty."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def escape_markdown(value) -> str:
    """``value`` as text that Markdown and HTML show literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))


def dependencies() -> dict:
    """What this process used: the processed tables read, the folders of
    coding sheets read (with their names in the coding folder), and the
    package modules imported, each file with its checksum (module paths
    relative to src/)."""
    modules = {}
    for name, module in sorted(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if (name == "analysis" or name.startswith("analysis.")) and path:
            path = Path(path)
            modules[path.relative_to(paths.PACKAGE.parent).as_posix()] = sha256_file(path)
    return {"tables": dict(sorted(_READ.items())), "folders": dict(sorted(_FOLDERS.items())),
            "labels": dict(sorted(_LABELS.items())), "modules": modules}


def write_dependencies(path) -> None:
    """Write ``dependencies()`` as JSON to ``path`` (called by the report runner)."""
    Path(path).write_text(json.dumps(dependencies(), indent=2, sort_keys=True) + "\n",
                          encoding="utf-8")
