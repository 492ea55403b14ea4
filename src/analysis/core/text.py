"""Text shared by every stage: normalisation that keeps offsets into the raw
text, and one UTF-8 buffer of many texts for a single scan.

Offsets always point into an article's decoded raw text; normalisation only
changes what is matched and shown. Normalised text carries no HTML markup: a
page saved as text with its tags or entity escapes still in it ("<p>",
"&amp;") is matched and shown as what a reader sees, and offsets still point
at the raw markup. ``normalize`` is the fast path,
``normalize_with_offsets`` maps each normalised character back to its raw
span, and ``same_positions`` says when no mapping is needed.
"""

import html
import re
import unicodedata

import numpy as np

from .chinese import fold_codepoints, has_han

_QUOTES = {c: "'" for c in "‘’‚‛′"} | {c: '"' for c in "“”„‟″«»"}
_DROP = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width characters, soft hyphen
_REPLACE = tuple(_QUOTES.items()) + tuple((c, "") for c in _DROP)
_DROPPED = re.compile(f"[{_DROP}]")
_TRANSLATE = {ord(k): v or None for k, v in _REPLACE}

# HTML left in a text dump: tags of HTML's own vocabulary (so "a <b and c>"
# in prose is not a tag unless b is one), comments, and entity escapes.
_INLINE_TAGS = ("a|abbr|b|big|cite|code|del|em|font|i|img|ins|kbd|label|mark|q|s|small|span|"
                "strong|sub|sup|time|u")
_BLOCK_TAGS = ("address|article|aside|blockquote|body|br|caption|dd|div|dl|dt|figcaption|"
               "figure|footer|h[1-6]|head|header|hr|html|iframe|li|main|nav|ol|p|picture|pre|"
               "section|source|table|tbody|td|tfoot|th|thead|title|tr|ul|video|audio")
_MARKUP = re.compile(
    rf"<(/?)(?:({_BLOCK_TAGS})|{_INLINE_TAGS})(?:\s[^<>]*)?/?>|<!--.*?-->"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});",
    re.IGNORECASE | re.DOTALL)


def has_markup(raw: str) -> bool:
    """Whether ``raw`` holds HTML tags or entity escapes (a cheap check first)."""
    return ("<" in raw or "&" in raw) and _MARKUP.search(raw) is not None


def markup_spans(raw: str):
    """(start, end, replacement) of each tag, comment and entity in ``raw``:
    a block-level tag reads as a space (it separates words), any other tag or
    a comment as nothing, an entity as the character it escapes (an unknown
    name stays as written)."""
    for m in _MARKUP.finditer(raw):
        token = m.group()
        if token[0] == "&":
            yield m.start(), m.end(), html.unescape(token)
        else:
            yield m.start(), m.end(), " " if m.group(2) else ""


def block_tag_spans(raw: str, start: int = 0, end: int | None = None):
    """(start, end) of every block-level tag in raw[start:end]: the places
    where a page's paragraphs were marked."""
    for m in _MARKUP.finditer(raw, start, len(raw) if end is None else end):
        if m.group(2):
            yield m.start(), m.end()


def strip_markup(raw: str) -> str:
    """``raw`` as a reader sees it: tags out, entities unescaped."""
    if not has_markup(raw):
        return raw
    out, pos = [], 0
    for a, b, rep in markup_spans(raw):
        out.append(raw[pos:a])
        out.append(rep)
        pos = b
    out.append(raw[pos:])
    return "".join(out)


def normalize(raw: str) -> str:
    """Normalised text: Unicode NFC, straight quotes, no zero-width characters
    or soft hyphens, white space (incl. non-breaking) collapsed to one space,
    no leading or trailing space, HTML tags and entity escapes read as a reader
    sees them. Cheap checks skip the steps a text needs not."""
    raw = strip_markup(raw)
    if not unicodedata.is_normalized("NFC", raw):
        raw = _nfc_by_cluster(raw)
    if not raw.isascii():
        # str.replace guarded by `in` runs at C speed; str.translate with a
        # mapping does not, for non-ASCII text.
        for old, new in _REPLACE:
            if old in raw:
                raw = raw.replace(old, new)
    return " ".join(raw.split())


