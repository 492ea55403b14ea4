"""Linking body sentences to registered cases.

``link_segments(segments, registry)`` is a pure function from a segments
table (whole documents) to case mentions: aliases and surnames found in one
Hyperscan scan per batch, surnames resolved to a case named nearby, and
unmentioned sentences linked by their paragraph's single case.
"""

from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.parquet import shared_pylist
from ..core.text import (SLICE_BYTES, char_offsets, join_utf8, normalize_with_offsets,
                         same_positions, slices)
from .registry import Party, Registry

CONFIDENCE = {"alias": 1.0, "surname": 0.6, "context": 0.3}
_str = pa.string()
CASES = pa.schema([
    ("case_id", _str), ("title", _str), ("year", pa.int32()), ("place", _str),
    ("parties", _str), ("notes", _str), ("n_documents", pa.int32()), ("n_mentions", pa.int32()),
])
MENTIONS = pa.schema([
    ("doc_id", _str), ("segment_id", _str), ("paragraph_id", _str), ("case_id", _str),
    ("party_id", _str), ("role", _str), ("evidence", _str), ("start", pa.int64()),
    ("end", pa.int64()), ("confidence", pa.float64()), ("reason", _str),
])
LINK_COLUMNS = ["doc_id", "segment_id", "unit", "role", "parent_id", "text", "raw", "start",
                "end"]


class Found(NamedTuple):
    """One link of a sentence (its row in the segments table) to a case: by an
    alias or a surname at [start, end) of its normalised text, or by its
    paragraph's context (no span)."""

    row: int
    start: int | None
    end: int | None
    case_id: str | None  # None for a surname not yet resolved
    party: Party | None
    reason: str  # alias, surname or context (see CONFIDENCE)
    surname: str = ""


def link_segments(segments, registry: Registry) -> pa.Table:
    """Case mentions in the body sentences of a segments table (whole
    documents), in reading order: one row per alias or surname mention, and
    one per unmentioned sentence linked by its paragraph's single case."""
    if not isinstance(segments, pa.Table):
        segments = pa.Table.from_pandas(segments, preserve_index=False)
    is_para = pc.equal(segments["unit"], "paragraph").fill_null(False)
    is_body_sentence = pc.and_(pc.equal(segments["unit"], "sentence"),
                               pc.equal(segments["role"], "body")).fill_null(False)
    # rows as lists, without the strings no step reads (a huge document is one batch)
    cols = {c: segments[c].to_pylist() for c in ("segment_id", "start", "end")}
    cols.update({c: shared_pylist(segments[c]) for c in ("doc_id", "parent_id")})
    cols["text"] = pc.if_else(is_body_sentence, segments["text"], None).to_pylist()
    raw = pc.if_else(is_para, segments["raw"], None).to_pylist()
    para_raw = {(cols["doc_id"][i], cols["segment_id"][i]): (raw[i], cols["start"][i])
                for i in np.flatnonzero(is_para.to_numpy()).tolist()}
    del raw
    out = {name: [] for name in MENTIONS.names}
    docs = {}
    for i in np.flatnonzero(is_body_sentence.to_numpy()).tolist():
        docs.setdefault(cols["doc_id"][i], []).append(i)
    hits = _scan_sentences(registry, cols["text"], [i for rows in docs.values() for i in rows])
    scanner = registry.scanner()
    owners = scanner.owners
    for doc, rows in docs.items():
        found = []
        for i in rows:
            spans = []
            mine = hits.of(i)
            # aliases: leftmost-longest, not overlapping one another
            for s_, e_, x in sorted((h for h in mine if owners[h[2]].kind == "alias"),
                                    key=lambda h: (h[0], -h[1])):
                if not any(a < e_ and s_ < b for a, b in spans):
                    found.append(Found(i, s_, e_, owners[x].case_id, owners[x].party, "alias"))
                    spans.append((s_, e_))
            for s_, e_, x in sorted(h for h in mine if owners[h[2]].kind == "surname"):
                if not any(a <= s_ < b for a, b in spans):
                    found.append(Found(i, s_, e_, None, None, "surname", owners[x].surname))
        linked = {f.case_id for f in found if f.reason == "alias"}
        resolved = []
        for f in found:
            if f.reason == "alias":
                resolved.append(f)
                continue
            options = [(c, p) for c, p in scanner.surnames[f.surname] if c in linked]
            choice = _nearest(options, f, found, cols) if len(options) > 1 else (
                options[0] if options else None)
            if choice:
                resolved.append(f._replace(case_id=choice[0], party=choice[1]))
        by_paragraph = {}
        for f in resolved:
            by_paragraph.setdefault(cols["parent_id"][f.row], set()).add(f.case_id)
        mentioned = {f.row for f in resolved}
        for i in rows:
            cases = by_paragraph.get(cols["parent_id"][i], set())
            if i not in mentioned and len(cases) == 1:
                resolved.append(Found(i, None, None, next(iter(cases)), None, "context"))
        resolved.sort(key=lambda f: (f.row, -1 if f.start is None else f.start, f.case_id))
        for i, s, e, case, party, reason, _ in resolved:
            raw, pstart = para_raw[(doc, cols["parent_id"][i])]
            sraw = raw[cols["start"][i] - pstart:cols["end"][i] - pstart]
            if s is None:
                rs, re_ = 0, len(sraw)
            elif same_positions(sraw, cols["text"][i]):
                rs, re_ = s, e
            else:
                _, smap, emap = normalize_with_offsets(sraw)
                rs, re_ = smap[s], emap[e - 1]
            out["doc_id"].append(doc)
            out["segment_id"].append(cols["segment_id"][i])
            out["paragraph_id"].append(cols["parent_id"][i])
            out["case_id"].append(case)
            out["party_id"].append(party.party_id if party else None)
            out["role"].append(party.role if party else None)
            out["evidence"].append(sraw[rs:re_])
            out["start"].append(cols["start"][i] + rs)
            out["end"].append(cols["start"][i] + re_)
            out["confidence"].append(CONFIDENCE[reason])
            out["reason"].append(reason)
    return pa.Table.from_pydict(out, schema=MENTIONS)


