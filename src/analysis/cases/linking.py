"""Linking body sentences to registered cases.

``link_segments(segments, registry)`` is a pure function from a segments
table (whole documents) to case mentions: aliases and surnames found by
Hyperscan, surnames resolved to a case named nearby, and unmentioned
sentences linked by their paragraph's single case. ``Linker`` does the same
in two passes over a huge document's pieces.
"""

from array import array
from bisect import bisect_left

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.parquet import shared_pylist
from ..core.text import (SLICE_BYTES, char_offsets, join_utf8, normalize_with_offsets,
                         same_positions, slices)
from .registry import Registry

CONFIDENCE = {"alias": 1.0, "surname": 0.6, "descriptor": 0.6, "context": 0.3}
# surnames that are also English words: at the start of a sentence and before
# a lower-case word ("He said"), they are that word, not the name
WORD_LIKE_SURNAMES = frozenset({"He", "Ma", "Yu", "Du", "Su", "An", "Mo", "Bo", "Gu", "So"})
_OPENING = " \"'“‘(["
_str = pa.string()
CASES = pa.schema([
    ("case_id", _str), ("title", _str), ("year", pa.int32()), ("place", _str),
    ("parties", _str), ("notes", _str), ("n_documents", pa.int32()), ("n_mentions", pa.int32()),
])
MENTIONS = pa.schema([
    ("doc_id", _str), ("segment_id", _str), ("paragraph_id", _str), ("case_id", _str),
    ("party_id", _str), ("role", _str), ("side", _str), ("evidence", _str),
    ("start", pa.int64()),
    ("end", pa.int64()), ("confidence", pa.float64()), ("reason", _str),
])
LINK_COLUMNS = ["doc_id", "segment_id", "unit", "role", "parent_id", "text", "raw", "start",
                "end"]


def link_segments(segments, registry: Registry) -> pa.Table:
    """Case mentions in the body sentences of a segments table (whole
    documents), in reading order: one row per alias or surname mention, and
    one per unmentioned sentence linked by its paragraph's single case."""
    if not isinstance(segments, pa.Table):
        segments = pa.Table.from_pandas(segments, preserve_index=False)
    linker = Linker(registry)
    linker.scan(segments)
    linker.resolve()
    return linker.mentions(segments)


_ALIAS, _SURNAME, _CONTEXT, _DESCRIPTOR = 0, 1, 2, 3
_REASONS = ("alias", "surname", "context", "descriptor")