def same_positions(raw: str, text: str) -> bool:
    """Whether ``text = normalize(raw)`` kept every character's position: the
    same length, ``raw`` already NFC, and nothing deleted (quote and white-space
    replacements are one for one). Then offsets need no normalize_with_offsets."""
    return (len(raw) == len(text) and unicodedata.is_normalized("NFC", raw)
            and not _DROPPED.search(raw) and not has_markup(raw))


def normalize_with_offsets(raw: str) -> tuple[str, list[int], list[int]]:
    """``normalize(raw)`` plus, for each output character, the raw span
    [starts[i], ends[i]) it came from. Slower; meant for the few places that
    need to map a match in normalised text back to the raw text."""
    chars, starts, ends = [], [], []
    for cs, ce, cluster in _pieces(raw):
        out = unicodedata.normalize("NFC", cluster)
        for ch in out:
            t = _TRANSLATE.get(ord(ch), ch)
            if t is None:
                continue
            chars.append(t)
            starts.append(cs)
            ends.append(ce)
    # collapse white space exactly as " ".join(s.split()) does
    text, s2, e2 = [], [], []
    pending = False
    for ch, s, e in zip(chars, starts, ends):
        if ch.isspace():
            pending = bool(text)
            continue
        if pending:
            text.append(" ")
            s2.append(s)
            e2.append(s)
            pending = False
        text.append(ch)
        s2.append(s)
        e2.append(e)
    return "".join(text), s2, e2


def _clusters(raw: str):
    """(start, end, text) of each starter with its following combining marks."""
    i, n = 0, len(raw)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(raw[j]):
            j += 1
        yield i, j, raw[i:j]
        i = j


def _pieces(raw: str):
    """``_clusters`` of the text between markup, and each tag or entity as
    one piece whose replacement text maps to the markup's whole raw span."""
    pos = 0
    if has_markup(raw):
        for a, b, rep in markup_spans(raw):
            for cs, ce, c in _clusters(raw[pos:a]):
                yield pos + cs, pos + ce, c
            if rep:
                yield a, b, rep
            pos = b
    for cs, ce, c in _clusters(raw[pos:]):
        yield pos + cs, pos + ce, c


def _nfc_by_cluster(raw: str) -> str:
    # NFC applied per cluster, so that normalize_with_offsets agrees exactly.
    return "".join(unicodedata.normalize("NFC", c) for _, _, c in _clusters(raw))


# Text scanned at once (one buffer, its byte -> character map and its raw
# matches): bounds the memory of a scan, however large the document.
SLICE_BYTES = 1 << 20


def slices(sizes, limit: int):
    """[lo, hi) ranges of consecutive items whose sizes add up to about ``limit``."""
    lo, total = 0, 0
    for i, n in enumerate(sizes):
        total += n
        if total >= limit:
            yield lo, i + 1
            lo, total = i + 1, 0
    if lo < len(sizes):
        yield lo, len(sizes)


def join_utf8(texts):
    """One UTF-8 buffer of all texts separated by NUL, and each text's byte
    start. Chinese in traditional characters is folded to simplified in the
    buffer (``chinese.fold``: one character for one), so the indicators and
    aliases, written in simplified characters, match both scripts, and
    character offsets in the buffer are offsets in the texts."""
    joined = "\0".join(texts)
    if not has_han(joined):
        starts, pos, parts = [], 0, []
        for t in texts:
            b = t.encode("utf-8")
            starts.append(pos)
            parts.append(b)
            pos += len(b) + 1
        return b"\0".join(parts), starts
    points = fold_codepoints(np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32))
    data = points.tobytes().decode("utf-32-le").encode("utf-8")
    # each character's UTF-8 width gives the byte offset of every character
    width = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    offsets = np.concatenate(([0], np.cumsum(width)))
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    char_starts = np.concatenate(([0], np.cumsum(lengths[:-1])))
    return data, offsets[char_starts].tolist()


def char_offsets(data: bytes) -> np.ndarray:
    """For a UTF-8 buffer, the character offset of every byte offset (one more
    entry than bytes): counting the lead bytes, so a match's byte span maps to
    characters with two look-ups."""
    buf = np.frombuffer(data, dtype=np.uint8)
    out = np.empty(len(buf) + 1, dtype=np.int32)  # filled in place: no second copy
    out[0] = 0
    np.cumsum((buf & 0xC0) != 0x80, dtype=np.int32, out=out[1:])
    return out
