"""Selecting documents (outlets, publication dates) and keeping figures
readable on large corpora.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import re

import pandas as pd

from ..cases.dates import day_span
from ..core.errors import InputError

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def date_bounds(published: pd.Series) -> tuple:
    """(first, last) ISO day of each partial date ("2021", "2021-09",
    "2021-09-14"); missing or malformed dates give missing bounds."""
    text = published.astype("string")
    text = text.where(text.str.fullmatch(_DATE.pattern).fillna(False).astype(bool))
    first = text.map(lambda d: day_span(d)[0], na_action="ignore").astype("string")
    last = text.map(lambda d: day_span(d)[1], na_action="ignore").astype("string")
    return first, last


def select_documents(documents: pd.DataFrame, outlets=(), date_from=None, date_to=None):
    """The documents a notebook analyses: those from ``outlets`` (all when
    empty) whose publication date overlaps [date_from, date_to] (ISO days,
    either may be None). A partial date ("2021-09") overlaps when any of its
    days does; undated documents are left out only when a date bound is set.
    Returns (selected documents, a list of sentences saying what was left out).
    Raises InputError for a malformed bound or an outlet the corpus lacks."""
    problems = [f"parameter {name}: {value!r} is not an ISO date; write YYYY-MM-DD."
                for name, value in (("date_from", date_from), ("date_to", date_to))
                if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value))]
    known = set(documents["outlet"].dropna())
    problems += [f"parameter outlets: {o!r} is not an outlet of this corpus; the outlets are "
                 f"{', '.join(sorted(map(repr, known)))}." for o in outlets if o not in known]
    if problems:
        raise InputError(problems)
    keep = pd.Series(True, index=documents.index)
    notes = []
    if outlets:
        keep &= documents["outlet"].isin(list(outlets))
        notes.append(f"{int((~keep).sum())} document(s) from other outlets left out")
    if date_from or date_to:
        first, last = date_bounds(documents["published"])
        undated = first.isna()
        inside = ~undated
        if date_from:
            inside &= (last >= date_from).fillna(False).astype(bool)
        if date_to:
            inside &= (first <= date_to).fillna(False).astype(bool)
        notes.append(f"{int((keep & undated).sum())} undated and "
                     f"{int((keep & ~undated & ~inside).sum())} out-of-range document(s) "
                     "left out")
        keep &= inside
    return documents[keep].sort_values("doc_id").reset_index(drop=True), notes


ROWS_PER_FIGURE = 40


def per_document_or_outlet(table: pd.DataFrame, documents: pd.DataFrame,
                           limit: int = ROWS_PER_FIGURE) -> tuple:
    """A per-document table (index doc_id) as figure rows: unchanged when it
    has at most ``limit`` rows, else the mean per outlet ("(not given)" for
    none) for the ``limit`` outlets with most documents, by name. Returns
    (table, what a row is: "document" or "outlet")."""
    if len(table) <= limit:
        return table, "document"
    outlet = _outlets(documents).reindex(table.index)
    keep = outlet.isin(_largest(outlet.value_counts(), limit)).to_numpy()
    grouped = table[keep].groupby(outlet[keep].to_numpy(), sort=True).mean()
    grouped.index.name = "outlet"
    return grouped, "outlet"


def _outlets(documents: pd.DataFrame) -> pd.Series:
    """Each document's outlet by doc_id, "(not given)" where it has none."""
    return documents.set_index("doc_id")["outlet"].astype("string").fillna("(not given)")


def _largest(counts: pd.Series, limit: int) -> pd.Index:
    """The ``limit`` outlets with most documents; ties by name."""
    return counts.sort_index().sort_values(ascending=False, kind="stable").index[:limit]


class OutletMeans:
    """``per_document_or_outlet`` of a per-document table that comes in
    chunks of whole documents (DataFrames indexed by doc_id), without holding
    it: the chunks are kept only while they add up to at most ``limit`` rows;
    past that, each outlet's column sums and document count are added up, so
    memory grows with the outlets, not the documents. ``combine`` makes one
    table of several chunks' (or several chunks' sums; default: concatenated,
    sorted by doc_id). ``add(chunk)`` each chunk, then ``result()`` gives what
    per_document_or_outlet gives of the whole table (means of whole numbers
    exactly; of fractions, summed in another order, to the last bit or so)."""

    COMPACT = 32  # chunk sums held before they are added into one

    def __init__(self, documents: pd.DataFrame, limit: int = ROWS_PER_FIGURE, combine=None):
        self.outlet = _outlets(documents)
        self.limit = limit
        self.combine = combine or (lambda parts: pd.concat(parts).sort_index())
        self.held, self.rows, self.sums, self.counts = [], 0, [], []

    def add(self, chunk: pd.DataFrame) -> None:
        self.rows += len(chunk)
        self.held = self.held + [chunk] if self.rows <= self.limit else []
        outlet = self.outlet.reindex(chunk.index).to_numpy()
        self.sums.append(chunk.groupby(outlet, sort=True).sum())
        self.counts.append(pd.Series(outlet, dtype="string").value_counts())
        if len(self.sums) >= self.COMPACT:
            self.sums, self.counts = [self._sums()], [self._counts()]

    def _sums(self) -> pd.DataFrame:
        return self.combine(self.sums).groupby(level=0).sum()

    def _counts(self) -> pd.Series:
        return pd.concat(self.counts).groupby(level=0).sum()

    def result(self) -> tuple:
        """(table, what a row is: "document" or "outlet")."""
        if self.rows <= self.limit:
            return (self.combine(self.held) if self.held else pd.DataFrame()), "document"
        counts = self._counts()
        keep = sorted(_largest(counts, self.limit))
        grouped = self._sums().loc[keep].div(counts[keep].astype("float64"), axis=0)
        grouped.index.name = "outlet"
        return grouped, "outlet"


def top_counts(counts: pd.Series, limit: int = ROWS_PER_FIGURE) -> pd.Series:
    """The ``limit - 1`` largest counts and the rest summed as "(N others)"."""
    if len(counts) <= limit:
        return counts
    top = counts.sort_values(ascending=False, kind="stable").iloc[:limit - 1]
    rest = counts.drop(top.index)
    return pd.concat([top, pd.Series({f"({len(rest)} others)": rest.sum()})])
