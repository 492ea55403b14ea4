"""Manual coding sheets for outcome events, and the event finder against them.

An event sheet is a CSV with one row per event a coder finds in a body
paragraph (the paragraph sheets' format does not fit: an event has a case,
a side and a date, not a 0/1):

    unit       paragraph
    doc_id     the article (documents.parquet)
    segment_id the body paragraph (p1, p2, ...)
    coder      a coder id registered in data/coding/coders.csv
    case_id    a registered case (cases.parquet)
    event      an outcome code id (outcome.appeal, ...); ``none`` for a
               paragraph coded as reporting no event; empty: not coded yet
    side       whom the event favours: accuser, accused, neutral, unresolved
    date       YYYY, YYYY-MM or YYYY-MM-DD; empty when the text gives none
    note       optional: the coder's remark
    text       optional, ignored on load: the paragraph, for the coder

A paragraph reporting two events of one type for one case with one side has
one row. The sheets live in the coding folder's ``events/`` subfolder
(development) and its ``events/evaluation/`` (evaluation, held out as for
paragraph sheets: ``sheets.coding_sets``, ``sheets.held_out_problems``).

Agreement is per event type, at paragraph level:

- ``presence``: each coded paragraph × event type as 0/1, in the paragraph
  sheets' long form, so that ``agreement.alpha_table`` (between coders) and
  ``agreement.agreement`` (the finder against the consensus: precision,
  recall, F1, alpha, bootstrap intervals) apply unchanged;
- ``side_alpha``: alpha of the side between coders, over (paragraph, case,
  type) written by two or more;
- ``event_agreement``: the finder's presence figures per set and type, and,
  for every human event row in a paragraph where the finder has that type,
  whether the finder links it to the coder's case, gives the coder's side
  and the coder's date (equal at the coarser precision).
"""

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..cases.events import SIDES
from ..core.errors import InputError
from ..core.fileio import from_spreadsheet
from . import agreement
from .sheets import SETS, body_paragraphs, sheet_rows

