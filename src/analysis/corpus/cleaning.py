"""Cleaning: give every raw line one role.

The rules are data (``instruments/cleaning.yaml``, documented there); this
module checks them on load, compiles each profile combination once into a
single alternation, and applies it line by line. Offsets always point into the
article's decoded raw text; normalisation (``core.text``) changes only the
``text`` columns.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError
from ..core.fileio import NotRegular, read_mapping, read_regular, sha256_bytes
from ..core.text import normalize

ROLES = ("title", "body", "caption", "credit", "comment", "boilerplate", "blank")
PARAGRAPH_MODES = ("auto", "blank_line", "line")
_RULE_KEYS = {"id", "role", "pattern", "section", "after_title", "case_sensitive", "description"}
_PROFILE_KEYS = {"description", "detect", "rules", "paragraphs"}
_DETECT_KEYS = {"outlets", "contains_any"}
_TOP_KEYS = {"version", "title", "paragraphs", "abbreviations", "generic", "profiles"}
_CORPUS_TOP_KEYS = {"version", "profiles"}

_BREAK_RE = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True)
class Rule:
    id: str
    role: str
    pattern: str
    section: str | None = None
    after_title: bool = False
    case_sensitive: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    rules: tuple
    outlets: frozenset = frozenset()
    contains_any: tuple = ()
    paragraphs: str | None = None


@dataclass(frozen=True)
class Rules:
    """A checked rule set. ``fingerprint`` changes whenever any rule file does."""

    version: str
    fingerprint: str
    generic: tuple
    profiles: tuple
    title_max_words: int
    paragraphs: str
    abbreviations: frozenset
    abbreviations_before_number: frozenset


def load_rules(path, corpus_rules=None) -> Rules:
    """Load and check the cleaning rules, plus a corpus's own profiles.

    Raises InputError naming the file, the rule and the fix for: YAML syntax
    errors, unknown keys, unknown roles, duplicate ids, patterns that do not
    compile or use named groups.
    """
    path = Path(path)
    raw = path.read_bytes()
    doc = read_mapping(path, raw)
    problems = []
    _unknown(problems, path, "top level", doc, _TOP_KEYS)
    version = str(doc.get("version", "")).strip()
    if not version:
        problems.append(f"{path}: no version; add `version: \"1.0.0\"` and raise it when "
                        "a rule changes.")
    generic = _rules(problems, path, "generic", doc.get("generic") or [])
    profiles = _profiles(problems, path, doc.get("profiles") or {})
    fingerprint_parts = [raw]
    if corpus_rules is not None and os.path.lexists(corpus_rules):
        cpath = Path(corpus_rules)
        try:
            craw = read_regular(cpath)
        except NotRegular as e:
            raise InputError(f"{e}; a corpus's cleaning rules must be a regular file in the "
                             "corpus folder (copy the file itself there).") from None
        cdoc = read_mapping(cpath, craw)
        _unknown(problems, cpath, "top level", cdoc, _CORPUS_TOP_KEYS)
        extra = _profiles(problems, cpath, cdoc.get("profiles") or {})
        clash = {p.name for p in extra} & {p.name for p in profiles}
        for name in sorted(clash):
            problems.append(f"{cpath}, profile '{name}': a built-in profile has this name; "
                            "rename it.")
        profiles = extra + profiles
        fingerprint_parts.append(craw)
        version = f"{version}+corpus"
    paragraphs = doc.get("paragraphs", "auto")
    if paragraphs not in PARAGRAPH_MODES:
        problems.append(f"{path}, paragraphs: {paragraphs!r} is not one of "
                        f"{', '.join(PARAGRAPH_MODES)}.")
    title = doc.get("title") or {}
    max_words = title.get("max_words", 30)
    if not isinstance(max_words, int) or max_words < 1:
        problems.append(f"{path}, title.max_words: must be a positive whole number.")
    abbr = doc.get("abbreviations") or {}
    _unknown(problems, path, "abbreviations", abbr, {"always", "before_number"})
    for kind in ("always", "before_number"):
        for a in abbr.get(kind) or []:
            if not isinstance(a, str):
                problems.append(f"{path}, abbreviations.{kind}: {a!r} is not text; quote it "
                                "(YAML reads a bare No as false).")
    if problems:
        raise InputError(problems)
    return Rules(
        version=version,
        fingerprint=sha256_bytes(b"\0".join(fingerprint_parts)),
        generic=tuple(generic),
        profiles=tuple(profiles),
        title_max_words=max_words,
        paragraphs=paragraphs,
        abbreviations=frozenset(a.lower() for a in abbr.get("always") or []),
        abbreviations_before_number=frozenset(a.lower() for a in abbr.get("before_number") or []),
    )


def _unknown(problems, path, where, mapping, allowed):
    if not isinstance(mapping, dict):
        problems.append(f"{path}, {where}: must be a mapping.")
        return
    for key in sorted(set(mapping) - allowed):
        problems.append(f"{path}, {where}: unknown key '{key}'; allowed keys are "
                        f"{', '.join(sorted(allowed))}.")


def _rules(problems, path, where, items, prefix=""):
    """Checked rules; ``prefix`` qualifies a profile's rule ids ("wordpress.")."""
    out = []
    if not isinstance(items, list):
        problems.append(f"{path}, {where}: rules must be a list.")
        return out
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(f"{path}, {where} rule {i}: must be a mapping with id, role, pattern.")
            continue
        rid = item.get("id") or f"#{i}"
        here = f"{path}, rule '{rid}' ({where})"
        _unknown(problems, path, f"rule '{rid}' ({where})", item, _RULE_KEYS)
        for key in ("id", "role", "pattern"):
            if not item.get(key):
                problems.append(f"{here}: missing '{key}'.")
        role, section = item.get("role"), item.get("section")
        if role and role not in ROLES:
            problems.append(f"{here}: role '{role}' is not one of {', '.join(ROLES)}.")
        if section and section not in ROLES:
            problems.append(f"{here}: section '{section}' is not one of {', '.join(ROLES)}.")
        pattern = item.get("pattern")
        if pattern:
            try:  # compiled as it will run: inside the alternation, with its flags
                compiled = re.compile(_scoped(Rule("", "", str(pattern),
                                                   case_sensitive=bool(item.get("case_sensitive")))))
            except re.error as e:
                problems.append(f"{here}: pattern does not compile ({e}); fix the regular "
                                "expression.")
                compiled = None
            if compiled is not None and compiled.groupindex:
                problems.append(f"{here}: pattern uses named groups; use (?:...) or (...) instead.")
        if any(r.id == f"{prefix}{item.get('id')}" for r in out):
            problems.append(f"{here}: the id is used twice here; rule ids must be unique "
                            "within a profile, rename one.")
        elif all(item.get(k) for k in ("id", "role", "pattern")):
            out.append(Rule(id=f"{prefix}{item['id']}", role=role, pattern=str(pattern),
                            section=section, after_title=bool(item.get("after_title")),
                            case_sensitive=bool(item.get("case_sensitive"))))
    return out