class Linker:
    """Links the documents of a segments table given in pieces, in two
    passes, so that a huge document is never held whole: ``scan`` each piece
    in order (its alias and surname matches are kept as arrays), ``resolve``
    (surnames to a case named nearby in the whole document, and context
    links), then ask for the ``mentions`` of each piece again, in the same
    order. Pieces hold whole paragraphs (a paragraph row, then its
    sentences, as the corpus build writes them)."""

    def __init__(self, registry: Registry):
        self.scanner = registry.scanner()
        # expression ids of the surnames that are also English words
        self._word_like = np.array([x for x, o in enumerate(self.scanner.owners)
                                    if o.kind == "surname" and o.surname in WORD_LIKE_SURNAMES],
                                   dtype=np.int64)
        self.case_ids = sorted({c.case_id for c in registry.cases})
        self.parties = [p for c in registry.cases for p in c.parties]
        self._party_index = {id(p): n for n, p in enumerate(self.parties)}
        self.scanned = self.emitted = 0
        self._docs = {}
        self._sentences, self._hits = [], []
        self.found = None

    def scan(self, piece: pa.Table) -> None:
        """Keep the alias and surname matches of a piece's body sentences."""
        off = self.scanned
        self.scanned += piece.num_rows
        is_para = pc.equal(piece["unit"], "paragraph").fill_null(False)
        is_body = pc.and_(pc.equal(piece["unit"], "sentence"),
                          pc.equal(piece["role"], "body")).fill_null(False)
        body = np.flatnonzero(is_body.to_numpy(zero_copy_only=False))
        if not len(body):
            return
        doc_ids, parents = shared_pylist(piece["doc_id"]), shared_pylist(piece["parent_id"])
        paras = np.flatnonzero(is_para.to_numpy(zero_copy_only=False))
        para_row = {(doc_ids[i], sid): off + i for i, sid in
                    zip(paras.tolist(), piece["segment_id"].take(paras).to_pylist())}
        docs = self._docs
        # per body sentence: its row, its document and its paragraph's row
        self._sentences.append(np.array(
            [(off + i, docs.setdefault(doc_ids[i], len(docs)),
              para_row[(doc_ids[i], parents[i])]) for i in body.tolist()],
            dtype=np.int64).reshape(-1, 3))
        del doc_ids, parents, para_row
        texts = piece["text"].take(body).to_pylist()
        which, start, end, expr = _scan_sentences(self.scanner.db, texts)
        keep = self._not_pronouns(texts, which, start, end, expr)
        self._hits.append(np.stack([off + body[which], start, end, expr], axis=1)[keep])

    def _not_pronouns(self, texts, which, start, end, expr) -> np.ndarray:
        """False for a surname that is also an English word ("He") standing at
        the start of its sentence before a lower-case word: the pronoun."""
        keep = np.ones(len(which), dtype=bool)
        # only the few hits of such surnames are looked at, one by one
        for n in np.flatnonzero(np.isin(expr, self._word_like)).tolist():
            text, s_, e_ = texts[which[n]], int(start[n]), int(end[n])
            after = text[e_:].lstrip(" ,")
            keep[n] = bool(text[:s_].strip(_OPENING)) or after[:1].isupper()
        return keep

    def resolve(self) -> None:
        """Every mention of the documents scanned, as arrays sorted in reading
        order: aliases (leftmost-longest, not overlapping one another) and
        surnames not inside an alias, resolved to a case an alias names in the
        document; then unmentioned sentences linked by their paragraph's
        single case."""
        empty = np.zeros((0, 3), dtype=np.int64)
        sentences = np.concatenate([empty, *self._sentences])
        hits = np.concatenate([np.zeros((0, 4), dtype=np.int64), *self._hits])
        self._sentences = self._hits = None
        hits = np.unique(hits, axis=0) if len(hits) else hits
        rows, sent_doc, sent_para = sentences[:, 0], sentences[:, 1], sentences[:, 2]
        at = np.searchsorted(rows, hits[:, 0])
        hit_doc, hit_para = sent_doc[at], sent_para[at]
        out = {name: array("q") for name in ("row", "start", "end", "case", "party", "reason")}
        rank = {c: n for n, c in enumerate(self.case_ids)}
        # documents are contiguous runs of rows, each resolved on its own
        doc_starts = np.flatnonzero(np.diff(sent_doc)) + 1
        hit_starts = np.searchsorted(hit_doc, sent_doc[doc_starts])
        for (slo, shi), (hlo, hhi) in zip(_runs(doc_starts, len(rows)),
                                          _runs(hit_starts, len(hits))):
            resolved = self._resolve(self._accepted(hits[hlo:hhi], hit_para[hlo:hhi]))
            cases = {}
            for row, s_, e_, case, party, reason, para in resolved:
                out["row"].append(row)
                out["start"].append(s_)
                out["end"].append(e_)
                out["case"].append(rank[case])
                out["party"].append(-1 if party is None else self._party_index[id(party)])
                out["reason"].append(reason)
                cases.setdefault(para, set()).add(case)
            # an unmentioned sentence takes its paragraph's single case
            single = {p: rank[next(iter(c))] for p, c in cases.items() if len(c) == 1}
            s_rows, s_para = rows[slo:shi], sent_para[slo:shi]
            linked = np.isin(s_para, np.fromiter(single, dtype=np.int64, count=len(single)))
            linked &= ~np.isin(s_rows, np.fromiter((f[0] for f in resolved), dtype=np.int64,
                                                   count=len(resolved)))
            n = int(linked.sum())
            out["row"].extend(s_rows[linked].tolist())
            out["start"].extend([-1] * n)
            out["end"].extend([-1] * n)
            out["case"].extend(single[p] for p in s_para[linked].tolist())
            out["party"].extend([-1] * n)
            out["reason"].extend([_CONTEXT] * n)
        found = {name: np.frombuffer(a, dtype=np.int64) if len(a) else np.zeros(0, np.int64)
                 for name, a in out.items()}
        # reading order: by sentence, the context link (no start) first, then by start, case
        order = np.lexsort((found["case"], found["start"], found["row"]))
        self.found = {name: a[order] for name, a in found.items()}

    def _accepted(self, hits: np.ndarray, paras: np.ndarray) -> list:
        """A document's matches that count, as (row, start, end, expression,
        paragraph): per sentence its aliases (leftmost-longest, not
        overlapping one another), then its surnames not inside one of them."""
        owners = self.scanner.owners
        found = []
        for lo, hi in _runs(np.flatnonzero(np.diff(hits[:, 0])) + 1, len(hits)):
            row, para = int(hits[lo, 0]), int(paras[lo])
            mine = [tuple(h) for h in hits[lo:hi, 1:].tolist()]
            spans = []
            for s_, e_, x in sorted((h for h in mine if owners[h[2]].kind == "alias"),
                                    key=lambda h: (h[0], -h[1])):
                if not any(a < e_ and s_ < b for a, b in spans):
                    found.append((row, s_, e_, x, para))
                    spans.append((s_, e_))
            for s_, e_, x in sorted(h for h in mine if owners[h[2]].kind != "alias"):
                if not any(a <= s_ < b for a, b in spans):
                    found.append((row, s_, e_, x, para))
        return found

    def _resolve(self, found: list) -> list:
        """(row, start, end, case_id, party, reason, paragraph) of each of a
        document's matches that links: every alias; each surname of a case
        that an alias in the document names; each descriptor ("his wife") of
        a case an alias names before it in the document or in its own
        paragraph (of several cases, see _Nearest)."""
        owners, surnames = self.scanner.owners, self.scanner.surnames
        aliases = [(f[0], f[1], f[4], owners[f[3]].case_id) for f in found
                   if owners[f[3]].kind == "alias"]
        linked = {a[3] for a in aliases}
        nearest = _Nearest(aliases)
        out = []
        for row, s_, e_, x, para in found:
            o = owners[x]
            if o.kind == "alias":
                out.append((row, s_, e_, o.case_id, o.party, _ALIAS, para))
                continue
            options = [(c, p) for c, p in surnames[o.surname] if c in linked]
            if o.kind == "descriptor":
                options = [(c, p) for c, p in options if nearest.named_before(c, row, s_, para)]
            if len(options) > 1:
                chosen = nearest.case({c for c, _ in options}, row, s_, para)
                options = [opt for opt in options if opt[0] == chosen]
            if options:
                out.append((row, s_, e_, options[0][0], options[0][1],
                            _DESCRIPTOR if o.kind == "descriptor" else _SURNAME, para))
        return out

    def mentions(self, piece: pa.Table) -> pa.Table:
        """The MENTIONS rows of the next piece (the pieces scanned, in the
        same order), with their evidence in the raw text."""
        off = self.emitted
        self.emitted += piece.num_rows
        f = self.found
        lo, hi = np.searchsorted(f["row"], [off, off + piece.num_rows]).tolist()
        out = {name: [] for name in MENTIONS.names}
        if lo == hi:
            return pa.Table.from_pydict(out, schema=MENTIONS)
        # only the sentences with a mention, and their paragraphs, as Python objects
        mine = np.unique(f["row"][lo:hi] - off)
        at = {r: n for n, r in enumerate(mine.tolist())}
        cols = {c: piece[c].take(mine).to_pylist()
                for c in ("doc_id", "segment_id", "parent_id", "start", "end", "text")}
        is_para = pc.equal(piece["unit"], "paragraph").fill_null(False)
        paras = np.flatnonzero(is_para.to_numpy(zero_copy_only=False))
        wanted = set(zip(cols["doc_id"], cols["parent_id"]))
        keys = list(zip(piece["doc_id"].take(paras).to_pylist(),
                        piece["segment_id"].take(paras).to_pylist()))
        take = [n for n, key in enumerate(keys) if key in wanted]
        para_raw = {keys[n]: (raw, st) for n, raw, st in zip(
            take, piece["raw"].take(paras[take]).to_pylist(),
            piece["start"].take(paras[take]).to_pylist())}
        del keys, take, wanted
        case_ids, parties = self.case_ids, self.parties
        for i, s, e, case, party, reason in zip(
                (f["row"][lo:hi] - off).tolist(),
                *(f[c][lo:hi].tolist() for c in ("start", "end", "case", "party", "reason"))):
            j = at[i]
            doc, parent, start = cols["doc_id"][j], cols["parent_id"][j], cols["start"][j]
            raw, pstart = para_raw[(doc, parent)]
            sraw = raw[start - pstart:cols["end"][j] - pstart]
            if reason == _CONTEXT:
                rs, re_ = 0, len(sraw)
            elif same_positions(sraw, cols["text"][j]):
                rs, re_ = s, e
            else:
                _, smap, emap = normalize_with_offsets(sraw)
                rs, re_ = smap[s], emap[e - 1]
            p = parties[party] if party >= 0 else None
            out["doc_id"].append(doc)
            out["segment_id"].append(cols["segment_id"][j])
            out["paragraph_id"].append(parent)
            out["case_id"].append(case_ids[case])
            out["party_id"].append(p.party_id if p else None)
            out["role"].append(p.role if p else None)
            out["side"].append(p.side if p else None)
            out["evidence"].append(sraw[rs:re_])
            out["start"].append(start + rs)
            out["end"].append(start + re_)
            out["confidence"].append(CONFIDENCE[_REASONS[reason]])
            out["reason"].append(_REASONS[reason])
        return pa.Table.from_pydict(out, schema=MENTIONS)


