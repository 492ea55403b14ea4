"""RQ3, backlash: which themes of the backlash the coverage carries, and
beside which frames and outcomes.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import numpy as np
import pandas as pd

from .measures import share_of_units


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
