"""Cases: the registry of cases and the linking of body sentences to them.

``load_registry()`` reads ``instruments/cases.yaml`` (its layout and the
linking rules are described at its top) and refuses, naming the entry and the
fix, a missing or duplicate id, an unknown key or role, and an alias that two
cases share. ``link_segments(segments, registry)`` is a pure function from a
segments table to case mentions; ``link_corpus()`` streams
``segments.parquet`` through it and writes ``cases.parquet`` and
``case_mentions.parquet`` with their own stamp.
"""

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from . import paths
from .cleaning import normalize_with_offsets
from .errors import InputError
from .fileio import replace_if_changed, sha256_file

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

    def patterns(self):
        """(alias regex, [(case, party or None)] per alias group, surname regex,
        {surname: [(case, party)]}), compiled once."""
        if not self._compiled:
            entries = []
            for c in self.cases:
                entries += [(a, c.case_id, None) for a in c.aliases]
                entries += [(a, c.case_id, p) for p in c.parties for a in p.aliases]
            entries.sort(key=lambda t: (-len(t[0]), t[0]))  # the longest alias first
            alias = re.compile("|".join(f"(?P<a{i}>{_bounded(a)})" for i, (a, _, _) in
                                        enumerate(entries)), re.I) if entries else None
            owners = [(case, party) for _, case, party in entries]
            surnames = {}
            for c in self.cases:
                for p in c.parties:
                    for s in p.surnames:
                        surnames.setdefault(s, []).append((c.case_id, p))
            surname = re.compile("|".join(rf"\b{re.escape(s)}\b" for s in sorted(surnames))) \
                if surnames else None
            self._compiled.update(alias=alias, owners=owners, surname=surname,
                                  surnames=surnames)
        c = self._compiled
        return c["alias"], c["owners"], c["surname"], c["surnames"]


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
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid YAML ({e}); fix the syntax at the position "
                         "shown.") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: must be a mapping with version and cases.")
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
    alias_re, owners, surname_re, surnames = registry.patterns()
    para_raw = {(d, s): (r, st) for d, s, u, r, st in zip(
        cols["doc_id"], cols["segment_id"], cols["unit"], cols["raw"], cols["start"])
        if u == "paragraph"}
    out = {name: [] for name in MENTIONS.names}
    docs = {}
    for i, (doc, unit, role) in enumerate(zip(cols["doc_id"], cols["unit"], cols["role"])):
        if unit == "sentence" and role == "body":
            docs.setdefault(doc, []).append(i)
    for doc, rows in docs.items():
        found = []  # (row, start, end, case, party, reason)
        for i in rows:
            text = cols["text"][i]
            spans = []
            for m in alias_re.finditer(text) if alias_re else ():
                case, party = owners[int(m.lastgroup[1:])]
                found.append((i, m.start(), m.end(), case, party, "alias"))
                spans.append(m.span())
            for m in surname_re.finditer(text) if surname_re else ():
                if not any(a <= m.start() < b for a, b in spans):
                    found.append((i, m.start(), m.end(), None, m.group(), "surname"))
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
           "code_sha256": code_fingerprint()}
    if not force:
        try:
            stamp = json.loads((out_dir / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stamp = None
        if stamp and stamp.get("key") == key and all(
                (out_dir / f).is_file() and sha256_file(out_dir / f) == info["sha256"]
                for f, info in stamp.get("outputs", {}).items()):
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
        outputs = {f: {"sha256": sha256_file(tmp / f), "rows": tables[f].num_rows}
                   for f in CASE_OUTPUTS}
        (tmp / STAMP).write_text(json.dumps({"key": key, "outputs": outputs}, indent=2,
                                            sort_keys=True) + "\n", encoding="utf-8")
        written, unchanged = [], []
        for f in [*outputs, STAMP]:
            (written if replace_if_changed(tmp / f, out_dir / f) else unchanged).append(f)
        return written, unchanged, {name.split(".")[0]: t.num_rows for name, t in tables.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _concat(tables, schema):
    return pa.concat_tables(tables) if tables else schema.empty_table()
