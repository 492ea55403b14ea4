"""The corpus and its cleaning: what was analysed, and what cleaning kept.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import pandas as pd


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
    """Documents per publication year, every year from the first to the last
    (a year without documents shows 0, so the axis keeps time), then
    "(not given)" for undated documents when there are any."""
    year = documents["published"].astype("string").str.slice(0, 4)
    year = year.where(year.str.fullmatch(r"\d{4}").fillna(False).astype(bool))
    counts = year.dropna().astype(int).value_counts()
    years = (range(counts.index.min(), counts.index.max() + 1) if len(counts) else [])
    out = pd.DataFrame({"year": [str(y) for y in years],
                        "documents": [int(counts.get(y, 0)) for y in years]})
    undated = int(year.isna().sum())
    if undated:
        out.loc[len(out)] = ["(not given)", undated]
    return out.astype({"documents": "int64"})


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


def added_audits(audits: list) -> pd.DataFrame:
    """``cleaning_audit`` of a whole table from those of chunks of whole
    documents (a document is in one chunk, so its counts add up)."""
    both = pd.concat(audits, ignore_index=True)
    out = (both.groupby(["role", "kept", "rule"], sort=True, dropna=False)
           [["documents", "lines", "chars"]].sum().reset_index())
    return out[["role", "kept", "rule", "documents", "lines", "chars"]].astype(
        {c: "int64" for c in ("documents", "lines", "chars")})


ROLE_ORDER = ["title", "body", "caption", "credit", "comment", "boilerplate"]


def roles_by_document(lines: pd.DataFrame) -> pd.DataFrame:
    """Characters of each document's raw lines per role (blank lines left
    out): index doc_id, one column per role in a fixed order."""
    text = lines[lines["role"] != "blank"]
    out = (text.assign(chars=text["end"] - text["start"])
           .pivot_table(index="doc_id", columns="role", values="chars", aggfunc="sum",
                        fill_value=0))
    return _role_columns(out)


def joined_roles(parts: list) -> pd.DataFrame:
    """``roles_by_document`` of a whole table from those of chunks of whole
    documents."""
    return _role_columns(pd.concat(parts).fillna(0))


def _role_columns(table: pd.DataFrame) -> pd.DataFrame:
    cols = ([r for r in ROLE_ORDER if r in table.columns]
            + sorted(set(table.columns) - set(ROLE_ORDER)))
    return table.reindex(columns=cols).sort_index().astype("int64")