def _runs(starts: np.ndarray, n: int) -> list:
    """[lo, hi) of the runs of n items that begin at 0 and at each of ``starts``."""
    if not n:
        return []
    edges = [0, *np.asarray(starts).tolist(), n]
    return list(zip(edges[:-1], edges[1:]))


class _Nearest:
    """Of several linked cases sharing a surname, the one named by an alias
    in the same paragraph (the last such), else the one named last before the
    mention, else the first named after it. Aliases are (row, start,
    paragraph, case_id); a look-up bisects each case's aliases instead of
    passing over the document's (it was quadratic)."""

    def __init__(self, aliases: list):
        self.by_case, self.by_para = {}, {}
        for row, start, para, case in sorted(aliases):
            self.by_case.setdefault(case, []).append((row, start))
            self.by_para.setdefault(para, []).append((row, start, case))

    def named_before(self, case: str, row: int, start: int, para: int) -> bool:
        """Whether an alias names ``case`` before (row, start), or anywhere in
        paragraph ``para``."""
        named = self.by_case.get(case, [])
        k = bisect_left(named, (row, start))
        return k > 0 or any(c == case for _, _, c in self.by_para.get(para, ()))

    def case(self, cases: set, row: int, start: int, para: int) -> str:
        same = [(r, s, c) for r, s, c in self.by_para.get(para, ()) if c in cases]
        if same:
            return max(same)[2]
        before, first = [], []
        for c in cases:
            named = self.by_case.get(c, [])
            k = bisect_left(named, (row, start))
            if k:
                before.append((*named[k - 1], c))
            if named:
                first.append((*named[0], c))
        return (max(before) if before else min(first))[2]


