"""Cases: the registry of cases and the linking of body sentences to them.

``load_registry()`` reads ``instruments/cases.yaml`` (its layout and the
linking rules are described at its top) and refuses, naming the entry and the
fix, a missing or duplicate id, an unknown key or role, and an alias that two
cases share. ``link_segments(segments, registry)`` is a pure function from a
segments table to case mentions (aliases and surnames found in one Hyperscan
scan per batch); ``link_corpus()`` streams ``segments.parquet`` through it and
through ``events.detect_events``, and writes cases, case_mentions,
case_events, unlinked_events and case_ledger with their own stamp.
"""

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import paths
from .cleaning import normalize_with_offsets, same_positions
from .errors import InputError
from .fileio import publish, read_mapping, sha256_file, stage_current

ROLES = ("accuser", "accused", "supporter", "institution")
_CASE_KEYS = {"case_id", "title", "year", "place", "aliases", "notes", "sources", "parties"}
_PARTY_KEYS = {"party_id", "name", "role", "aliases", "surnames"}
_ID = re.compile(r"[a-z0-9_]+")
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
STAMP = "linking.json"
LINK_COLUMNS = ["doc_id", "segment_id", "unit", "role", "parent_id", "text", "raw", "start",
                "end"]


@dataclass(frozen=True)
class Party:
    case_id: str
    party_id: str
    name: str
    role: str
    aliases: tuple = ()
    surnames: tuple = ()


@dataclass(frozen=True)
class Case:
    case_id: str
    title: str
    year: int
    place: str
    aliases: tuple = ()
    notes: str = ""
    sources: tuple = ()
    parties: tuple = ()


@dataclass(frozen=True)
class Registry:
    version: str
    fingerprint: str
    cases: tuple
    _compiled: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def scanner(self):
        """(Hyperscan database, [(kind, owner)] per expression, {surname: [(case,
        party)]}) for every alias (any case) and surname (as written), built once."""
        if not self._compiled:
            import hyperscan

            exprs, flags, owners = [], [], []
            som = hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_UTF8
            for c in self.cases:
                for a, party in [(a, None) for a in c.aliases] + [
                        (a, p) for p in c.parties for a in p.aliases]:
                    exprs.append(_bounded(a).encode())
                    flags.append(som | hyperscan.HS_FLAG_CASELESS)
                    owners.append(("alias", (c.case_id, party)))
            surnames = {}
            for c in self.cases:
                for p in c.parties:
                    for name in p.surnames:
                        surnames.setdefault(name, []).append((c.case_id, p))
            for name in sorted(surnames):
                exprs.append(rf"\b{re.escape(name)}\b".encode())
                flags.append(som)
                owners.append(("surname", name))
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                       flags=flags)
            self._compiled.update(db=db, owners=owners, surnames=surnames)
        c = self._compiled
        return c["db"], c["owners"], c["surnames"]


def _bounded(text: str) -> str:
    """An alias as a word-bounded pattern; any white space between its words."""
    body = r"\s+".join(re.escape(w) for w in text.split())
    return (r"\b" if re.match(r"\w", text) else "") + body + (
        r"\b" if re.search(r"\w$", text) else "")