EVENTS_DIR = "events"  # the subfolder of a coding folder holding event sheets
NONE = "none"
REQUIRED = ("unit", "doc_id", "segment_id", "coder", "case_id", "event", "side", "date")
OPTIONAL = ("note", "text")
ROWS = ["sheet", "line", "unit", "doc_id", "segment_id", "coder", "case_id", "event", "side",
        "date", "note"]
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def is_event_sheet(path) -> bool:
    """Whether the CSV at ``path`` is an event sheet (its header has case_id)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    return "case_id" in [h.strip() for h in header]


def blank_event_sheet(units: pd.DataFrame, coder: str) -> pd.DataFrame:
    """A sheet to fill in: one row per paragraph of ``units`` (from
    ``sheets.sample_units``), event, case, side and date empty, the text last.
    The coder writes ``none`` or the paragraph's first event in its row and
    adds a row, copying doc_id and segment_id, for each further event."""
    out = units[["unit", "doc_id", "segment_id"]].assign(
        coder=coder, case_id="", event="", side="", date="", note="")
    return out.assign(text=units["text"])[list(REQUIRED + OPTIONAL)]


def read_event_sheets(paths, event_codes: list, case_ids, documents: pd.DataFrame,
                      segments: pd.DataFrame, coders: dict) -> pd.DataFrame:
    """Every row of the event sheets with an event (or ``none``), as a
    DataFrame (columns ``ROWS``). Refuses the sheets (InputError listing every
    problem with file, line and column) for missing or unknown columns, a unit
    other than paragraph, unknown documents, paragraphs, coders, event types
    or cases, a side or date not in the format, a ``none`` row with a case,
    side or date or beside an event of the same paragraph and coder, and one
    event written twice."""
    known, cases, docs = set(event_codes), set(case_ids), set(documents["doc_id"])
    paras = body_paragraphs(segments)
    problems, rows, seen = [], [], {}
    for path in map(Path, paths):
        for line, row in sheet_rows(path, REQUIRED, OPTIONAL, "an event sheet's", problems):
            where = f"{path}, line {line}"
            found = _row_problems(row, where, known, cases, docs, paras, coders)
            if not row["event"]:
                if any(row[c] for c in ("case_id", "side", "date")):
                    found.append(f"{where}, column event: empty, but the row has a case, side "
                                 f"or date; write the event type, or {NONE} for no event.")
                problems += found
                continue
            key = (row["doc_id"], row["segment_id"], row["coder"], row["case_id"],
                   row["event"], row["side"])
            if key in seen:
                found.append(f"{where}: {row['coder']} wrote this event for this paragraph "
                             f"already ({seen[key]}); keep one row.")
            seen[key] = f"{path.name}, line {line}"
            problems += found
            rows.append({"sheet": path.name, "line": line, **{c: row[c] for c in REQUIRED},
                         "note": from_spreadsheet(row.get("note") or "")})
    out = pd.DataFrame(rows, columns=ROWS)
    problems += _none_beside_events(out)
    if problems:
        raise InputError(problems)
    return out.astype({"line": "int64"})


def _row_problems(row, where, known, cases, docs, paras, coders) -> list:
    out = []
    doc, seg, event = row["doc_id"], row["segment_id"], row["event"]
    if row["unit"] != "paragraph":
        out.append(f"{where}, column unit: {row['unit']!r}; events are coded per body "
                   "paragraph, write paragraph.")
    elif doc not in docs:
        out.append(f"{where}, column doc_id: {doc!r} is not a document of the processed "
                   "corpus; check the id against documents.parquet.")
    elif (doc, seg) not in paras:
        out.append(f"{where}, column segment_id: {seg!r} is not a body paragraph of {doc}; use "
                   "an id such as p1 from segments.parquet.")
    if row["coder"] not in coders:
        out.append(f"{where}, column coder: {row['coder']!r} is not a registered coder; add "
                   "them to data/coding/coders.csv.")
    if not event:
        return out
    if event == NONE:
        if any(row[c] for c in ("case_id", "side", "date")):
            out.append(f"{where}: a {NONE} row has no case, side or date; clear them, or write "
                       "the event type.")
        return out
    if event not in known:
        out.append(f"{where}, column event: {event!r} is not an outcome event type; write one "
                   f"of {', '.join(sorted(known))}, or {NONE}.")
    if row["case_id"] not in cases:
        out.append(f"{where}, column case_id: {row['case_id']!r} is not a registered case; use "
                   "an id from cases.parquet (src/analysis/instruments/cases.yaml), or code "
                   "only registered cases.")
    if row["side"] not in SIDES:
        out.append(f"{where}, column side: {row['side']!r} is not a side; write "
                   f"{', '.join(SIDES)}.")
    if row["date"] and not _valid_date(row["date"]):
        out.append(f"{where}, column date: {row['date']!r} is not a date; write YYYY, YYYY-MM "
                   "or YYYY-MM-DD, or leave it empty when the text gives none.")
    return out


def _valid_date(text: str) -> bool:
    m = _DATE.fullmatch(text)
    if not m:
        return False
    if m.group(3):
        return not pd.isna(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))
    return not m.group(2) or 1 <= int(m.group(2)) <= 12


def _none_beside_events(rows: pd.DataFrame) -> list:
    """A ``none`` row where the same coder also wrote an event for the paragraph."""
    key = ["doc_id", "segment_id", "coder"]
    none = rows[rows["event"] == NONE]
    clash = none.merge(rows[rows["event"] != NONE][key].drop_duplicates(), on=key)
    return [f"{r.sheet}, line {r.line}: {r.coder} wrote {NONE} for {r.doc_id} {r.segment_id} "
            "and also an event for it; delete the none row." for r in clash.itertuples()]


def presence(coded: pd.DataFrame, event_codes: list) -> pd.DataFrame:
    """Every (set, paragraph, coder) of ``coded`` × every event type, with
    value 1 when the coder wrote that type there and 0 otherwise: the
    paragraph sheets' long form (unit, doc_id, segment_id, coder, code,
    value, note: the coder's notes on those events)."""
    key = ["set", "doc_id", "segment_id", "coder"]
    units = coded[key].drop_duplicates()
    grid = units.merge(pd.DataFrame({"code": list(event_codes)}), how="cross")
    hits = (coded[coded["event"] != NONE].groupby(key + ["event"], sort=False)["note"]
            .agg(lambda s: "; ".join(n for n in s if n)).reset_index()
            .rename(columns={"event": "code"}).assign(value=1))
    out = grid.merge(hits, on=key + ["code"], how="left")
    return out.assign(unit="paragraph", value=out["value"].fillna(0).astype("int64"),
                      note=out["note"].fillna(""))


