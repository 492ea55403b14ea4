"""The codebook: research codes as data, checked on load and compiled once.

``load_codebook()`` reads ``instruments/codebook.yaml`` (its layout is
described at the top of that file), checks it against the research design's
code ids (``instruments/design.yaml``) and compiles every indicator into one
Hyperscan database, so a paragraph is scanned once for all codes. Matches are
then filtered in Python by the guards (negation, hedging) and by required
context; they are few next to the text, so this costs little.

Every check names the file, the code and the fix. The examples in the file are
coded on every load: an example the indicators get wrong refuses the codebook.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import paths
from .cleaning import normalize
from .errors import InputError
from .fileio import read_mapping

FAMILIES = ("generic_frame", "issue_frame", "backlash", "outcome")
SENTENCE_FAMILIES = ("outcome",)  # coded per sentence; the others per paragraph
FAVOURS = ("accuser", "accused", "neutral", "against_target", "for_target", "against_actor")
_TOP_KEYS = {"version", "changelog", "guards", "default_guards", "codes"}
_CODE_KEYS = {"id", "family", "label", "definition", "include", "exclude", "questions",
              "indicators", "examples", "guards"}
_QUESTION_KEYS = {"id", "text", "indicators", "examples", "guards"}
_INDICATOR_KEYS = {"id", "phrases", "patterns", "guards", "context", "favours", "grounds"}


@dataclass(frozen=True)
class Indicator:
    """One indicator of one code: its alternatives as regular expressions."""

    code: str
    id: str
    expressions: tuple
    guards: tuple
    phrases: tuple = ()  # as written in the codebook, for the methods text
    patterns: tuple = ()
    context_window: int = 0  # with context_phrases: a match counts only this near one
    context_phrases: tuple = ()
    favours: str = ""  # outcome events: whom the event favours (see FAVOURS)
    grounds: tuple = ()  # outcome events: grounds to look for in the sentence


@dataclass(frozen=True)
class Code:
    id: str
    family: str
    label: str
    definition: str = ""
    include: str = ""
    exclude: str = ""
    parent: str | None = None  # a question's frame
    questions: tuple = ()
    text: str = ""  # a question's wording
    examples: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Codebook:
    """A checked codebook. ``codes`` is in file order, each frame followed by
    its questions; ``fingerprint`` changes whenever the file does."""

    version: str
    changelog: tuple
    fingerprint: str
    codes: tuple
    indicators: tuple
    guards: dict = field(compare=False, hash=False)

    @property
    def ids(self) -> list:
        return [c.id for c in self.codes]

    def code(self, code_id: str) -> Code:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)


def phrase_expression(phrase: str) -> str:
    """A phrase as a word-bounded regular expression: words matched as written
    (case is ignored when scanning), any white space between them; a word
    ending in * may go on ("defam*" finds defamation, "speak* out" speaking out)."""
    parts = []
    for w in phrase.split():
        parts.append(re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w))
    words = phrase.split()
    start = r"\b" if re.match(r"\w", words[0]) else ""
    # an open-ended word also ends at a word boundary, so that Hyperscan
    # reports it once, not at every letter
    end = r"\b" if re.search(r"[\w*]$", words[-1]) else ""
    return start + r"\s+".join(parts) + end


def load_codebook(path=None, design=None, known_good=()) -> Codebook:
    """Load, check and compile the codebook. Raises InputError listing every
    problem, each naming the file, the code and the fix.

    The last checks compile every expression and code every example (about a
    second). They are skipped when the codebook's fingerprint is in
    ``known_good``: fingerprints that passed them under the same code."""
    path = Path(path or paths.CODEBOOK)
    design = Path(design or paths.DESIGN)
    raw = path.read_bytes()
    doc = read_mapping(path, raw)
    design_ids = _design_ids(design)
    problems = []
    for key in sorted(set(doc) - _TOP_KEYS):
        problems.append(f"{path}: unknown top-level key '{key}'; allowed keys are "
                        f"{', '.join(sorted(_TOP_KEYS))}.")
    version = str(doc.get("version") or "").strip()
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        problems.append(f"{path}: version {version!r} is not a semantic version; write e.g. "
                        "version: \"1.0.0\" and raise it whenever an indicator changes.")
    changelog = tuple(doc.get("changelog") or ())
    if not any(str(e.get("version")) == version for e in changelog if isinstance(e, dict)):
        problems.append(f"{path}: the changelog has no entry for version {version}; add one "
                        "saying what changed.")
    guards = _guards(problems, path, doc.get("guards") or {})
    default_guards = tuple(doc.get("default_guards") or ())
    for g in default_guards:
        if g not in guards:
            problems.append(f"{path}: default_guards names '{g}', which is not under guards.")

    codes, indicators, seen = [], [], {}
    for i, spec in enumerate(doc.get("codes") or [], start=1):
        if not isinstance(spec, dict) or not spec.get("id"):
            problems.append(f"{path}: code entry {i} has no id; every code needs one.")
            continue
        cid = str(spec["id"])
        where = f"{path}, code '{cid}'"
        if cid in seen:
            problems.append(f"{where}: duplicate id (also entry {seen[cid]}); keep one.")
            continue
        seen[cid] = i
        for key in sorted(set(spec) - _CODE_KEYS):
            problems.append(f"{where}: unknown field '{key}'; allowed fields are "
                            f"{', '.join(sorted(_CODE_KEYS))}.")
        family = spec.get("family")
        if family not in FAMILIES:
            problems.append(f"{where}: family {family!r} is not one of {', '.join(FAMILIES)}.")
            continue
        if cid not in design_ids.get(family, {}):
            known = [f for f, ids in design_ids.items() if cid in ids]
            hint = (f"the design lists it under {known[0]}" if known else
                    f"the research design has no such id; use one of its ids or add it to "
                    f"{design} with the design in the same change")
            problems.append(f"{where}: not a {family} code in the design ({hint}).")
            continue
        for key in ("label", "definition"):
            if not spec.get(key):
                problems.append(f"{where}: missing '{key}'; every code needs one.")
        code_guards = tuple(spec.get("guards") or default_guards)
        common = dict(family=family, label=str(spec.get("label", "")),
                      definition=" ".join(str(spec.get("definition", "")).split()),
                      include=str(spec.get("include", "")), exclude=str(spec.get("exclude", "")))
        if family == "generic_frame":
            if spec.get("indicators"):
                problems.append(f"{where}: a generic frame is coded through its questions; "
                                "move the indicators under the questions.")
            questions = spec.get("questions") or []
            qids = [f"{cid}.{q}" for q in design_ids[family][cid]]
            got = [str(q.get("id")) for q in questions if isinstance(q, dict)]
            for q in qids:
                if q not in got:
                    problems.append(f"{where}: question '{q}' from the design is missing; add it "
                                    "with its text, indicators and examples.")
            codes.append(Code(id=cid, questions=tuple(qids), **common))
            for q in questions:
                qid = str(q.get("id"))
                qwhere = f"{path}, code '{qid}'"
                if qid not in qids:
                    problems.append(f"{qwhere}: not a question of {cid} in the design; the "
                                    f"design's questions are {', '.join(qids)}.")
                    continue
                for key in sorted(set(q) - _QUESTION_KEYS):
                    problems.append(f"{qwhere}: unknown field '{key}'; allowed fields are "
                                    f"{', '.join(sorted(_QUESTION_KEYS))}.")
                codes.append(Code(id=qid, family=family, label=qid.rsplit(".", 1)[1],
                                  parent=cid, text=str(q.get("text", "")),
                                  examples=q.get("examples") or {}))
                indicators += _indicators(problems, path, qid, q.get("indicators") or [],
                                          tuple(q.get("guards") or code_guards), guards)
        else:
            if spec.get("questions"):
                problems.append(f"{where}: only generic frames have questions.")
            codes.append(Code(id=cid, examples=spec.get("examples") or {}, **common))
            indicators += _indicators(problems, path, cid, spec.get("indicators") or [],
                                      code_guards, guards)
    for family, ids in design_ids.items():
        for cid in ids:
            if cid not in seen:
                problems.append(f"{path}: the design's code '{cid}' ({family}) is missing; add "
                                "it with its definition, indicators and examples.")
    for c in codes:
        if not c.questions and not any(ind.code == c.id for ind in indicators):
            problems.append(f"{path}, code '{c.id}': no indicators; add phrases or patterns.")
    if problems:
        raise InputError(problems)

    book = Codebook(version=version, changelog=changelog,
                    fingerprint=hashlib.sha256(raw + b"\0" + design.read_bytes()).hexdigest(),
                    codes=tuple(codes), indicators=tuple(indicators), guards=guards)
    if book.fingerprint in known_good:
        return book
    problems = _compile_problems(path, book) or _example_problems(path, book)
    if problems:
        raise InputError(problems)
    return book


def _design_ids(design: Path) -> dict:
    doc = read_mapping(design, design.read_bytes())
    out = {}
    for family in FAMILIES:
        spec = doc.get(family) or {}
        out[family] = dict(spec) if isinstance(spec, dict) else {cid: [] for cid in spec}
    return out


def _guards(problems, path, spec):
    out = {}
    for name, g in spec.items():
        g = g or {}
        cues = g.get("cues") or []
        window = g.get("window")
        if not cues or not isinstance(window, int) or window < 1:
            problems.append(f"{path}, guard '{name}': needs cues (a list) and window (words "
                            "before a match, a positive whole number).")
            continue
        words = [str(c).lower() for c in cues]
        out[name] = {"window": window, "cues": tuple(words),
                     "single": frozenset(w for w in words if " " not in w and "*" not in w),
                     "multi": tuple(w for w in words if " " in w),
                     "prefix": tuple(w.rstrip("*") for w in words if w.endswith("*"))}
    return out


def _indicators(problems, path, code_id, items, inherited, guards):
    out = []
    for i, spec in enumerate(items, start=1):
        if not isinstance(spec, dict):
            problems.append(f"{path}, code '{code_id}', indicator {i}: must be a mapping.")
            continue
        iid = str(spec.get("id") or i)
        where = f"{path}, code '{code_id}', indicator '{iid}'"
        for key in sorted(set(spec) - _INDICATOR_KEYS):
            problems.append(f"{where}: unknown field '{key}'; allowed fields are "
                            f"{', '.join(sorted(_INDICATOR_KEYS))}.")
        if any(ind.id == iid for ind in out):
            problems.append(f"{where}: the id is used twice in this code; rename one.")
        phrases = [str(p) for p in spec.get("phrases") or []]
        patterns = [str(p) for p in spec.get("patterns") or []]
        if not phrases and not patterns:
            problems.append(f"{where}: no phrases or patterns; give at least one.")
        for p in patterns:
            try:
                re.compile(p)
            except re.error as e:
                problems.append(f"{where}: pattern {p!r} does not compile ({e}); fix the "
                                "regular expression.")
        gs = tuple(spec.get("guards", inherited) or ())
        for g in gs:
            if g not in guards:
                problems.append(f"{where}: guard '{g}' is not defined under guards; use one of "
                                f"{', '.join(sorted(guards))}.")
        cphrases, window = (), 0
        if spec.get("context") is not None:
            c = spec["context"] if isinstance(spec["context"], dict) else {}
            cphrases, window = tuple(str(p) for p in c.get("phrases") or ()), c.get("window")
            if not cphrases or not isinstance(window, int) or window < 1:
                problems.append(f"{where}: context needs phrases (a list) and window (words "
                                "either side, a positive whole number).")
                cphrases, window = (), 0
        favours = str(spec.get("favours") or "")
        if code_id.startswith("outcome.") and favours not in FAVOURS:
            problems.append(f"{where}: favours {favours or None!r} is not one of "
                            f"{', '.join(FAVOURS)}; say whom the event favours.")
        elif favours and not code_id.startswith("outcome."):
            problems.append(f"{where}: only outcome events say whom they favour; remove "
                            "favours.")
        out.append(Indicator(code=code_id, id=iid, favours=favours,
                             grounds=tuple(str(g) for g in spec.get("grounds") or ()),
                             expressions=tuple(phrase_expression(p) for p in phrases) + tuple(
                                 patterns),
                             guards=gs, phrases=tuple(phrases), patterns=tuple(patterns),
                             context_window=window, context_phrases=cphrases))
    return out


# --- matching --------------------------------------------------------------

_matchers: dict = {}


class Matcher:
    """All indicators of a codebook, with the guards' cue words and the
    indicators' context phrases, in one Hyperscan database.

    ``matches(data, starts)`` scans a buffer of NUL-separated normalised texts
    once and decides every match with array operations over global byte
    positions, so the work per match stays in numpy, not in Python:
    - a guard drops a match when one of its cues ends before the match, in the
      same clause (no . ; : ! ? between), with at most ``window`` spaces (words)
      between the cue and the match;
    - a context requirement keeps a match only when one of its context phrases
      is in the same text within ``window`` words on either side;
    - of the matches of one indicator at one start, the longest is kept.
    """

    IND, CUE, CONTEXT = 0, 1, 2

    def __init__(self, book: Codebook):
        self.book = book
        expressions, kind, owner = [], [], []

        def add(expr, k, o):
            expressions.append(expr.encode("utf-8"))
            kind.append(k)
            owner.append(o)

        for k, ind in enumerate(book.indicators):
            for expr in ind.expressions:
                add(expr, self.IND, k)
            for phrase in ind.context_phrases:
                add(phrase_expression(phrase), self.CONTEXT, k)
        self.guard_names = sorted(book.guards)
        for g, name in enumerate(self.guard_names):
            for cue in book.guards[name]["cues"]:
                add(r"n't\b" if cue == "n't" else phrase_expression(cue), self.CUE, g)
        self.kind = np.array(kind, dtype=np.int8)
        self.owner = np.array(owner, dtype=np.int64)
        self.db = _compile(expressions)
        n = len(book.indicators)
        self.applies = np.zeros((n, len(self.guard_names)), dtype=bool)
        for k, ind in enumerate(book.indicators):
            for g in ind.guards:
                self.applies[k, self.guard_names.index(g)] = True
        self.window = np.array([book.guards[g]["window"] for g in self.guard_names])
        self.context_window = np.array([ind.context_window for ind in book.indicators])

    def scan(self, data: bytes) -> np.ndarray:
        """Every raw Hyperscan report as rows (expression id, start, end)."""
        hits = []
        append = hits.append

        def on_match(expr_id, start, end, flags, context):
            append((expr_id, start, end))

        self.db.scan(data, match_event_handler=on_match)
        return np.array(hits, dtype=np.int64).reshape(-1, 3)

    def matches(self, data: bytes, starts) -> tuple:
        """Accepted indicator matches in a buffer of NUL-separated texts
        beginning at byte offsets ``starts``: arrays (indicator, start, end)
        of byte offsets into ``data``, sorted by start."""
        hits = self.scan(data)
        kind, owner = self.kind[hits[:, 0]], self.owner[hits[:, 0]]
        buf = np.frombuffer(data, dtype=np.uint8)
        # int32: fourteen times faster than int64 here; a batch is far below 2 GB
        spaces = np.concatenate(([0], np.cumsum(buf == 32, dtype=np.int32)))
        barriers = np.concatenate(([-1], np.flatnonzero(  # -1: the start of the buffer
            np.isin(buf, np.frombuffer(b".;:!?\0", dtype=np.uint8)))))
        starts = np.asarray(starts, dtype=np.int64)

        ind = hits[kind == self.IND]
        k, s, e = owner[kind == self.IND], ind[:, 1], ind[:, 2]
        # the longest match per indicator and start
        order = np.lexsort((e, s, k))
        k, s, e = k[order], s[order], e[order]
        last = np.ones(len(k), dtype=bool)
        last[:-1] = (k[1:] != k[:-1]) | (s[1:] != s[:-1])
        k, s, e = k[last], s[last], e[last]

        keep = np.ones(len(k), dtype=bool)
        # the last clause barrier before each match
        clause_start = barriers[np.searchsorted(barriers, s, side="right") - 1]
        cues = hits[kind == self.CUE]
        cue_owner = owner[kind == self.CUE]
        for g in range(len(self.guard_names)):
            ends = np.sort(cues[cue_owner == g][:, 2])
            if not len(ends):
                continue
            j = np.searchsorted(ends, s, side="right") - 1
            cue_end = ends[np.maximum(j, 0)]
            guarded = ((j >= 0) & (cue_end > clause_start)
                       & (spaces[s] - spaces[cue_end] <= self.window[g]))
            keep &= ~(guarded & self.applies[k, g])
        needs = self.context_window[k] > 0
        if needs.any():
            ctx = hits[kind == self.CONTEXT]
            ctx_owner = owner[kind == self.CONTEXT]
            para = np.searchsorted(starts, s, side="right") - 1
            for kk in np.unique(k[needs]):
                mask = k == kk
                w = self.context_window[kk]
                c = ctx[ctx_owner == kk]
                near = np.zeros(mask.sum(), dtype=bool)
                if len(c):
                    ms, me, mp = s[mask], e[mask], para[mask]
                    ce = np.sort(c[:, 2])  # context phrases ending before the match ends
                    j = np.searchsorted(ce, me, side="right") - 1
                    left = ce[np.maximum(j, 0)]
                    near |= ((j >= 0) & (np.searchsorted(starts, left - 1, side="right") - 1 == mp)
                             & (spaces[ms] - spaces[np.minimum(left, ms)] <= w))
                    cs = np.sort(c[:, 1])  # context phrases starting after the match starts
                    j = np.searchsorted(cs, ms, side="left")
                    right = cs[np.minimum(j, len(cs) - 1)]
                    same = np.searchsorted(starts, right, side="right") - 1 == mp
                    near |= ((j < len(cs)) & same
                             & (spaces[np.maximum(right, me)] - spaces[me] <= w))
                keep[np.flatnonzero(mask)] &= near
        k, s, e = k[keep], s[keep], e[keep]
        order = np.lexsort((k, -e, s))
        return k[order], s[order], e[order]


def _compile(expressions: list):
    """One Hyperscan block-mode database: case-insensitive, UTF-8, with the
    start of every match (SOM_LEFTMOST), for evidence offsets."""
    import hyperscan

    flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_UTF8
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=expressions, ids=list(range(len(expressions))),
               elements=len(expressions), flags=[flags] * len(expressions))
    return db


def matcher(book: Codebook) -> Matcher:
    """The compiled matcher of a codebook, built once per process."""
    m = _matchers.get(book.fingerprint)
    if m is None:
        m = _matchers[book.fingerprint] = Matcher(book)
    return m


def find_codes(book: Codebook, text: str):
    """(code id, indicator id, start, end) of every piece of evidence the coder
    finds in one normalised text, in reading order: the coder itself run on a
    one-paragraph table, for examples and small texts."""
    import pyarrow as pa

    from .coding import code_segments

    found = []
    for unit in ("paragraph", "sentence"):  # frames and themes, then outcome events
        one = pa.table({"doc_id": ["text"], "segment_id": ["s1"], "unit": [unit],
                        "role": ["body"], "text": [text], "raw": [text], "start": [0]})
        codes, _ = code_segments(one, book, unit)
        found += zip(codes["code"].to_pylist(), codes["indicator"].to_pylist(),
                     codes["start"].to_pylist(), codes["end"].to_pylist())
    return sorted(found, key=lambda f: (f[2], -f[3], f[0], f[1]))


def _compile_problems(path, book):
    import hyperscan

    try:
        matcher(book)
        return []
    except hyperscan.error:
        pass
    problems = []  # find the expressions Hyperscan refuses, one by one
    for ind in book.indicators:
        for expr in ind.expressions:
            try:
                _compile([expr.encode()])
            except hyperscan.error as e:
                problems.append(f"{path}, code '{ind.code}', indicator '{ind.id}': pattern "
                                f"{expr!r} cannot be compiled for scanning ({e}); avoid "
                                "look-around, back-references and long bounded gaps such as "
                                ".{0,80} (to require a word nearby, use context).")
    return problems or [f"{path}: the indicators do not compile together; check the patterns."]


def _example_problems(path, book):
    problems = []
    for code in book.codes:
        ex = code.examples or {}
        for sentence in ex.get("match") or []:
            found = find_codes(book, normalize(str(sentence)))
            if not any(c == code.id for c, *_ in found):
                problems.append(f"{path}, code '{code.id}': example {sentence!r} should match "
                                "but no indicator finds it; add an indicator or fix the example.")
        for sentence in ex.get("no_match") or []:
            text = normalize(str(sentence))
            hits = [(i, text[s:e]) for c, i, s, e in find_codes(book, text) if c == code.id]
            if hits:
                i, ev = hits[0]
                problems.append(f"{path}, code '{code.id}': example {sentence!r} should not "
                                f"match but indicator '{i}' finds {ev!r}; narrow the indicator "
                                "or add a guard.")
        if not code.questions and not ex.get("match"):
            problems.append(f"{path}, code '{code.id}': no examples that must match; add at "
                            "least one under examples.match.")
    return problems
