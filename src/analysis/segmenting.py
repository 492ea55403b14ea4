"""Segmenting: paragraphs and sentences, each with offsets into the raw text.

Boundaries are found in the raw text itself (white space there includes line
breaks and non-breaking spaces), so offsets never need mapping back; only the
``text`` of a segment is normalised.
"""

import re
from dataclasses import dataclass

from .cleaning import Line, Rules, normalize

# A candidate sentence end: terminal punctuation, closing quotes or brackets,
# white space, then something that can open a sentence. Chinese full-width
# terminal punctuation needs no white space after it.
_CANDIDATE = re.compile(
    r"(?P<punct>[.!?…]+)(?P<close>[\"'”’»)\]]*)(?P<space>\s+)"
    r"(?=[\"'“‘«(\[#]?[A-Z0-9\u00C0-\u024F\u3400-\u9fff])"
    r"|(?P<cjk>[。！？]+)(?P<cjkclose>[”’」』）]*)\s*(?=\S)")
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?")
_DIGIT_AFTER = re.compile(r"[\"'“‘(\[]?\d")
# A list marker opening a paragraph ("1.", "(a)") is not a sentence of its own.
_ENUMERATOR = re.compile(r"\(?(?:\d{1,3}|[A-Za-z])[.)]")


@dataclass
class Segment:
    segment_id: str
    unit: str  # paragraph | sentence
    role: str  # body | comment
    parent_id: str | None
    start: int
    end: int


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
    spans = []
    s = start
    for m in _CANDIDATE.finditer(text, start, end):
        if m.group("cjk") is None and not _is_boundary(text, m, rules):
            continue
        if m.end("close") - s <= 8 and _ENUMERATOR.fullmatch(text[s:m.end("close")].strip()):
            continue
        cut = m.end("close") if m.group("cjk") is None else m.end("cjkclose")
        spans.append((s, cut))
        s = m.end()
    spans.append((s, end))
    return [t for t in (_trim(text, a, b) for a, b in spans) if t[1] > t[0]]


def _is_boundary(text, m, rules):
    if m.group("punct") != ".":
        return True
    i = m.start()
    # the word before the full stop: back to the previous white space (C-speed rfind)
    k = max(text.rfind(" ", 0, i), text.rfind("\n", 0, i), text.rfind("\xa0", 0, i))
    word = text[k + 1:i].lstrip("\"'“‘(«[")
    key = word.rstrip(".").lower()
    if key in rules.abbreviations:
        return False
    if key in rules.abbreviations_before_number and _DIGIT_AFTER.match(text, m.end()):
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. Smith"
    if "." in word and _INITIALS.fullmatch(word):
        return False  # U.S., e.g., i.e.
    return True


def _trim(text, a, b):
    span = text[a:b]
    stripped = span.lstrip()
    a += len(span) - len(stripped)
    return a, a + len(stripped.rstrip())


def segment(text: str, lines: list[Line], mode: str, rules: Rules):
    """Paragraph and sentence segments of one document, in reading order:
    each paragraph followed by its sentences. Ids: body paragraphs p1, p2...,
    comment paragraphs c1, c2..., sentences p1.s1, p1.s2...; returns
    (segments, normalised texts)."""
    segs, texts = [], []
    counters = {"body": 0, "comment": 0}
    for role, a, b in paragraphs(lines, mode):
        a, b = _trim(text, a, b)
        counters[role] += 1
        pid = f"{'p' if role == 'body' else 'c'}{counters[role]}"
        segs.append(Segment(pid, "paragraph", role, None, a, b))
        texts.append(normalize(text[a:b]))
        for k, (sa, sb) in enumerate(sentence_spans(text, a, b, rules), start=1):
            segs.append(Segment(f"{pid}.s{k}", "sentence", role, pid, sa, sb))
            texts.append(normalize(text[sa:sb]))
    return segs, texts