def load_registry(path=None) -> Registry:
    """Load and check the case registry; raises InputError listing every
    problem, each naming the entry and the fix."""
    path = Path(path or paths.CASES)
    raw = path.read_bytes()
    doc = read_mapping(path, raw)
    problems = []
    for key in sorted(set(doc) - {"version", "cases"}):
        problems.append(f"{path}: unknown top-level key '{key}'; allowed keys are cases, "
                        "version.")
    version = str(doc.get("version") or "").strip()
    if not version:
        problems.append(f"{path}: no version; add version: \"1.0.0\" and raise it when an "
                        "entry changes.")
    cases, seen, alias_owner = [], {}, {}
    for i, spec in enumerate(doc.get("cases") or [], start=1):
        if not isinstance(spec, dict) or not spec.get("case_id"):
            problems.append(f"{path}: case entry {i} has no case_id; give every case an id "
                            "such as alibaba_2021.")
            continue
        cid = str(spec["case_id"])
        where = f"{path}, case '{cid}'"
        if not _ID.fullmatch(cid):
            problems.append(f"{where}: the id may hold only lower-case letters, digits and _.")
        if cid in seen:
            problems.append(f"{where}: duplicate case_id (also entry {seen[cid]}); keep one.")
            continue
        seen[cid] = i
        for key in sorted(set(spec) - _CASE_KEYS):
            problems.append(f"{where}: unknown key '{key}'; allowed keys are "
                            f"{', '.join(sorted(_CASE_KEYS))}.")
        for key in ("title", "year"):
            if not spec.get(key):
                problems.append(f"{where}: missing '{key}'.")
        if spec.get("year") is not None and not isinstance(spec.get("year"), int):
            problems.append(f"{where}: year must be a whole number such as 2021.")

        for a in spec.get("aliases") or []:
            _claim(problems, alias_owner, a, cid, where)
        parties, party_ids = [], set()
        for j, ps in enumerate(spec.get("parties") or [], start=1):
            pid = str((ps or {}).get("party_id") or "")
            pwhere = f"{where}, party '{pid or j}'"
            if not pid:
                problems.append(f"{pwhere}: missing party_id.")
                continue
            if pid in party_ids:
                problems.append(f"{pwhere}: duplicate party_id in this case.")
            party_ids.add(pid)
            for key in sorted(set(ps) - _PARTY_KEYS):
                problems.append(f"{pwhere}: unknown key '{key}'; allowed keys are "
                                f"{', '.join(sorted(_PARTY_KEYS))}.")
            if ps.get("role") not in ROLES:
                problems.append(f"{pwhere}: role {ps.get('role')!r} is not one of "
                                f"{', '.join(ROLES)}.")
            for a in ps.get("aliases") or []:
                _claim(problems, alias_owner, a, cid, where)
            parties.append(Party(cid, pid, str(ps.get("name") or pid), str(ps.get("role")),
                                 tuple(str(a) for a in ps.get("aliases") or []),
                                 tuple(str(s) for s in ps.get("surnames") or [])))
        if not parties:
            problems.append(f"{where}: no parties; list at least the accuser and the accused.")
        cases.append(Case(cid, str(spec.get("title", "")), spec.get("year") or 0,
                          str(spec.get("place") or ""),
                          tuple(str(a) for a in spec.get("aliases") or []),
                          " ".join(str(spec.get("notes") or "").split()),
                          tuple(str(s) for s in spec.get("sources") or []), tuple(parties)))
    if problems:
        raise InputError(problems)
    return Registry(version, hashlib.sha256(raw).hexdigest(), tuple(cases))


def _claim(problems, owners: dict, alias, case_id: str, where: str):
    """Record that ``alias`` names ``case_id``; an alias of two cases is a problem."""
    key = " ".join(str(alias).lower().split())
    if owners.get(key, case_id) != case_id:
        problems.append(f"{where}: alias {alias!r} is also an alias of case '{owners[key]}'; "
                        "an alias must name one case only; make it more specific or use "
                        "surnames.")
    owners.setdefault(key, case_id)


def link_segments(segments, registry: Registry) -> pa.Table:
    """Case mentions in the body sentences of a segments table (whole
    documents), in reading order: one row per alias or surname mention, and
    one per unmentioned sentence linked by its paragraph's single case."""
    if not isinstance(segments, pa.Table):
        segments = pa.Table.from_pandas(segments, preserve_index=False)
    cols = {c: segments[c].to_pylist() for c in LINK_COLUMNS}
    para_raw = {(d, s): (r, st) for d, s, u, r, st in zip(
        cols["doc_id"], cols["segment_id"], cols["unit"], cols["raw"], cols["start"])
        if u == "paragraph"}
    out = {name: [] for name in MENTIONS.names}
    docs = {}
    for i, (doc, unit, role) in enumerate(zip(cols["doc_id"], cols["unit"], cols["role"])):
        if unit == "sentence" and role == "body":
            docs.setdefault(doc, []).append(i)
    hits = _scan_sentences(registry, cols["text"], [i for rows in docs.values() for i in rows])
    _, owners, surnames = registry.scanner()
    for doc, rows in docs.items():
        found = []  # (row, start, end, case, party, reason)
        for i in rows:
            spans = []
            # aliases: leftmost-longest, not overlapping one another
            for s_, e_, x in sorted((h for h in hits.get(i, ()) if owners[h[2]][0] == "alias"),
                                    key=lambda h: (h[0], -h[1])):
                if not any(a < e_ and s_ < b for a, b in spans):
                    case, party = owners[x][1]
                    found.append((i, s_, e_, case, party, "alias"))
                    spans.append((s_, e_))
            for s_, e_, x in sorted(h for h in hits.get(i, ()) if owners[h[2]][0] == "surname"):
                if not any(a <= s_ < b for a, b in spans):
                    found.append((i, s_, e_, None, owners[x][1], "surname"))
        linked = {f[3] for f in found if f[5] == "alias"}
        resolved = []
        for f in found:
            if f[5] == "alias":
                resolved.append(f)
                continue
            i, s, e, _, name, _ = f
            options = [(c, p) for c, p in surnames[name] if c in linked]
            choice = _nearest(options, f, found, cols) if len(options) > 1 else (
                options[0] if options else None)
            if choice:
                resolved.append((i, s, e, choice[0], choice[1], "surname"))
        by_paragraph = {}
        for f in resolved:
            by_paragraph.setdefault(cols["parent_id"][f[0]], set()).add(f[3])
        mentioned = {f[0] for f in resolved}
        for i in rows:
            cases = by_paragraph.get(cols["parent_id"][i], set())
            if i not in mentioned and len(cases) == 1:
                resolved.append((i, None, None, next(iter(cases)), None, "context"))
        resolved.sort(key=lambda f: (f[0], -1 if f[1] is None else f[1], f[3]))
        for i, s, e, case, party, reason in resolved:
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


