"""RQ3, backlash: which themes of the backlash the coverage carries, and
beside which frames and outcomes.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import numpy as np
import pandas as pd

from .measures import shares


def theme_prevalence(documents: pd.Series, pairs: pd.DataFrame, themes: list,
                     n_documents: int, n_units: int):
    """Per theme: documents carrying it (``documents``, from
    ``measures.documents_carrying``) and their share of ``n_documents``,
    units carrying it (the diagonal of ``pairs``, a co-occurrence table
    whose rows and columns hold the themes) and their share of ``n_units``."""
    docs = [int(documents.get(t, 0)) for t in themes]
    units = shares(pairs, themes, n_units)
    return pd.DataFrame({"code": themes, "documents": docs,
                         "document_share": [d / n_documents if n_documents else 0.0
                                            for d in docs],
                         "units": units["units"], "unit_share": units["share"]})


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
    more, kept in the order given (reading order).

    A row is drawn when its hash (of its values and the seed) is among the
    ``per_code`` smallest of its code's, so the sample of a table equals the
    sample of the samples of its parts: a notebook can draw it chunk by
    chunk (``kwic_sample(pd.concat([sample, chunk]), ...)``)."""
    if table.empty:
        return table
    key = f"{seed % 10**16:016d}"  # the hash function's 16-character key
    h = pd.util.hash_pandas_object(table, index=False, hash_key=key).to_numpy()
    order = np.lexsort((np.arange(len(table)), h, table["code"].to_numpy()))
    codes = table["code"].to_numpy()[order]
    rank = np.arange(len(order)) - np.searchsorted(codes, codes, side="left")
    keep = np.sort(order[rank < per_code])
    return table.iloc[keep].reset_index(drop=True)
