"""Outcome events (RQ2): which case, whom they favour, who acted on whom, when.

``detect_events(segments, mentions, book, published)`` codes body sentences
with the codebook's outcome indicators and makes one event per case,
sentence and event type, listing every indicator that fired on it (two
indicators of one event in one sentence are one event, not two). Each event
goes to the cases its sentence is linked to (``case_mentions``); when there
are several, to those whose parties the sentence names. A sentence with no
link of its own takes the single case of the paragraph before it (reason
``previous paragraph``), else the case the article named last before it
(``earlier in the article``) or, in a lede that names no one yet, first after
it (``later in the article``), each with a low confidence. For each case the
party (not an institution) named last before the evidence is the actor and
the first named from it on the target; when none is named, a pronoun ("he",
"她") refers back to the party of that pronoun named last. A passive verb
turns a rule about the target into one about the actor. The indicator's
``favours`` rule and the parties' sides (a supporter's side is the one the
registry gives it) decide whom the event favours:
``accuser``, ``accused``, ``neutral`` (an event that favours neither, such as
a suit being filed) or ``unresolved`` (the rule needed a party the sentence
does not name, or the indicators disagree). The date is the expression
nearest the evidence in its clause. Events whose sentence no registered case
explains go to ``unlinked_events`` with a hint.
"""

import re

import pyarrow as pa

from ..coding.coder import code_segments
from ..coding.schema import Codebook
from ..core.parquet import shared_pylist
from .dates import resolve

_str = pa.string()
EVENTS = pa.schema([
    ("case_id", _str), ("doc_id", _str), ("segment_id", _str), ("event", _str),
    ("indicator", _str), ("indicators", _str), ("favours", _str), ("favours_rule", _str),
    ("actor", _str), ("target", _str), ("ground", _str), ("date", _str),
    ("date_precision", _str), ("date_approximate", pa.bool_()), ("date_text", _str),
    ("evidence", _str), ("start", pa.int64()), ("end", pa.int64()),
    ("link_confidence", pa.float64()), ("link_reason", _str),
])
UNLINKED = pa.schema([
    ("doc_id", _str), ("segment_id", _str), ("event", _str), ("indicator", _str),
    ("evidence", _str), ("start", pa.int64()), ("end", pa.int64()), ("sentence", _str),
    ("hint", _str),
])
SIDES = ("accuser", "accused", "neutral", "unresolved")
OTHER = {"accuser": "accused", "accused": "accuser", "neutral": "neutral"}
HINT = ("no registered case is named in this sentence or its paragraph; if it reports a "
        "case, add the case and its parties' names to src/analysis/instruments/cases.yaml")
PREVIOUS_PARAGRAPH = 0.2  # the confidence of a link through the paragraph before
EARLIER = 0.1  # ... and through the case the article named last before the sentence
# a verb in the passive ("was fired and detained", 被拘留): the party acted on
# is named before it, so a rule about the target applies to the actor
_PASSIVE = re.compile(r"(?:\b(?i:was|were|been|being|is|are|got|gets|get)\b(?:\s+[\w-]+){0,3}"
                      r"\s*|[被遭]\S{0,12})$")


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


