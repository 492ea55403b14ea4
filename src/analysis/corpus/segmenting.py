"""Segmenting: paragraphs and sentences, each with offsets into the raw text.

Boundaries are found in the raw text itself (white space there includes line
breaks and non-breaking spaces), so offsets never need mapping back; only the
``text`` of a segment is normalised.
"""

import re

from ..core.text import block_tag_spans, normalize
from .cleaning import Line, Rules

# A list marker opening a paragraph ("1.", "(a)") is not a sentence of its own.
_ENUMERATOR = re.compile(r"\(?(?:\d{1,3}|[A-Za-z])[.)]")  # matched on a trimmed span
_boundary_cache: dict = {}


def _boundaries(rules: Rules) -> re.Pattern:
    """The sentence-end pattern for a rule set, compiled once.

    A candidate end is terminal punctuation, closing quotes or brackets, white
    space, then something that can open a sentence; Chinese full-width
    punctuation needs no white space. Lookbehinds rule out the full stops that
    end no sentence: after an abbreviation (by word length, as lookbehinds
    need a fixed width), after a number abbreviation when a number follows
    ("No. 1", "Sept. 14"), after an initial ("J. Smith") or inside initials
    ("U.S.", "e.g."). Chinese sentences end at 。！？； (and at an ellipsis or a
    half-width ! ? ; written after a Chinese character), with any closing
    quotation marks or brackets (”」』）》) kept with the sentence. Group 1
    closes a Latin sentence end, group 2 a Chinese one.
    """
    pattern = _boundary_cache.get(rules.fingerprint)
    if pattern is None:
        # The pattern starts with the punctuation itself, so the regex engine
        # scans for it at C speed; the guards look back from the full stop.
        guards = []
        for words in _by_length(rules.abbreviations):
            guards.append(rf"(?<!\b(?i:{'|'.join(map(re.escape, words))})\.)")
        for words in _by_length(rules.abbreviations_before_number):
            guards.append(rf"(?!(?<=\b(?i:{'|'.join(map(re.escape, words))})\.)"
                          r"\s+[\"'“‘(\[]?\d)")
        guards += [r"(?<!\b[A-Z]\.)", r"(?<!\.[A-Za-z]\.)"]
        pattern = _boundary_cache[rules.fingerprint] = re.compile(
            r"[.!?…]" + "".join(guards) + r"[.!?…]*([\"'”’»)\]]*)\s+"
            r"(?=[\"'“‘«(\[#]?[A-Z0-9\u00C0-\u024F\u3400-\u9fff])"
            r"|(?:[。！？；]+|(?<=[\u3400-\u9fff])(?:…+|[!?;]+))([”’」』）》\"']*)\s*(?=\S)")
    return pattern


def _by_length(words):
    groups = {}
    for w in sorted(words):
        groups.setdefault(len(w), []).append(w)
    return [groups[k] for k in sorted(groups)]


def paragraphs(lines: list[Line], mode: str):
    """Group body and comment lines into paragraphs: (role, start, end) spans.

    ``mode`` is 'blank_line' (consecutive lines of one role form one paragraph),
    'line' (every line is a paragraph) or 'auto' ('blank_line' when a blank line
    separates two body lines, else 'line').
    """
    if mode == "auto":
        mode = "line"
        after_body = gap = False  # a body line, then only blank lines since
        for ln in lines:
            if ln.role == "body":
                if gap:
                    mode = "blank_line"
                    break
                after_body = True
            elif ln.role == "blank":
                gap = after_body
            else:
                after_body = gap = False
    spans = []
    current = None  # [role, start, end, last_line_no]
    for ln in lines:
        role = ln.role if ln.role in ("body", "comment") else None
        joinable = (current is not None and mode == "blank_line" and role == current[0]
                    and ln.line_no == current[3] + 1)
        if role and joinable:
            current[2], current[3] = ln.end, ln.line_no
            continue
        if current is not None:
            spans.append(tuple(current[:3]))
            current = None
        if role:
            current = [role, ln.start, ln.end, ln.line_no]
    if current is not None:
        spans.append(tuple(current[:3]))
    return spans


