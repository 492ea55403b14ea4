"""RQ1, framing: how articles frame allegations and the movement.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import pandas as pd

from .measures import codes_of


def frame_scores(doc_codes: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Generic frames per document: index doc_id, one column per frame (codebook
    order) holding its Semetko & Valkenburg score (share of questions answered
    yes; 0 means absent)."""
    frames = codes_of(labels, "generic_frame")
    rows = doc_codes[doc_codes["code"].isin(frames)]
    out = rows.pivot_table(index="doc_id", columns="code", values="share_of_questions",
                           aggfunc="first")
    return out.reindex(columns=frames).fillna(0.0).sort_index()


LENGTH = {"n_paragraphs": "body paragraphs", "n_body_chars": "body characters"}


def with_length(table: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """``table`` (indexed by doc_id) with each document's length beside it:
    its body paragraphs and characters (a long article has more chances to
    answer a frame question yes)."""
    length = documents.set_index("doc_id")[list(LENGTH)].rename(columns=LENGTH)
    return table.join(length, how="left")