def _scan_sentences(registry, texts, rows):
    """{row: [(start, end, expression)]} of every alias and surname match in
    the given sentences, character offsets: one Hyperscan scan over them all."""
    import numpy as np

    from .coding import _join

    db, _, _ = registry.scanner()
    data, starts = _join([texts[i] for i in rows])
    found = []
    db.scan(data, match_event_handler=lambda x, s, e, f, c: found.append((x, s, e)))
    if not found:
        return {}
    hits = np.array(found, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    which = np.searchsorted(starts, hits[:, 1], side="right") - 1
    buf = np.frombuffer(data, dtype=np.uint8)
    chars = np.concatenate(([0], np.cumsum((buf & 0xC0) != 0x80, dtype=np.int32)))
    base = chars[starts[which]]
    out = {}
    for x, s, e, w, b in zip(hits[:, 0].tolist(), chars[hits[:, 1]].tolist(),
                             chars[hits[:, 2]].tolist(), which.tolist(), base.tolist()):
        out.setdefault(rows[w], set()).add((s - b, e - b, x))
    return {r: sorted(v) for r, v in out.items()}


def _nearest(options, mention, found, cols):
    """Of several linked cases sharing a surname, the one named by an alias in
    the same paragraph, else the one named last before the mention, else the
    first named after it."""
    i, s = mention[0], mention[1]
    para = cols["parent_id"][i]
    cases = {c for c, _ in options}
    aliases = [f for f in found if f[5] == "alias" and f[3] in cases]
    same = [f for f in aliases if cols["parent_id"][f[0]] == para]
    before = [f for f in aliases if (f[0], f[1]) < (i, s)]
    pick = (same or before or aliases)
    if not pick:
        return None
    chosen = (max if (same or before) else min)(pick, key=lambda f: (f[0], f[1]))[3]
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


CASE_OUTPUTS = ("cases.parquet", "case_mentions.parquet", "case_events.parquet",
                "unlinked_events.parquet", "case_ledger.parquet")


def link_corpus(processed_dir=None, registry: Registry | None = None, book=None, force=False):
    """Link ``segments.parquet`` in ``processed_dir`` to the registry and
    detect outcome events; writes CASE_OUTPUTS and linking.json atomically,
    nothing when segments, documents, registry, codebook and code are
    unchanged. Returns (written, unchanged, counts), or None when up to date."""
    from .codebook import load_codebook
    from .coding import _document_batches
    from .events import detect_events, ledger
    from .pipeline import code_fingerprint

    out_dir = Path(processed_dir or paths.PROCESSED)
    registry = registry or load_registry()
    book = book or load_codebook()
    key = {"segments_sha256": sha256_file(out_dir / "segments.parquet"),
           "documents_sha256": sha256_file(out_dir / "documents.parquet"),
           "registry_version": registry.version, "registry_sha256": registry.fingerprint,
           "codebook_version": book.version, "codebook_sha256": book.fingerprint,
           "code_sha256": code_fingerprint("cases")}
    if not force and stage_current(out_dir, STAMP, key):
        return None
    docs = pq.read_table(out_dir / "documents.parquet", columns=["doc_id", "published"])
    published = dict(zip(docs["doc_id"].to_pylist(), docs["published"].to_pylist()))
    tmp = Path(tempfile.mkdtemp(prefix=".linking-", dir=out_dir))
    try:
        mentions, events, unlinked = [], [], []
        for batch in _document_batches(out_dir / "segments.parquet", 65_536,
                                       columns=LINK_COLUMNS):
            m = link_segments(batch, registry)
            e, u = detect_events(batch, m, book, published)
            mentions.append(m)
            events.append(e)
            unlinked.append(u)
        from .events import EVENTS, UNLINKED

        tables = {
            "case_mentions.parquet": _concat(mentions, MENTIONS),
            "case_events.parquet": _concat(events, EVENTS),
            "unlinked_events.parquet": _concat(unlinked, UNLINKED),
        }
        tables["cases.parquet"] = cases_table(registry, tables["case_mentions.parquet"])
        tables["case_ledger.parquet"] = ledger(tables["case_events.parquet"], registry,
                                               published)
        for name in CASE_OUTPUTS:
            pq.write_table(tables[name], tmp / name, compression="zstd")
        written, unchanged = publish(tmp, out_dir, {f: tables[f].num_rows for f in CASE_OUTPUTS},
                                     key, STAMP)
        return written, unchanged, {name.split(".")[0]: t.num_rows for name, t in tables.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _concat(tables, schema):
    return pa.concat_tables(tables) if tables else schema.empty_table()
