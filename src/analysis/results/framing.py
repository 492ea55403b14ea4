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
    out = rows.pivot_table(index="doc_id", columns="code", values="score", aggfunc="first")
    return out.reindex(columns=frames).fillna(0.0).sort_index()
