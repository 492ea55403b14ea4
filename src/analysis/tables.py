"""The report's tables, computed from the processed tables.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import calendar
import re

import numpy as np
import pandas as pd

from .errors import InputError

UNITS = ("paragraph", "document")
SIDES = ("accuser", "accused", "neutral")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


# -- selecting documents ---------------------------------------------------

def date_bounds(published: pd.Series) -> tuple:
    """(first, last) ISO day of each partial date ("2021", "2021-09",
    "2021-09-14"); missing or malformed dates give missing bounds."""
    text = published.astype("string")
    text = text.where(text.str.fullmatch(_DATE.pattern).fillna(False).astype(bool))
    first = text.map(lambda d: (d + "-01-01")[:10], na_action="ignore").astype("string")
    last = text.map(_last_day, na_action="ignore").astype("string")
    return first, last


def _last_day(date: str) -> str:
    parts = date.split("-")
    if len(parts) == 3:
        return date
    month = int(parts[1]) if len(parts) == 2 else 12
    return f"{parts[0]}-{month:02d}-{calendar.monthrange(int(parts[0]), month)[1]:02d}"


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


# -- corpus and cleaning ----------------------------------------------------

def corpus_overview(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per document: doc_id, outlet, kind, published, date_basis,
    language, format, paragraphs, sentences, body_chars, comment_paragraphs."""
    out = documents[["doc_id", "outlet", "kind", "published", "date_basis", "language",
                     "format", "n_paragraphs", "n_sentences", "n_body_chars",
                     "n_comment_paragraphs"]]
    out = out.rename(columns={"n_paragraphs": "paragraphs", "n_sentences": "sentences",
                              "n_body_chars": "body_chars",
                              "n_comment_paragraphs": "comment_paragraphs"})
    return out.sort_values("doc_id").reset_index(drop=True)


def count_by(documents: pd.DataFrame, column: str) -> pd.DataFrame:
    """Documents per value of ``column`` (missing values as "(not given)"):
    columns ``column`` and documents, most frequent first, then by value."""
    values = documents[column].astype("string").fillna("(not given)")
    out = values.value_counts().rename_axis(column).reset_index(name="documents")
    return out.sort_values(["documents", column], ascending=[False, True]).reset_index(drop=True)


def documents_by_year(documents: pd.DataFrame) -> pd.DataFrame:
    """Documents per publication year ("(not given)" for undated), by year."""
    year = documents["published"].astype("string").str.slice(0, 4)
    year = year.where(year.str.fullmatch(r"\d{4}").fillna(False).astype(bool))
    out = year.fillna("(not given)").value_counts().rename_axis("year").reset_index(
        name="documents")
    return out.sort_values("year").reset_index(drop=True)


def cleaning_audit(lines: pd.DataFrame) -> pd.DataFrame:
    """What cleaning kept and removed: one row per (role, rule) with lines and
    characters (documents, lines, chars), sorted by role then rule. Blank lines
    are left out; role ``body`` and ``title`` were kept, the rest removed."""
    text = lines[lines["role"] != "blank"]
    out = (text.assign(chars=text["end"] - text["start"])
           .groupby(["role", "rule"], sort=True, dropna=False)
           .agg(documents=("doc_id", "nunique"), lines=("line_no", "size"),
                chars=("chars", "sum"))
           .reset_index())
    out.insert(1, "kept", out["role"].isin(["body", "title"]))
    return out


def roles_by_document(lines: pd.DataFrame) -> pd.DataFrame:
    """Characters of each document's raw lines per role (blank lines left
    out): index doc_id, one column per role in a fixed order."""
    order = ["title", "body", "caption", "credit", "comment", "boilerplate"]
    text = lines[lines["role"] != "blank"]
    out = (text.assign(chars=text["end"] - text["start"])
           .pivot_table(index="doc_id", columns="role", values="chars", aggfunc="sum",
                        fill_value=0))
    cols = [r for r in order if r in out.columns] + sorted(set(out.columns) - set(order))
    return out.reindex(columns=cols).sort_index().astype("int64")


# -- codes -------------------------------------------------------------------

def codes_of(labels: pd.DataFrame, family: str, questions=False) -> list:
    """Code ids of a family in codebook order; for generic frames the frames,
    or with ``questions`` their questions."""
    rows = labels[labels["family"] == family]
    if family == "generic_frame":
        rows = rows[rows["parent"].notna() == questions]
    return rows["code"].tolist()


