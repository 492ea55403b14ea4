"""The case ledger: per case, the latest known status in each arena and the
balance of outcomes, every cell citing its evidence."""

import pyarrow as pa

from ..core.parquet import shared_pylist

_str = pa.string()
ARENAS = {"criminal": ("outcome.police_action", "outcome.prosecution"),
          "civil": ("outcome.civil_suit", "outcome.court_ruling", "outcome.appeal",
                    "outcome.settlement", "outcome.compensation"),
          "employment": ("outcome.employment", "outcome.discipline"),
          "public": ("outcome.allegation", "outcome.denial", "outcome.apology")}
LEDGER = pa.schema([("case_id", _str), ("title", _str), ("n_events", pa.int32()),
                    ("favour_accuser", pa.int32()), ("favour_accused", pa.int32()),
                    ("balance", pa.int32())]
                   + [(f"{a}{suffix}", _str) for a in ARENAS for suffix in ("", "_evidence")])


def ledger(events: pa.Table, titles: dict, order: dict) -> pa.Table:
    """One row per case: for each arena the latest event (by date, else by the
    article's date and position) with whom it favoured, and the evidence it
    rests on; and the balance of events favouring the accuser and the accused.
    ``titles`` maps each registered case id to its title, in registry order;
    ``order`` maps doc_id to the article's published date (for undated events)."""
    # columns, not a dict per event: a huge article has hundreds of thousands
    cols = {c: shared_pylist(events[c]) for c in ("case_id", "doc_id", "event", "favours",
                                                  "date")}
    starts = events["start"].to_pylist()
    out = []
    for case_id, title in titles.items():
        mine = sorted((i for i, c in enumerate(cols["case_id"]) if c == case_id),
                      key=lambda i: (cols["date"][i] or order.get(cols["doc_id"][i]) or "",
                                     cols["doc_id"][i], starts[i]))
        favours = [cols["favours"][i] for i in mine]
        row = {"case_id": case_id, "title": title, "n_events": len(mine),
               "favour_accuser": favours.count("accuser"),
               "favour_accused": favours.count("accused")}
        row["balance"] = row["favour_accuser"] - row["favour_accused"]
        for arena, kinds in ARENAS.items():
            last = [i for i in mine if cols["event"][i] in kinds]
            if last:
                i = last[-1]
                r = {c: cols[c][i] for c in ("doc_id", "event", "favours", "date")}
                r["segment_id"] = events["segment_id"][i].as_py()
                r["evidence"] = events["evidence"][i].as_py()
                row[arena] = (f"{r['event'].split('.', 1)[1].replace('_', ' ')} "
                              f"(favours {r['favours']}{', ' + r['date'] if r['date'] else ''})")
                row[f"{arena}_evidence"] = f"{r['doc_id']} {r['segment_id']}: {r['evidence']!r}"
            else:
                row[arena] = row[f"{arena}_evidence"] = None
        out.append(row)
    return pa.Table.from_pylist(out, schema=LEDGER)
