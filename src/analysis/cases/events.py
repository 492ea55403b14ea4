"""Outcome events (RQ2): which case, whom they favour, who acted on whom, when.

``detect_events(segments, mentions, book, published)`` codes body sentences
with the codebook's outcome indicators and links each event to the cases its
sentence is linked to (``case_mentions``); when there are several, to those
whose parties the sentence names. For each case it takes the party
named last before the evidence as the actor and the first named after it as
the target, applies the indicator's ``favours`` rule, looks for the suit's
ground, and resolves the sentence's date against the article's. Events whose
sentence no registered case explains go to ``unlinked_events`` with a hint.
"""

import pyarrow as pa

from ..coding.coder import code_segments
from ..coding.schema import Codebook
from ..core.parquet import shared_pylist
from .dates import resolve

_str = pa.string()
EVENTS = pa.schema([
    ("case_id", _str), ("doc_id", _str), ("segment_id", _str), ("event", _str),
    ("indicator", _str), ("favours", _str), ("favours_rule", _str), ("actor", _str),
    ("target", _str), ("ground", _str), ("date", _str), ("date_precision", _str),
    ("date_approximate", pa.bool_()), ("date_text", _str), ("evidence", _str),
    ("start", pa.int64()), ("end", pa.int64()), ("link_confidence", pa.float64()),
])
UNLINKED = pa.schema([
    ("doc_id", _str), ("segment_id", _str), ("event", _str), ("indicator", _str),
    ("evidence", _str), ("start", pa.int64()), ("end", pa.int64()), ("sentence", _str),
    ("hint", _str),
])
SIDE = {"accuser": "accuser", "supporter": "accuser", "accused": "accused",
        "institution": "neutral"}
OTHER = {"accuser": "accused", "accused": "accuser", "neutral": "neutral"}
HINT = ("no registered case is named in this sentence or its paragraph; if it reports a "
        "case, add the case and its parties' names to src/analysis/instruments/cases.yaml")


def sentences_with_raw(segments: pa.Table) -> pa.Table:
    """The sentence rows of a segments table, each with its own raw text (the
    slice of its paragraph's raw text that its offsets give)."""
    cols = {c: segments[c].to_pylist() for c in ("segment_id", "raw", "start", "end")}
    cols.update({c: shared_pylist(segments[c]) for c in ("doc_id", "unit", "parent_id")})
    paras = {(d, s): (r, st) for d, s, u, r, st in zip(cols["doc_id"], cols["segment_id"],
                                                       cols["unit"], cols["raw"], cols["start"])
             if u == "paragraph"}
    raws = []
    for d, u, p, s, e in zip(cols["doc_id"], cols["unit"], cols["parent_id"], cols["start"],
                             cols["end"]):
        if u == "sentence":
            raw, ps = paras[(d, p)]
            raws.append(raw[s - ps:e - ps])
        else:
            raws.append(None)
    return segments.set_column(segments.column_names.index("raw"), "raw", pa.array(raws, _str))


def detect_events(segments: pa.Table, mentions: pa.Table, book: Codebook, published: dict):
    """(case_events, unlinked_events) for the body sentences of whole documents."""
    codes, _ = code_segments(sentences_with_raw(segments), book, "sentence")
    # only the sentences with an event: a huge document is one batch
    coded = set(zip(codes["doc_id"].to_pylist(), codes["segment_id"].to_pylist()))
    text = {(r["doc_id"], r["segment_id"]): r["text"]
            for r in _rows(segments.select(["doc_id", "segment_id", "text"]))
            if (r["doc_id"], r["segment_id"]) in coded}
    by_sentence = {}
    for row in _rows(mentions):
        if (row["doc_id"], row["segment_id"]) in coded:
            by_sentence.setdefault((row["doc_id"], row["segment_id"]), []).append(row)
    indicators = {(i.code, i.id): i for i in book.indicators}
    events = {name: [] for name in EVENTS.names}
    unlinked = {name: [] for name in UNLINKED.names}
    for ev in _rows(codes):
        if ev["role"] != "body":
            continue
        key = (ev["doc_id"], ev["segment_id"])
        linked = by_sentence.get(key, [])
        if not linked:
            for name, value in (("doc_id", ev["doc_id"]), ("segment_id", ev["segment_id"]),
                                ("event", ev["code"]), ("indicator", ev["indicator"]),
                                ("evidence", ev["evidence"]), ("start", ev["start"]),
                                ("end", ev["end"]), ("sentence", text[key]), ("hint", HINT)):
                unlinked[name].append(value)
            continue
        ind = indicators[(ev["code"], ev["indicator"])]
        when = resolve(text[key], published.get(ev["doc_id"]))
        ground = next((g for g in ind.grounds if g.lower() in text[key].lower()), None)
        cases = list(dict.fromkeys(m["case_id"] for m in linked))
        named = [c for c in cases if any(m["case_id"] == c and m["party_id"] for m in linked)]
        # a sentence linked to several cases: the event goes to those whose parties it names
        for case in (named if len(cases) > 1 and named else cases):
            parties = [m for m in linked if m["case_id"] == case and m["party_id"]]
            actor = next((m for m in reversed(parties) if m["end"] <= ev["start"]), None)
            target = next((m for m in parties if m["start"] >= ev["end"]), None)
            favours, rule = _favours(ind.favours, actor, target)
            row = {"case_id": case, "doc_id": ev["doc_id"], "segment_id": ev["segment_id"],
                   "event": ev["code"], "indicator": ev["indicator"], "favours": favours,
                   "favours_rule": rule, "actor": actor["party_id"] if actor else None,
                   "target": target["party_id"] if target else None, "ground": ground,
                   "date": when.date if when else None,
                   "date_precision": when.precision if when else None,
                   "date_approximate": when.approximate if when else None,
                   "date_text": when.text if when else None, "evidence": ev["evidence"],
                   "start": ev["start"], "end": ev["end"],
                   "link_confidence": max(m["confidence"] for m in linked
                                          if m["case_id"] == case)}
            for name in EVENTS.names:
                events[name].append(row[name])
    return (pa.Table.from_pydict(events, schema=EVENTS),
            pa.Table.from_pydict(unlinked, schema=UNLINKED))


def _rows(table: pa.Table, size: int = 65_536):
    """The rows of a table as dicts, converted a batch at a time."""
    for batch in table.to_batches(max_chunksize=size):
        yield from batch.to_pylist()


def _favours(rule: str, actor, target):
    """(side, how it was decided) for an indicator's favours rule."""
    if rule in ("accuser", "accused", "neutral"):
        return rule, "fixed by the indicator"
    party = actor if rule == "against_actor" else target
    if party is None:
        return "neutral", f"{rule.replace('_', ' ')}: no party named"
    side = SIDE[party["role"]]
    side = side if rule == "for_target" else OTHER[side]
    return side, f"{rule.replace('_', ' ')}: {party['party_id']} ({party['role']})"