def detect_events(segments: pa.Table, mentions: pa.Table, book: Codebook, published: dict,
                  parties: dict | None = None):
    """(case_events, unlinked_events) for the body sentences of whole
    documents. ``parties`` maps (case_id, party_id) to the registry's Party,
    whose pronoun lets "he was fired" refer back to the party named last."""
    parties = parties or {}
    with_raw = sentences_with_raw(segments)
    codes, _ = code_segments(with_raw, book, "sentence")
    # only the sentences with an event: a huge document is one batch
    coded = set(zip(codes["doc_id"].to_pylist(), codes["segment_id"].to_pylist()))
    sentence, previous, place = {}, {}, {}
    last_para = {}
    for n, r in enumerate(_rows(with_raw.select(["doc_id", "segment_id", "unit", "parent_id",
                                                 "role", "raw", "start"]))):
        key = (r["doc_id"], r["segment_id"])
        place[key] = n
        if r["unit"] == "paragraph":
            if r["role"] == "body":  # the body paragraph before each one
                previous[key] = last_para.get(r["doc_id"])
                last_para[r["doc_id"]] = r["segment_id"]
        elif key in coded:
            sentence[key] = (r["raw"], r["start"], r["parent_id"])
    by_sentence, para_cases, in_article, referents = {}, {}, {}, {}
    for row in _rows(mentions):
        key = (row["doc_id"], row["segment_id"])
        para_cases.setdefault((row["doc_id"], row["paragraph_id"]), set()).add(row["case_id"])
        if row["reason"] != "context":  # the cases an article names, in reading order
            in_article.setdefault(row["doc_id"], []).append((place[key], row["case_id"]))
        if row["party_id"]:  # the parties it names, for pronouns to refer back to
            referents.setdefault((row["doc_id"], row["case_id"]), []).append(
                (place[key], row["start"], row))
        if key in coded:
            by_sentence.setdefault(key, []).append(row)
    indicators = {(i.code, i.id): i for i in book.indicators}
    events = {name: [] for name in EVENTS.names}
    unlinked = {name: [] for name in UNLINKED.names}
    for group in _grouped(codes):
        ev = group[0]
        key = (ev["doc_id"], ev["segment_id"])
        raw, sent_start, para = sentence[key]
        linked, reason = by_sentence.get(key, []), None
        if not linked:
            before = previous.get((ev["doc_id"], para))
            cases = para_cases.get((ev["doc_id"], before), set())
            if len(cases) == 1:
                linked = [{"case_id": next(iter(cases)), "party_id": None,
                           "confidence": PREVIOUS_PARAGRAPH}]
                reason = "previous paragraph"
            else:
                named = in_article.get(ev["doc_id"], ())
                earlier = [c for at, c in named if at < place[key]]
                later = [c for at, c in named if at > place[key]]
                if earlier or later:
                    # a lede often tells the event before it names anyone
                    linked = [{"case_id": earlier[-1] if earlier else later[0], "party_id": None,
                               "confidence": EARLIER}]
                    reason = "earlier in the article" if earlier else "later in the article"
        if not linked:
            for name, value in (("doc_id", ev["doc_id"]), ("segment_id", ev["segment_id"]),
                                ("event", ev["code"]), ("indicator", ev["indicator"]),
                                ("evidence", ev["evidence"]), ("start", ev["start"]),
                                ("end", ev["end"]), ("sentence", raw), ("hint", HINT)):
                unlinked[name].append(value)
            continue
        inds = [indicators[(g["code"], g["indicator"])] for g in group]
        when = resolve(raw, published.get(ev["doc_id"]), ev["start"] - sent_start)
        ground = next((g for i in inds for g in i.grounds if g.lower() in raw.lower()), None)
        cases = list(dict.fromkeys(m["case_id"] for m in linked))
        named = [c for c in cases if any(m["case_id"] == c and m["party_id"] for m in linked)]
        # a sentence linked to several cases: the event goes to those whose parties it names
        for case in (named if len(cases) > 1 and named else cases):
            named_parties = [m for m in linked if m["case_id"] == case and m["party_id"]]
            decided = []
            earlier = referents.get((ev["doc_id"], case), [])
            for g, ind in zip(group, inds):
                actor = _nearest(m for m in reversed(named_parties)
                                 if m["end"] <= g["start"])
                # the target may stand inside the evidence ("暂停了朱军的工作")
                target = _nearest(m for m in named_parties if m["start"] >= g["start"])
                at = g["start"] - sent_start
                if actor is None:  # "He was fired": the last party so called
                    actor = _referent(_pronoun(raw[:at], last=True), earlier, place[key],
                                      g["start"], parties, case)
                if target is None:  # "placed her on probation"
                    target = _referent(_pronoun(raw[at:], last=False), earlier, place[key],
                                       g["start"], parties, case)
                passive = _PASSIVE.search(raw, max(0, at - 40), at) is not None
                decided.append((*_favours(ind.favours, actor, target, passive), actor, target))
            favours, rule, actor, target = _agreed(decided)
            link = [m for m in linked if m["case_id"] == case]
            row = {"case_id": case, "doc_id": ev["doc_id"], "segment_id": ev["segment_id"],
                   "event": ev["code"], "indicator": ev["indicator"],
                   "indicators": ",".join(dict.fromkeys(g["indicator"] for g in group)),
                   "favours": favours, "favours_rule": rule,
                   "actor": actor["party_id"] if actor else None,
                   "target": target["party_id"] if target else None, "ground": ground,
                   "date": when.date if when else None,
                   "date_precision": when.precision if when else None,
                   "date_approximate": when.approximate if when else None,
                   "date_text": when.text if when else None, "evidence": ev["evidence"],
                   "start": ev["start"], "end": ev["end"],
                   "link_confidence": max(m["confidence"] for m in link),
                   "link_reason": reason or max(link, key=lambda m: m["confidence"])["reason"]}
            for name in EVENTS.names:
                events[name].append(row[name])
    return (pa.Table.from_pydict(events, schema=EVENTS),
            pa.Table.from_pydict(unlinked, schema=UNLINKED))