def to_paragraphs(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with each sentence id (p3.s2) replaced by its paragraph's
    (p3), the unit event sheets code."""
    return events.assign(segment_id=events["segment_id"].str.replace(r"\..*", "", regex=True))


def finder_codes(events: pd.DataFrame, unlinked: pd.DataFrame) -> pd.DataFrame:
    """The event finder's events, linked to a case or not, as body codes
    (doc_id, segment_id, code, indicator, evidence, role) for
    ``agreement.dictionary_values`` and ``agreement.disagreements``; the
    segment ids as given (paragraph ids after ``to_paragraphs``)."""
    cols = ["doc_id", "segment_id", "event", "indicator", "evidence"]
    both = pd.concat([events[cols], unlinked[cols]], ignore_index=True)
    return both.rename(columns={"event": "code"}).assign(role="body")


def side_alpha(coded: pd.DataFrame, event_codes: list) -> pd.DataFrame:
    """Alpha of the side between coders per event type and pooled, over the
    (paragraph, case, type) that two or more coders wrote (when a coder gave
    one key two sides, the first in side order counts), both sets together
    as ``agreement.alpha_table`` does: columns unit, code, units, coders,
    alpha, verdict."""
    rows = coded[coded["event"] != NONE]
    rows = rows.assign(value=rows["side"].map({s: i for i, s in enumerate(SIDES)}),
                       unit_key=rows["doc_id"] + "\0" + rows["segment_id"] + "\0"
                       + rows["case_id"] + "\0" + rows["event"])
    rows = rows.sort_values("value", kind="stable")
    out = [agreement.alpha_row("paragraph", code, rows[rows["event"] == code])
           for code in event_codes if (rows["event"] == code).any()]
    if len(rows):
        out.append(agreement.alpha_row("paragraph", "(pooled)", rows))
    return pd.DataFrame(out, columns=["unit", "code", "units", "coders", "alpha", "verdict"]
                        ).astype({"alpha": "float64"})


MATCH = ["events", "case_right", "side_right", "dated", "date_right"]


def event_agreement(coded: pd.DataFrame, events: pd.DataFrame, unlinked: pd.DataFrame,
                    event_codes: list, seed: int = 0,
                    n_boot: int = agreement.BOOTSTRAP) -> pd.DataFrame:
    """The event finder against the human coders, per set (evaluation
    first) and event type, then pooled: ``agreement.COLUMNS`` for presence
    against the consensus, then, over the human event rows (every coder's)
    in paragraphs where the finder has that type: ``events`` compared,
    ``case_right`` (the finder links that type there to the coder's case),
    ``side_right`` (... and one of those events favours the coder's side),
    ``dated`` (... and both give a date) and ``date_right`` (the dates agree
    at the coarser precision)."""
    units = presence(coded, event_codes)
    # only the documents the sheets code (the events of a corpus may be millions)
    events, unlinked = (to_paragraphs(t[t["doc_id"].isin(coded["doc_id"].unique())])
                        for t in (events, unlinked))
    found = finder_codes(events, unlinked)
    parts = []
    for name in SETS:
        rows = units[units["set"] == name]
        if rows.empty:
            continue
        cons = agreement.consensus(rows)
        table = agreement.agreement(cons, agreement.dictionary_values(cons, found),
                                    list(event_codes), seed, n_boot)
        match = _matches(coded[(coded["set"] == name) & (coded["event"] != NONE)], events,
                         found)
        counts = match.groupby("event")[MATCH].sum()
        counts.loc["(pooled)"] = match[MATCH].sum()
        parts.append(table.join(counts, on="code").assign(set=name))
    columns = ["set", *agreement.COLUMNS, *MATCH]
    if not parts:
        return pd.DataFrame(columns=columns).astype({c: "float64" for c in agreement.FLOATS})
    out = pd.concat(parts, ignore_index=True)[columns]
    out[MATCH] = out[MATCH].fillna(0).astype("int64")
    return out


def _matches(human: pd.DataFrame, events: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """Per human event row: whether the finder has its type in the paragraph
    (``events``), links it to the coder's case, favours the coder's side, and
    gives a date that agrees (the counts ``MATCH``, 0 or 1 each)."""
    typed = set(zip(found["doc_id"], found["segment_id"], found["code"]))
    finder = {}
    for d, s, e, c, side, date in events[["doc_id", "segment_id", "event", "case_id",
                                          "favours", "date"]].itertuples(index=False):
        sides, dates = finder.setdefault((d, s, e, c), (set(), set()))
        sides.add(side)
        if isinstance(date, str) and date:
            dates.add(date)
    rows = []
    for d, s, e, c, side, date in human[["doc_id", "segment_id", "event", "case_id", "side",
                                         "date"]].itertuples(index=False):
        has = (d, s, e) in typed
        sides, dates = finder.get((d, s, e, c), (None, set())) if has else (None, set())
        right_side = sides is not None and side in sides
        dated = right_side and bool(date) and bool(dates)
        rows.append((e, int(has), int(sides is not None), int(right_side), int(dated),
                     int(dated and any(_same_date(date, x) for x in dates))))
    return pd.DataFrame(rows, columns=["event", *MATCH])


def _same_date(a: str, b: str) -> bool:
    """Two dates agree at the coarser precision: 2022-08 and 2022-08-11 do."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def status(table: pd.DataFrame) -> dict:
    """What the event sheets say about the events, for a caption: ``set``
    (evaluation, development, or None when no sheet codes the documents),
    the paragraphs compared, pooled F1; ``phrase`` a sentence on it with F1
    and side right, ``short`` a few words for a caption."""
    pooled = table[table["code"] == "(pooled)"]
    for name in SETS:
        row = pooled[pooled["set"] == name]
        if len(row):
            r = row.iloc[0]
            paragraphs = int(table.loc[(table["set"] == name) & (table["code"] != "(pooled)"),
                                       "units"].max())
            f1 = "undefined" if pd.isna(r["f1"]) else f"{r['f1']:.2f}"
            side = (f"{r['side_right'] / r['case_right']:.2f}" if r["case_right"]
                    else "undefined")
            short = (f"validated on {paragraphs} held-out paragraphs" if name == "evaluation"
                     else "not validated; development fit only")
            what = (short if name == "evaluation" else
                    f"not validated: only development fit, on {paragraphs} paragraphs the "
                    "finder may have been revised on")
            return {"set": name, "paragraphs": paragraphs, "f1": r["f1"], "short": short,
                    "phrase": f"{what} (events found: F1 {f1}; side right on {side} of the "
                              "events linked to the coder's case)"}
    return {"set": None, "paragraphs": 0, "f1": None, "short": "not validated",
            "phrase": "not validated: no event coding sheet covers these documents"}