class _Hits:
    """Alias and surname matches as one array of distinct rows (sentence
    row, start, end, expression), sorted; ``of(row)`` gives a sentence's as
    (start, end, expression) tuples. An array, not a dict of sets: a huge
    document has millions of matches."""

    def __init__(self, hits: np.ndarray):
        self.hits = np.unique(hits, axis=0) if len(hits) else hits
        self.rows = self.hits[:, 0]

    def of(self, row: int) -> list:
        lo, hi = np.searchsorted(self.rows, row), np.searchsorted(self.rows, row, "right")
        return [tuple(h) for h in self.hits[lo:hi, 1:].tolist()]


def _scan_sentences(registry, texts, rows) -> _Hits:
    """Every alias and surname match in the given sentences, character
    offsets: one Hyperscan scan per slice of about SLICE_BYTES of them (no
    match crosses a sentence)."""
    db = registry.scanner().db
    out = [np.zeros((0, 4), dtype=np.int64)]
    for lo, hi in slices([len(texts[i]) for i in rows], SLICE_BYTES):
        part = rows[lo:hi]
        data, starts = join_utf8([texts[i] for i in part])
        found = []
        db.scan(data, match_event_handler=lambda x, s, e, f, c: found.append((x, s, e)))
        if not found:
            continue
        hits = np.array(found, dtype=np.int64)
        del found
        starts = np.asarray(starts, dtype=np.int64)
        which = np.searchsorted(starts, hits[:, 1], side="right") - 1
        chars = char_offsets(data)
        base = chars[starts[which]]
        out.append(np.stack([np.asarray(part, dtype=np.int64)[which], chars[hits[:, 1]] - base,
                             chars[hits[:, 2]] - base, hits[:, 0]], axis=1))
    return _Hits(np.concatenate(out))


def _nearest(options, mention: Found, found: list, cols):
    """Of several linked cases sharing a surname, the one named by an alias in
    the same paragraph, else the one named last before the mention, else the
    first named after it."""
    para = cols["parent_id"][mention.row]
    cases = {c for c, _ in options}
    aliases = [f for f in found if f.reason == "alias" and f.case_id in cases]
    same = [f for f in aliases if cols["parent_id"][f.row] == para]
    before = [f for f in aliases if (f.row, f.start) < (mention.row, mention.start)]
    pick = (same or before or aliases)
    if not pick:
        return None
    chosen = (max if (same or before) else min)(pick, key=lambda f: (f.row, f.start)).case_id
    return next(o for o in options if o[0] == chosen)


def cases_table(registry: Registry, mentions: pa.Table) -> pa.Table:
    """One row per registered case, with how many documents and mentions link to it."""
    docs, counts = {}, {}
    for case, doc in zip(mentions["case_id"].to_pylist(), mentions["doc_id"].to_pylist()):
        docs.setdefault(case, set()).add(doc)
        counts[case] = counts.get(case, 0) + 1
    rows = [{"case_id": c.case_id, "title": c.title, "year": c.year, "place": c.place,
             "parties": "; ".join(f"{p.name} ({p.role})" for p in c.parties),
             "notes": c.notes, "n_documents": len(docs.get(c.case_id, ())),
             "n_mentions": counts.get(c.case_id, 0)} for c in registry.cases]
    return pa.Table.from_pylist(rows, schema=CASES)