_PRONOUN = re.compile(r"\b(?i:(he|him|his)|(she|her|hers))\b|(他)|(她)")


def _pronoun(text: str, last: bool) -> str:
    """"he" or "she" for the last (or first) personal pronoun in ``text``
    within its clause, "" when there is none."""
    clause = re.split(r"[.;:,，。；：]", text)
    found = list(_PRONOUN.finditer(clause[-1] if last else clause[0]))
    if not found:
        return ""
    m = found[-1] if last else found[0]
    return "he" if (m.group(1) or m.group(3)) else "she"


def _referent(pronoun: str, earlier: list, place: int, start: int, parties: dict, case: str):
    """The party of ``case`` the article named last before (place, start)
    whose registry pronoun is ``pronoun``, as a mention-like dict, or None."""
    if not pronoun:
        return None
    for at, s, m in reversed(earlier):
        party = parties.get((case, m["party_id"]))
        if (at, s) < (place, start) and party and party.pronoun == pronoun \
                and party.role != "institution":
            return {**m, "start": None, "end": None}
    return None


def _nearest(candidates):
    """The first party of ``candidates`` (nearest first) that is not an
    institution: a company, university or court named beside an event is
    seldom the party it befalls, so an event whose only named party is one
    stays unresolved rather than being read as neutral."""
    return next((m for m in candidates if m["role"] != "institution"), None)


def _grouped(codes: pa.Table):
    """The body evidence of each (document, sentence, event type), in reading
    order: one list per event, its first piece of evidence first."""
    groups = {}
    for ev in _rows(codes):
        if ev["role"] == "body":
            groups.setdefault((ev["doc_id"], ev["segment_id"], ev["code"]), []).append(ev)
    return groups.values()


def _agreed(decided: list) -> tuple:
    """(side, rule, actor, target) of an event from its indicators' decisions:
    their common side; a side over neutral and unresolved; unresolved over
    neutral (an indicator that could have told did not); unresolved when
    they disagree."""
    sides = {d[0] for d in decided}
    if len(sides) == 1:
        return decided[0]
    firm = [d for d in decided if d[0] in ("accuser", "accused")]
    if firm and len({d[0] for d in firm}) == 1:
        return firm[0]
    if not firm:
        return next(d for d in decided if d[0] == "unresolved")
    rules = "; ".join(f"{d[1]} -> {d[0]}" for d in decided)
    return "unresolved", f"indicators disagree ({rules})", decided[0][2], decided[0][3]


def _rows(table: pa.Table, size: int = 65_536):
    """The rows of a table as dicts, converted a batch at a time."""
    for batch in table.to_batches(max_chunksize=size):
        yield from batch.to_pylist()


def _favours(rule: str, actor, target, passive: bool = False):
    """(side, how it was decided) for an indicator's favours rule; a rule
    about the target applies to the actor when the verb is passive;
    unresolved when the rule needs a party the sentence does not name."""
    if rule in ("accuser", "accused", "neutral", "unresolved"):
        return rule, "fixed by the indicator"
    name = rule.replace("_", " ")
    if passive and rule.endswith("_target"):
        party, name = actor, name.replace("target", "actor") + " (passive)"
    else:
        party = actor if rule.endswith("_actor") else target
    if party is None:
        return "unresolved", f"{name}: no party named"
    side = party["side"] or "neutral"
    side = side if rule.startswith("for_") else OTHER[side]
    return side, (f"{name}: {party['party_id']} ({party['role']}"
                  + (f" of the {party['side']}" if party["role"] == "supporter" else "") + ")")
