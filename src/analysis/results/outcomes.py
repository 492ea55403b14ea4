"""RQ2, case outcomes: what happened in the cases, and whom it favoured.

Pure functions: pandas DataFrames in, DataFrames out, with the columns each
docstring names. They never read files, so the notebooks, the tests and a
partitioned dataframe can all call them. Rows are sorted, so a table's CSV is
the same bytes whenever its inputs are.
"""

import pandas as pd
import pyarrow as pa

from ..cases.events import EVENTS, SIDES
from ..cases.ledger import ledger
from .selection import date_bounds


def outcomes_by_type(case_events: pd.DataFrame, events: list) -> pd.DataFrame:
    """Events per type (codebook order) and side favoured: index event, columns
    accuser, accused, neutral, unresolved, total."""
    out = pd.crosstab(case_events["event"], case_events["favours"])
    out = out.reindex(index=events, columns=list(SIDES), fill_value=0)
    out.index.name = "event"
    out.columns.name = None
    out["total"] = out.sum(axis=1)
    return out.astype("int64")


def timeline(case_events: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Dated events for a timeline: case_id, case (title), event, favours,
    date (ISO as precise as known), when and until (the first and last day
    of that date, Timestamps), precision, approximate, doc_id, segment_id,
    evidence; sorted by
    case, date and place. Undated events are left out; count them with
    ``case_events['date'].isna()``."""
    dated = case_events[case_events["date"].notna()].copy()
    first, last = date_bounds(dated["date"])
    dated["when"] = pd.to_datetime(first, format="%Y-%m-%d")
    dated["until"] = pd.to_datetime(last, format="%Y-%m-%d")
    titles = dict(zip(cases["case_id"], cases["title"]))
    dated["case"] = dated["case_id"].map(titles)
    dated = dated.rename(columns={"date_precision": "precision",
                                  "date_approximate": "approximate"})
    cols = ["case_id", "case", "event", "favours", "date", "when", "until", "precision",
            "approximate", "doc_id", "segment_id", "evidence"]
    return dated[cols].sort_values(["case_id", "when", "doc_id", "segment_id"]).reset_index(
        drop=True)


def case_ledger(case_events: pd.DataFrame, cases: pd.DataFrame, documents: pd.DataFrame):
    """The case ledger (see ``cases.ledger``) of the given events: one row
    per registered case, so a selection of documents gets its own ledger."""
    events = pa.Table.from_pandas(case_events, schema=EVENTS, preserve_index=False)
    titles = dict(zip(cases["case_id"], cases["title"]))
    order = dict(zip(documents["doc_id"], documents["published"]))
    return ledger(events, titles, order).to_pandas()