def sentence_spans(text: str, start: int, end: int, rules: Rules):
    """Sentence (start, end) spans within text[start:end], trimmed of white space.

    Copes with abbreviations (Mr., No. 1, Sept. 14), initials and U.S., names
    written without a space ("Ms.Qian"), numbers ("$6,960", "3.5"), closing
    quotes after the full stop, and Chinese full-width punctuation.
    """
    # Spans need no trimming of their own: a cut falls after punctuation and the
    # next sentence starts after the white space that the candidate consumed.
    s, end = _trim(text, start, end)
    spans = []
    for m in _boundaries(rules).finditer(text, s, end):
        cut = m.end(1) if m.start(1) >= 0 else m.end(2)
        if cut - s <= 8 and _ENUMERATOR.fullmatch(text, s, cut):
            continue  # "1." opening a list item
        spans.append((s, cut))
        s = m.end()
    if s < end:
        spans.append((s, end))
    return spans


def _trim(text, a, b):
    span = text[a:b]
    stripped = span.lstrip()
    a += len(span) - len(stripped)
    return a, a + len(stripped.rstrip())


SEGMENT_COLUMNS = ("segment_id", "unit", "role", "parent_id", "text", "raw", "start", "end")


def markup_paragraphs(text: str, spans):
    """Paragraph spans cut again at HTML block tags (<p>, <br>, <div>, <li>...)
    left in a text dump; the tags themselves belong to no paragraph, and a
    piece with no visible text is dropped."""
    for role, a, b in spans:
        pos = a
        for ta, tb in list(block_tag_spans(text, a, b)) + [(b, b)]:
            if normalize(text[pos:ta]):
                yield role, pos, ta
            pos = tb


def segment(text: str, lines: list[Line], mode: str, rules: Rules, markup: bool = False) -> dict:
    """Paragraph and sentence segments of one document as columns (lists named
    by SEGMENT_COLUMNS), in reading order: each paragraph, then its sentences.
    Ids: body paragraphs p1, p2..., comment paragraphs c1..., sentences p1.s1...
    ``raw`` is the exact raw text of a paragraph (None for a sentence: it is
    the slice of its paragraph's raw text that its offsets give). With
    ``markup``, HTML block tags also end paragraphs."""
    whole = {name: [] for name in SEGMENT_COLUMNS}
    for cols in segment_pieces(text, paragraphs(lines, mode), rules, markup):
        for name in SEGMENT_COLUMNS:
            whole[name] += cols[name]
    return whole


def segment_pieces(text: str, spans: list, rules: Rules, markup: bool = False,
                   piece_chars: int | None = None):
    """``segment``'s columns, from the document's ``paragraphs`` spans, in
    pieces of whole paragraphs holding about ``piece_chars`` characters of
    text each (one piece when None), so that a huge document is never held
    as Python lists all at once. Ids number on across pieces; a document
    with no paragraph yields no piece."""
    counters = {"body": 0, "comment": 0}
    cols = {name: [] for name in SEGMENT_COLUMNS}
    held = 0
    for role, a, b in (markup_paragraphs(text, spans) if markup else spans):
        a, b = _trim(text, a, b)
        counters[role] += 1
        pid = f"{'p' if role == 'body' else 'c'}{counters[role]}"
        sents = sentence_spans(text, a, b, rules)
        n = len(sents) + 1
        ids, units, roles, parents, texts, raws, starts, ends = cols.values()
        ids.append(pid)
        ids.extend(f"{pid}.s{k}" for k in range(1, n))
        units.append("paragraph")
        units.extend(["sentence"] * (n - 1))
        roles.extend([role] * n)
        parents.append(None)
        parents.extend([pid] * (n - 1))
        raw = text[a:b]
        norm = normalize(raw)
        texts.append(raw if norm == raw else norm)  # one string, not two equal ones
        texts.extend(normalize(text[sa:sb]) for sa, sb in sents)
        raws.append(raw)
        raws.extend([None] * (n - 1))
        starts.append(a)
        starts.extend(sa for sa, _ in sents)
        ends.append(b)
        ends.extend(sb for _, sb in sents)
        held += b - a
        if piece_chars is not None and held >= piece_chars:
            yield cols
            cols, held = {name: [] for name in SEGMENT_COLUMNS}, 0
    if cols["segment_id"]:
        yield cols
