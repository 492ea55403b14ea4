"""Cleaning: give every raw line one role.

The rules are data (``instruments/cleaning.yaml``, documented there); this
module checks them on load, compiles each profile combination once into a
single alternation, and applies it line by line; ``layout`` adds what needs
the lines around (the title, picture blocks, link runs, recurring lines).
Offsets always point into the article's decoded raw text; normalisation
(``core.text``) changes only the ``text`` columns.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError
from ..core.fileio import NotRegular, read_mapping, read_regular, sha256_bytes
from ..core.text import has_markup, normalize, strip_markup
from . import layout

ROLES = ("title", "body", "caption", "credit", "comment", "boilerplate", "blank")
PARAGRAPH_MODES = ("auto", "blank_line", "line")
_RULE_KEYS = {"id", "role", "pattern", "section", "after_title", "case_sensitive", "figure",
              "description"}
_PROFILE_KEYS = {"description", "detect", "rules", "paragraphs"}
_DETECT_KEYS = {"outlets", "contains_any"}
_TOP_KEYS = {"version", "title", "paragraphs", "abbreviations", "recurrence", "generic",
             "profiles"}
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
    figure: bool = False  # the line belongs to a picture (a credit or caption)


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
    title_min_words: int = 5
    recurrence_min_documents: int = 4
    recurrence_max_words: int = 30


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
    _unknown(problems, path, "title", title, {"max_words", "min_words"})
    max_words = _positive(problems, path, "title.max_words", title.get("max_words", 30))
    min_words = _positive(problems, path, "title.min_words", title.get("min_words", 5))
    recurrence = doc.get("recurrence") or {}
    _unknown(problems, path, "recurrence", recurrence, {"min_documents", "max_words"})
    min_docs = _positive(problems, path, "recurrence.min_documents",
                         recurrence.get("min_documents", 4))
    if min_docs == 1:
        problems.append(f"{path}, recurrence.min_documents: 1 would make every short line "
                        "furniture; use 2 or more.")
    rec_words = _positive(problems, path, "recurrence.max_words", recurrence.get("max_words", 30))
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
        title_min_words=min_words,
        recurrence_min_documents=min_docs,
        recurrence_max_words=rec_words,
        paragraphs=paragraphs,
        abbreviations=frozenset(a.lower() for a in abbr.get("always") or []),
        abbreviations_before_number=frozenset(a.lower() for a in abbr.get("before_number") or []),
    )


def _positive(problems, path, where, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        problems.append(f"{path}, {where}: must be a positive whole number.")
        return 1
    return value


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
                            case_sensitive=bool(item.get("case_sensitive")),
                            figure=bool(item.get("figure"))))
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
        # Only a combination with after_title rules needs the second alternation.
        self.after = (self._alternation([(f"r{i}", r) for i, r in enumerate(ordered)])
                      if any(r.after_title for r in ordered) else None)
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


# What a document's cleaning found beyond its lines' roles.
READ_MORE = "read_more"
ERROR_PAGE = "error_page"


@dataclass
class Cleaned:
    lines: list  # Line per raw line
    paragraphs: str  # paragraph mode
    markup: bool  # HTML tags or entities in the text
    no_article: str | None  # why the page holds no article, or None


def line_keys(text: str, rules: Rules, site: str):
    """Keys (layout.line_key) of the distinct short lines of a text, for the
    corpus-wide count of recurring lines."""
    if not site:
        return set()
    markup = has_markup(text)
    keys = set()
    for _, a, b in split_lines(text):
        s = _shown(text[a:b], markup)
        if s and layout.countable(s, rules.recurrence_max_words):
            keys.add(layout.line_key(site, s))
    return keys


def _shown(raw_line: str, markup: bool) -> str:
    """A line as a reader sees it, white space collapsed (what rules match)."""
    return " ".join((strip_markup(raw_line) if markup else raw_line).split())


def classify(text: str, rules: Rules, profiles: tuple = (), keep=None, comments=None,
             title=None, recurring=frozenset(), site="", url="", outlet="") -> Cleaned:
    """Give every raw line of ``text`` one role (see cleaning.yaml for the order).

    ``keep``, ``comments`` and ``title`` (HTML) are the normalised lines an
    extractor kept as body and as reader comments, and the title it found;
    other lines that no rule claims become boilerplate (rule
    ``extractor_discarded``). ``recurring`` holds the keys of lines that recur
    on the article's ``site`` across the corpus; ``url`` is its address and
    ``outlet`` its outlet's name (a line starting with it is a masthead).
    """
    comp = _compiled(rules, profiles)
    markup = has_markup(text)
    spans = split_lines(text)
    n = len(spans)
    shown = [_shown(text[a:b], markup) for _, a, b in spans]
    roles, rule_ids = [None] * n, [""] * n
    figure = [False] * n
    matched = [None] * n  # the rule the before-title alternation found
    for i, s in enumerate(shown):
        if not s:
            a, b = spans[i][1:]
            roles[i], rule_ids[i] = (("blank", "blank") if not text[a:b].strip()
                                     else ("boilerplate", "markup_only"))
            continue
        if comp.before is not None and (m := comp.before.fullmatch(s)):
            matched[i] = comp.by_group[m.lastgroup]
        elif layout.timestamp_like(s):
            roles[i], rule_ids[i] = "credit", "timestamp"
        elif recurring and layout.countable(s, rules.recurrence_max_words) \
                and layout.line_key(site, s) in recurring:
            roles[i], rule_ids[i] = "boilerplate", "recurring"

    title_at = None
    if keep is None:
        free = [roles[i] is None and matched[i] is None for i in range(n)]
        stops = [m is not None and bool(m.section) for m in matched]
        title_at = layout.choose_title(shown, free, rules.title_min_words,
                                       rules.title_max_words, outlet, stops)
    # Rules and sections, in reading order: after the title, the full
    # alternation (after_title rules included) decides.
    section = section_rule = None
    title_found = False
    for i, s in enumerate(shown):
        if roles[i] is not None:
            continue
        after = title_found or (title_at is not None and i > title_at)
        rule = matched[i]
        if after and comp.after is not None and (m := comp.after.fullmatch(s)):
            rule = comp.by_group[m.lastgroup]
        if rule is not None:
            if rule.section:
                section, section_rule = rule.section, rule.id
            roles[i], rule_ids[i], figure[i] = rule.role, rule.id, rule.figure
            continue
        if section:
            roles[i], rule_ids[i] = section, f"{section_rule}.section"
            continue
        if keep is not None:
            # An extractor decided what the article is (HTML): its title, its
            # body lines and its reader comments; everything else is furniture.
            norm = normalize(s)
            if not title_found and norm == title:
                title_found = True
                roles[i], rule_ids[i] = "title", "extractor_title"
            elif comments and norm in comments:
                roles[i], rule_ids[i] = "comment", "extractor_comment"
            elif norm not in keep:
                roles[i], rule_ids[i] = "boilerplate", "extractor_discarded"
            else:
                title_found = True  # the extractor's body begins; no later line is a title
    if title_at is not None and roles[title_at] is None:
        roles[title_at], rule_ids[title_at] = "title", "title"
        for i in range(title_at):
            if roles[i] is None:
                roles[i], rule_ids[i] = "boilerplate", "before_title"
        for i in range(title_at + 1, n):
            if roles[i] is None and layout.repeats_title(shown[i], shown[title_at]):
                roles[i], rule_ids[i] = "boilerplate", "title_repeat"
    _layout(shown, roles, rule_ids, figure, rules)
    lines = []
    for i, (line_no, a, b) in enumerate(spans):
        role = roles[i] or "body"
        lines.append(Line(line_no, role, rule_ids[i] or "body", a, b))
    return Cleaned(lines, comp.paragraphs, markup, _no_article(shown, roles, rule_ids, url))


def _layout(shown, roles, rule_ids, figure, rules):
    """Pictures, alt text and link runs among the lines no rule claimed."""
    free = [r is None for r in roles]
    if layout.blank_separated(shown):
        for i in layout.figure_blocks(shown, free, figure):
            roles[i], rule_ids[i] = "caption", "figure_block"
    free = [r is None for r in roles]
    for i, j in layout.caption_leads(shown, free, rules.title_max_words):
        for k in (i, j):
            if roles[k] is None:
                roles[k], rule_ids[k] = "caption", "caption_lead"
    free = [r is None for r in roles]
    for i in layout.link_runs(shown, free):
        roles[i], rule_ids[i] = "boilerplate", "link_run"


def _no_article(shown, roles, rule_ids, url) -> str | None:
    """Why a page holds no article, or None."""
    if url and layout.listing_address(url):
        return f"its address ({url}) is a listing page (tag, topic, category, author or search)"
    body = ["body" if r is None else r for r in roles]
    if layout.only_teasers(shown, body, rule_ids, READ_MORE):
        return "its only text is teasers, each followed by a read-more link"
    if ERROR_PAGE in rule_ids and body.count("body") < 3:
        return "it is an error page (page not found or removed)"
    return None