def _profiles(problems, path, items):
    out = []
    if not isinstance(items, dict):
        problems.append(f"{path}, profiles: must be a mapping of profile name to profile.")
        return out
    for name, spec in items.items():
        spec = spec or {}
        _unknown(problems, path, f"profile '{name}'", spec, _PROFILE_KEYS)
        detect = spec.get("detect") or {}
        _unknown(problems, path, f"profile '{name}' detect", detect, _DETECT_KEYS)
        if not detect:
            problems.append(f"{path}, profile '{name}': no detect; give outlets and/or "
                            "contains_any so the profile knows which documents it applies to.")
        paragraphs = spec.get("paragraphs")
        if paragraphs is not None and paragraphs not in PARAGRAPH_MODES:
            problems.append(f"{path}, profile '{name}', paragraphs: {paragraphs!r} is not one of "
                            f"{', '.join(PARAGRAPH_MODES)}.")
        out.append(Profile(
            name=str(name),
            rules=tuple(_rules(problems, path, f"profile {name}", spec.get("rules") or [],
                               prefix=f"{name}.")),
            outlets=frozenset(str(o).casefold() for o in detect.get("outlets") or []),
            contains_any=tuple(str(s) for s in detect.get("contains_any") or []),
            paragraphs=paragraphs,
        ))
    return out


def detect_profiles(rules: Rules, text: str, outlet: str = "") -> tuple:
    """Names of the profiles that apply: by the manifest's outlet, or by a
    signature string anywhere in the text (plain substring checks)."""
    key = outlet.casefold()
    return tuple(p.name for p in rules.profiles
                 if (key and key in p.outlets) or any(s in text for s in p.contains_any))


