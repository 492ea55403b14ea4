"""Loading the codebook: research codes as data, checked on load.

``load_codebook()`` reads ``instruments/codebook.yaml`` (its layout is
described at the top of that file) and checks it against the research
design's code ids (``instruments/design.yaml``), then compiles every indicator
(``engine``) and codes every example (``examples``): an example the
indicators get wrong refuses the codebook. Every check names the file, the
code and the fix.
"""

import hashlib
import re
from pathlib import Path

from ..core import paths
from ..core.errors import InputError
from ..core.fileio import read_mapping
from .examples import compile_problems, example_problems, general_problems
from .schema import FAMILIES, FAVOURS, Code, Codebook, Indicator, phrase_expression

# fingerprints of codebooks (with their design) whose expressions and examples
# passed the checks in this process; the code cannot change within a process
_CHECKED: set = set()
_WORD = re.compile(r"\w")
_TOP_KEYS = {"version", "changelog", "languages", "guards", "default_guards", "codes"}
_CODE_KEYS = {"id", "family", "label", "definition", "include", "exclude", "questions",
              "indicators", "examples", "guards"}
_QUESTION_KEYS = {"id", "text", "indicators", "examples", "guards"}
_INDICATOR_KEYS = {"id", "phrases", "patterns", "guards", "context", "favours", "grounds"}


def load_codebook(path=None, design=None, known_good=()) -> Codebook:
    """Load, check and compile the codebook. Raises InputError listing every
    problem, each naming the file, the code and the fix.

    The last checks compile every expression, refuse expressions that match
    most ordinary sentences and code every example (about half a second once
    the codebook's database is kept in build/cache, three the first time; see
    examples.py). They are skipped when the codebook's fingerprint is in
    ``known_good`` (fingerprints that passed them under the same code) or
    already passed them in this process."""
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
    languages = tuple(str(x).strip().lower() for x in doc.get("languages") or ())
    if not languages or not all(re.fullmatch(r"[a-z]{2,3}", x) for x in languages):
        problems.append(f"{path}: languages {list(languages)} must list the languages the "
                        "indicators cover as primary language tags, e.g. languages: [en, zh]; "
                        "documents in other languages are listed as uncoded.")
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

    book = Codebook(version=version, changelog=changelog, languages=languages,
                    fingerprint=hashlib.sha256(raw + b"\0" + design.read_bytes()).hexdigest(),
                    codes=tuple(codes), indicators=tuple(indicators), guards=guards)
    if book.fingerprint in known_good or book.fingerprint in _CHECKED:
        return book
    problems = (compile_problems(path, book) or general_problems(path, book)
                or example_problems(path, book))
    if problems:
        raise InputError(problems)
    _CHECKED.add(book.fingerprint)
    return book


def _check_phrase(problems, where: str, what: str, phrase: str) -> None:
    if not _WORD.search(phrase):
        problems.append(f"{where}: {what} {phrase!r} has no letter or digit, so it would "
                        "match nearly anywhere; write the words it stands for.")


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
        for p in phrases:
            _check_phrase(problems, where, "phrase", p)
        for p in patterns:
            try:
                if re.compile(p).fullmatch(""):
                    problems.append(f"{where}: pattern {p!r} matches empty text, so it would "
                                    "mark every paragraph; make it require at least a word.")
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
            for p in cphrases:
                _check_phrase(problems, where, "context phrase", p)
        favours = str(spec.get("favours") or "")
        if code_id.startswith("outcome.") and favours not in FAVOURS:
            problems.append(f"{where}: favours {favours or None!r} is not one of "
                            f"{', '.join(FAVOURS)}; say whom the event favours.")
        elif favours and not code_id.startswith("outcome."):
            problems.append(f"{where}: only outcome events say whom they favour; remove "
                            "favours.")
        out.append(Indicator(code=code_id, id=iid, favours=favours,
                             grounds=tuple(str(g) for g in spec.get("grounds") or ()),
                             expressions=tuple(phrase_expression(p) for p in phrases
                                               if _WORD.search(p)) + tuple(patterns),
                             guards=gs, phrases=tuple(phrases), patterns=tuple(patterns),
                             context_window=window, context_phrases=cphrases))
    return out
