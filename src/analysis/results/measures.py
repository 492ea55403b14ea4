"""Codes as measures, shared by every research question: code lists and
labels, the codes each unit (paragraph or document) carries, shares and
co-occurrence.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import pandas as pd

from ..core.errors import InputError

UNITS = ("paragraph", "document")


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


def presence(doc_codes: pd.DataFrame, codes: list) -> pd.DataFrame:
    """Documents × codes: 1 where the code is present, 0 where not (index doc_id)."""
    rows = doc_codes[doc_codes["code"].isin(codes)]
    out = rows.pivot_table(index="doc_id", columns="code", values="present", aggfunc="first")
    return out.reindex(columns=codes).fillna(False).astype("int64").sort_index()


def documents_carrying(doc_codes: pd.DataFrame, codes: list) -> pd.Series:
    """Per code (in the order given): the documents where it is present; the
    counts of chunks of whole documents add up."""
    present = doc_codes[doc_codes["present"] & doc_codes["code"].isin(codes)]
    counts = present.groupby("code")["doc_id"].nunique()
    return pd.Series([int(counts.get(c, 0)) for c in codes], index=pd.Index(codes, name="code"),
                     dtype="int64")


def share_of_units(carried: pd.DataFrame, codes: list, n_units: int) -> pd.DataFrame:
    """For each code (in the order given): units carrying it and their share of
    ``n_units``; columns code, units, share."""
    return shares(cooccurrence(carried, codes, codes), codes, n_units)


def shares(pairs: pd.DataFrame, codes: list, n_units: int) -> pd.DataFrame:
    """``share_of_units`` from a co-occurrence table whose rows and columns
    hold ``codes`` (its diagonal: the units carrying each code), such as one
    added up over chunks of documents."""
    units = [int(pairs.at[c, c]) for c in codes]
    share = [u / n_units if n_units else 0.0 for u in units]
    return pd.DataFrame({"code": codes, "units": units, "share": share})


def cooccurrence(carried: pd.DataFrame, rows: list, cols: list) -> pd.DataFrame:
    """Units carrying both codes, for every (row code, column code) pair;
    a square table's diagonal is the units carrying the code at all. Units
    never span documents, so the tables of chunks of whole documents add up
    to the table of them all."""
    key = carried["doc_id"] + "\0" + carried["unit_id"]
    member = pd.crosstab(key, carried["code"]).clip(upper=1)
    a = member.reindex(columns=rows, fill_value=0).to_numpy(dtype="int64")
    b = member.reindex(columns=cols, fill_value=0).to_numpy(dtype="int64")
    return pd.DataFrame(a.T @ b, index=pd.Index(rows, name="code"), columns=cols)