class _Compiled:
    """One profile combination's rules as two alternations (before / after title)."""

    def __init__(self, rules: Rules, names: tuple):
        chosen = [p for p in rules.profiles if p.name in names]
        ordered = [r for p in chosen for r in p.rules] + list(rules.generic)
        self.by_group = {f"r{i}": r for i, r in enumerate(ordered)}
        self.before = self._alternation([(f"r{i}", r) for i, r in enumerate(ordered)
                                         if not r.after_title])
        self.after = self._alternation([(f"r{i}", r) for i, r in enumerate(ordered)])
        modes = [p.paragraphs for p in chosen if p.paragraphs]
        self.paragraphs = modes[0] if modes else rules.paragraphs

    @staticmethod
    def _alternation(pairs):
        if not pairs:
            return None
        # One group per rule, in priority order; scoped flags keep each rule's
        # case sensitivity. fullmatch tries the alternatives in order.
        return re.compile("|".join(f"(?P<{g}>{_scoped(r)})" for g, r in pairs))


def _scoped(rule: Rule) -> str:
    """The rule's pattern as a group with its own case sensitivity."""
    return f"(?{'' if rule.case_sensitive else 'i'}:{rule.pattern})"


_compiled_cache: dict = {}


def _compiled(rules: Rules, names: tuple) -> _Compiled:
    key = (rules.fingerprint, names)
    c = _compiled_cache.get(key)
    if c is None:
        c = _compiled_cache[key] = _Compiled(rules, names)
    return c


_SENTENCE_END = frozenset(".!?…。！？")
_CLOSERS = "\"'”’»)]」』）"


def _ends_like_sentence(s: str) -> bool:
    return s.rstrip(_CLOSERS)[-1:] in _SENTENCE_END


@dataclass(slots=True)
class Line:
    line_no: int
    role: str
    rule: str
    start: int
    end: int


def split_lines(text: str):
    """(line_no, start, end) of every raw line, line_no from 1; ``end`` excludes
    the line break (\\r\\n, \\n or \\r). A final break opens no further line."""
    out, pos = [], 0
    for n, m in enumerate(_BREAK_RE.finditer(text), start=1):
        out.append((n, pos, m.start()))
        pos = m.end()
    if pos < len(text) or not out:
        out.append((len(out) + 1, pos, len(text)))
    return out


def classify(text: str, rules: Rules, profiles: tuple = (), keep=None, comments=None,
             title=None):
    """Give every raw line of ``text`` one role.

    Returns (lines, paragraph_mode). ``keep``, ``comments`` and ``title``
    (HTML) are the normalised lines an extractor kept as body and as reader
    comments, and the title it found; other lines that no rule claims become
    boilerplate (rule ``extractor_discarded``).
    """
    comp = _compiled(rules, profiles)
    out = []
    section = None
    section_rule = ""
    title_found = False
    for line_no, start, end in split_lines(text):
        s = text[start:end].strip()
        if not s:
            out.append(Line(line_no, "blank", "blank", start, end))
            continue
        pattern = comp.after if title_found else comp.before
        m = pattern.fullmatch(s) if pattern is not None else None
        if m is not None:
            rule = comp.by_group[m.lastgroup]
            if rule.section:
                section, section_rule = rule.section, rule.id
            out.append(Line(line_no, rule.role, rule.id, start, end))
            continue
        if section:
            out.append(Line(line_no, section, f"{section_rule}.section", start, end))
            continue
        if keep is not None:
            # An extractor decided what the article is (HTML): its title, its
            # body lines and its reader comments; everything else is furniture.
            norm = normalize(s)
            if not title_found and norm == title:
                title_found = True
                out.append(Line(line_no, "title", "extractor_title", start, end))
                continue
            if comments and norm in comments:
                out.append(Line(line_no, "comment", "extractor_comment", start, end))
                continue
            if norm not in keep:
                out.append(Line(line_no, "boilerplate", "extractor_discarded", start, end))
                continue
            title_found = True  # the extractor's body begins; no later line is a title
        if not title_found:
            title_found = True
            if _is_title(s, rules):
                out.append(Line(line_no, "title", "title", start, end))
                continue
        out.append(Line(line_no, "body", "body", start, end))
    return out, comp.paragraphs


def _is_title(s: str, rules: Rules) -> bool:
    return len(s.split()) <= rules.title_max_words and not _ends_like_sentence(s)
