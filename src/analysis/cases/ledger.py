"""The case ledger: per case, the latest known status in each arena and the
balance of outcomes, every cell citing its evidence.

Events are ordered by the interval their date covers ("2021" is all of 2021,
"2021-09" all of September): by the interval's start, then its end. An
undated event could have happened at any time up to its article's date, so
it comes before every dated one. When the latest event of an arena and the
one before it have overlapping intervals and differ, the cell says the order
is uncertain and names the other event, rather than choosing silently.
"""

import pyarrow as pa

from ..core.parquet import shared_pylist
from .dates import day_span

_str = pa.string()
ARENAS = {"criminal": ("outcome.police_action", "outcome.prosecution"),
          "civil": ("outcome.civil_suit", "outcome.court_ruling", "outcome.appeal",
                    "outcome.settlement", "outcome.compensation"),
          "employment": ("outcome.employment", "outcome.discipline"),
          "public": ("outcome.allegation", "outcome.denial", "outcome.apology")}
LEDGER = pa.schema([("case_id", _str), ("title", _str), ("n_events", pa.int32()),
                    ("favour_accuser", pa.int32()), ("favour_accused", pa.int32()),
                    ("neutral", pa.int32()), ("unresolved", pa.int32()),
                    ("balance", pa.int32())]
                   + [(f"{a}{suffix}", _str) for a in ARENAS for suffix in ("", "_evidence")])


def interval(date: str | None, published: str | None = None) -> tuple:
    """(first, last) ISO day of an event's partial date; for an undated event,
    from the beginning of time ("") to the end of its article's date."""
    if not date:
        return "", day_span(published)[1] if published else ""
    return day_span(date)


def ledger(events: pa.Table, titles: dict, order: dict) -> pa.Table:
    """One row per case: for each arena the latest event (see the module's
    note on order) with whom it favoured and the evidence it rests on; the
    events favouring the accuser, the accused, neither (neutral) and those
    whose side could not be told (unresolved); and the balance, accuser
    minus accused. ``titles`` maps each registered case id to its title, in
    registry order; ``order`` maps doc_id to the article's published date
    (for undated events)."""
    # columns, not a dict per event: a huge article has hundreds of thousands
    cols = {c: shared_pylist(events[c]) for c in ("case_id", "doc_id", "event", "favours",
                                                  "date")}
    starts = events["start"].to_pylist()
    spans = [interval(d, order.get(doc)) for d, doc in zip(cols["date"], cols["doc_id"])]
    out = []
    for case_id, title in titles.items():
        mine = sorted((i for i, c in enumerate(cols["case_id"]) if c == case_id),
                      key=lambda i: (spans[i][0], spans[i][1], cols["doc_id"][i], starts[i]))
        favours = [cols["favours"][i] for i in mine]
        row = {"case_id": case_id, "title": title, "n_events": len(mine),
               "favour_accuser": favours.count("accuser"),
               "favour_accused": favours.count("accused"),
               "neutral": favours.count("neutral"), "unresolved": favours.count("unresolved")}
        row["balance"] = row["favour_accuser"] - row["favour_accused"]
        for arena, kinds in ARENAS.items():
            last = [i for i in mine if cols["event"][i] in kinds]
            if last:
                i = last[-1]
                r = {c: cols[c][i] for c in ("doc_id", "event", "favours", "date")}
                cell = (f"{_name(r['event'])} (favours {r['favours']}"
                        f"{', ' + r['date'] if r['date'] else ''})")
                if len(last) > 1:
                    j = last[-2]
                    overlap = spans[j][1] >= spans[i][0] or not spans[j][1]
                    differs = (cols["event"][j], cols["favours"][j]) != (r["event"], r["favours"])
                    if overlap and differs:
                        cell += (f"; order uncertain: {_name(cols['event'][j])} "
                                 f"(favours {cols['favours'][j]}) may be later")
                row[arena] = cell
                row[f"{arena}_evidence"] = (f"{r['doc_id']} {events['segment_id'][i].as_py()}: "
                                            f"{events['evidence'][i].as_py()!r}")
            else:
                row[arena] = row[f"{arena}_evidence"] = None
        out.append(row)
    return pa.Table.from_pylist(out, schema=LEDGER)


def _name(event: str) -> str:
    return event.split(".", 1)[1].replace("_", " ")