def label_map(labels: pd.DataFrame) -> dict:
    """{code id: label}; a frame question's label is prefixed by its frame."""
    parents = dict(zip(labels["code"], labels["label"]))
    return {c: (f"{parents[p].removesuffix(' frame')} {lab}" if isinstance(p, str) else lab)
            for c, lab, p in zip(labels["code"], labels["label"], labels["parent"])}


def unit_codes(codes: pd.DataFrame, labels: pd.DataFrame, unit: str = "paragraph"):
    """Which units carry which codes, body text only: one row per (doc_id,
    unit_id, code), sorted. A paragraph carrying a frame question also carries
    its frame. ``unit`` is paragraph or document (unit_id then equals doc_id)."""
    if unit not in UNITS:
        raise InputError(f"parameter unit: {unit!r} is not a unit of analysis; use one of "
                         f"{', '.join(UNITS)}.")
    body = codes[codes["role"] == "body"]
    parent = dict(zip(labels["code"], labels["parent"]))
    frames = body["code"].map(parent).dropna()
    rows = pd.concat([body[["doc_id", "segment_id", "code"]],
                      body.loc[frames.index, ["doc_id", "segment_id"]].assign(code=frames)])
    rows = rows.rename(columns={"segment_id": "unit_id"})
    if unit == "document":
        rows["unit_id"] = rows["doc_id"]
    return rows.drop_duplicates().sort_values(["doc_id", "unit_id", "code"]).reset_index(
        drop=True)


def units_total(documents: pd.DataFrame, unit: str) -> int:
    """How many units the selected documents hold (body paragraphs, or documents)."""
    return int(documents["n_paragraphs"].sum()) if unit == "paragraph" else len(documents)