def _scan_sentences(db, texts: list) -> tuple:
    """Every alias and surname match in the given sentences, as arrays (which
    text, start, end, expression), offsets in characters: one Hyperscan scan
    per slice of about SLICE_BYTES of them (no match crosses a sentence)."""
    out = [np.zeros((0, 4), dtype=np.int64)]
    for lo, hi in slices([len(t) for t in texts], SLICE_BYTES):
        data, starts = join_utf8(texts[lo:hi])
        found = array("q")  # machine integers: a slice can have many matches
        db.scan(data, match_event_handler=lambda x, s, e, f, c: found.extend((x, s, e)))
        if not found:
            continue
        hits = np.frombuffer(found, dtype=np.int64).reshape(-1, 3)
        starts = np.asarray(starts, dtype=np.int64)
        which = np.searchsorted(starts, hits[:, 1], side="right") - 1
        chars = char_offsets(data)
        base = chars[starts[which]]
        out.append(np.stack([lo + which, chars[hits[:, 1]] - base, chars[hits[:, 2]] - base,
                             hits[:, 0]], axis=1))
    hits = np.concatenate(out)
    return hits[:, 0], hits[:, 1], hits[:, 2], hits[:, 3]


def cases_table(registry: Registry, mentions: pa.Table) -> pa.Table:
    """One row per registered case, with how many documents and mentions link to it."""
    docs, counts = {}, {}
    # equal strings as one object each: a huge article has many mentions
    for case, doc in zip(shared_pylist(mentions["case_id"]), shared_pylist(mentions["doc_id"])):
        docs.setdefault(case, set()).add(doc)
        counts[case] = counts.get(case, 0) + 1
    rows = [{"case_id": c.case_id, "title": c.title, "year": c.year, "place": c.place,
             "parties": "; ".join(f"{p.name} ({p.role})" for p in c.parties),
             "notes": c.notes, "n_documents": len(docs.get(c.case_id, ())),
             "n_mentions": counts.get(c.case_id, 0)} for c in registry.cases]
    return pa.Table.from_pylist(rows, schema=CASES)