def frame_scores(doc_codes: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Generic frames per document: index doc_id, one column per frame (codebook
    order) holding its Semetko & Valkenburg score (share of questions answered
    yes; 0 means absent)."""
    frames = codes_of(labels, "generic_frame")
    rows = doc_codes[doc_codes["code"].isin(frames)]
    out = rows.pivot_table(index="doc_id", columns="code", values="score", aggfunc="first")
    return out.reindex(columns=frames).fillna(0.0).sort_index()


def presence(doc_codes: pd.DataFrame, codes: list) -> pd.DataFrame:
    """Documents × codes: 1 where the code is present, 0 where not (index doc_id)."""
    rows = doc_codes[doc_codes["code"].isin(codes)]
    out = rows.pivot_table(index="doc_id", columns="code", values="present", aggfunc="first")
    return out.reindex(columns=codes).fillna(False).astype("int64").sort_index()


def share_of_units(carried: pd.DataFrame, codes: list, n_units: int) -> pd.DataFrame:
    """For each code (in the order given): units carrying it and their share of
    ``n_units``; columns code, units, share."""
    counts = carried[carried["code"].isin(codes)].groupby("code")["unit_id"].size()
    units = [int(counts.get(c, 0)) for c in codes]
    share = [u / n_units if n_units else 0.0 for u in units]
    return pd.DataFrame({"code": codes, "units": units, "share": share})


def cooccurrence(carried: pd.DataFrame, rows: list, cols: list) -> pd.DataFrame:
    """Units carrying both codes, for every (row code, column code) pair;
    a square table's diagonal is the units carrying the code at all."""
    key = carried["doc_id"] + "\0" + carried["unit_id"]
    member = pd.crosstab(key, carried["code"]).clip(upper=1)
    a = member.reindex(columns=rows, fill_value=0).to_numpy()
    b = member.reindex(columns=cols, fill_value=0).to_numpy()
    return pd.DataFrame(a.T @ b, index=pd.Index(rows, name="code"), columns=cols)


def theme_prevalence(doc_codes, carried, themes: list, n_documents: int, n_units: int):
    """Per theme: documents carrying it and their share of ``n_documents``,
    units carrying it and their share of ``n_units``."""
    docs = share_of_units(doc_codes[doc_codes["present"]].rename(columns={"doc_id": "unit_id"}),
                          themes, n_documents)
    units = share_of_units(carried, themes, n_units)
    return pd.DataFrame({"code": themes, "documents": docs["units"],
                         "document_share": docs["share"], "units": units["units"],
                         "unit_share": units["share"]})


def event_units(case_events: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The units holding each outcome event: one row per (doc_id, unit_id,
    code), the code being the event type."""
    if unit == "paragraph":
        uid = case_events["segment_id"].str.split(".", n=1).str[0]
    else:
        uid = case_events["doc_id"]
    out = pd.DataFrame({"doc_id": case_events["doc_id"], "unit_id": uid,
                        "code": case_events["event"]})
    return out.drop_duplicates().sort_values(["doc_id", "unit_id", "code"]).reset_index(drop=True)


def kwic_sample(table: pd.DataFrame, per_code: int, seed: int) -> pd.DataFrame:
    """Up to ``per_code`` rows per code, drawn with ``seed`` when there are
    more, kept in reading order."""
    if table.empty:
        return table
    rng = np.random.default_rng(seed)
    keep = []
    for _, rows in table.groupby("code", sort=True):
        idx = rows.index.to_numpy()
        if len(idx) > per_code:
            idx = np.sort(rng.choice(idx, per_code, replace=False))
        keep.extend(idx)
    return table.loc[keep].reset_index(drop=True)


# -- outcomes ------------------------------------------------------------------

def outcomes_by_type(case_events: pd.DataFrame, events: list) -> pd.DataFrame:
    """Events per type (codebook order) and side favoured: index event, columns
    accuser, accused, neutral, total."""
    out = pd.crosstab(case_events["event"], case_events["favours"])
    out = out.reindex(index=events, columns=list(SIDES), fill_value=0)
    out.index.name = "event"
    out.columns.name = None
    out["total"] = out.sum(axis=1)
    return out.astype("int64")


def timeline(case_events: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Dated events for a timeline: case_id, case (title), event, favours,
    date (ISO as precise as known), when (the first day of that date, a
    Timestamp), precision, approximate, doc_id, segment_id, evidence; sorted by
    case, date and place. Undated events are left out; count them with
    ``case_events['date'].isna()``."""
    dated = case_events[case_events["date"].notna()].copy()
    first, _ = date_bounds(dated["date"])
    dated["when"] = pd.to_datetime(first, format="%Y-%m-%d")
    titles = dict(zip(cases["case_id"], cases["title"]))
    dated["case"] = dated["case_id"].map(titles)
    dated = dated.rename(columns={"date_precision": "precision",
                                  "date_approximate": "approximate"})
    cols = ["case_id", "case", "event", "favours", "date", "when", "precision", "approximate",
            "doc_id", "segment_id", "evidence"]
    return dated[cols].sort_values(["case_id", "when", "doc_id", "segment_id"]).reset_index(
        drop=True)


def case_ledger(case_events: pd.DataFrame, cases: pd.DataFrame, documents: pd.DataFrame):
    """The case ledger (see ``events.ledger``) of the given events: one row
    per registered case, so a selection of documents gets its own ledger."""
    import pyarrow as pa
    from types import SimpleNamespace

    from .events import EVENTS, ledger

    registry = SimpleNamespace(cases=[SimpleNamespace(case_id=c, title=t) for c, t in
                                      zip(cases["case_id"], cases["title"])])
    events = pa.Table.from_pandas(case_events, schema=EVENTS, preserve_index=False)
    order = dict(zip(documents["doc_id"], documents["published"]))
    return ledger(events, registry, order).to_pandas()


# -- keeping figures readable on large corpora ----------------------------------

ROWS_PER_FIGURE = 40


def per_document_or_outlet(table: pd.DataFrame, documents: pd.DataFrame,
                           limit: int = ROWS_PER_FIGURE) -> tuple:
    """A per-document table (index doc_id) as figure rows: unchanged when it
    has at most ``limit`` rows, else the mean per outlet ("(not given)" for
    none) for the ``limit`` outlets with most documents, by name. Returns
    (table, what a row is: "document" or "outlet")."""
    if len(table) <= limit:
        return table, "document"
    outlet = documents.set_index("doc_id")["outlet"].astype("string").fillna("(not given)")
    outlet = outlet.reindex(table.index)
    biggest = outlet.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    keep = outlet.isin(biggest.index[:limit]).to_numpy()
    grouped = table[keep].groupby(outlet[keep].to_numpy(), sort=True).mean()
    grouped.index.name = "outlet"
    return grouped, "outlet"


def top_counts(counts: pd.Series, limit: int = ROWS_PER_FIGURE) -> pd.Series:
    """The ``limit - 1`` largest counts and the rest summed as "(N others)"."""
    if len(counts) <= limit:
        return counts
    top = counts.sort_values(ascending=False, kind="stable").iloc[:limit - 1]
    rest = counts.drop(top.index)
    return pd.concat([top, pd.Series({f"({len(rest)} others)": rest.sum()})])
