"""The coder: the codebook applied to paragraphs, with evidence for every code.

``code_segments(segments, book)`` is a pure function of a segments table and
a codebook. It scans all paragraphs of a batch in one Hyperscan pass (texts
joined by NUL bytes, which no indicator can match across), keeps the matches
that pass their guards and context, and maps each back to the raw text, so
``raw[start:end]`` of the article is exactly the evidence.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.parquet import combined
from ..core.text import (SLICE_BYTES, char_offsets, join_utf8, normalize_with_offsets,
                         same_positions, slices)
from .engine import matcher
from .schema import SENTENCE_FAMILIES, Codebook

_str = pa.string()
CODES = pa.schema([
    ("doc_id", _str), ("segment_id", _str), ("role", _str), ("code", _str),
    ("indicator", _str), ("evidence", _str), ("start", pa.int64()), ("end", pa.int64()),
    ("source", _str),
])
DOC_CODES = pa.schema([
    ("doc_id", _str), ("code", _str), ("present", pa.bool_()), ("n_segments", pa.int32()),
    ("share_of_paragraphs", pa.float64()), ("share_of_questions", pa.float64()),
])
# The codebook's codes as data, so tables and figures label codes without
# reloading (and recompiling) the codebook.
CODE_LABELS = pa.schema([
    ("code", _str), ("family", _str), ("label", _str), ("parent", _str), ("definition", _str),
])
CODER_COLUMNS = ["doc_id", "segment_id", "unit", "role", "text", "raw", "start"]


def code_segments(segments, book: Codebook, unit: str = "paragraph"):
    """Code the paragraphs of a segments table (pyarrow Table or pandas
    DataFrame with doc_id, segment_id, unit, role, text, raw, start).

    Returns (codes, doc_codes) as pyarrow Tables:
    - codes: one row per accepted match, body and comment paragraphs alike
      (``role`` tells which), in reading order;
    - doc_codes: one row per document with a body paragraph and per code id,
      zeros included, from body paragraphs only (comments never change a
      document's codes). ``present``: at least one body paragraph carries the
      code (for a frame question: the question is answered yes);
      ``n_segments``: how many; ``share_of_paragraphs``: that many over the
      document's body paragraphs; ``share_of_questions``: for a generic frame
      only (else null), the share of its questions answered yes, its Semetko
      & Valkenburg score.
    """
    codes, tally = code_rows(segments, book, unit)
    return codes, tally.table(book)


class Tally:
    """What doc_codes is made from: per piece of a batch, its documents (in
    the order they first appear), their body paragraphs, and how many of
    those carry each code (and, for a frame, any of its questions). Counts,
    not sets of segment ids, so that the tallies of consecutive pieces of a
    document add up (a paragraph is in one piece)."""

    def __init__(self):
        # (doc ids, body paragraphs per doc, (doc, key, paragraphs) triples):
        # key c is code c of the codebook, key n_codes + c any question of frame c
        self.parts = []

    def add(self, other: "Tally") -> "Tally":
        self.parts += other.parts
        return self

    def table(self, book: Codebook) -> pa.Table:
        """doc_codes (see code_segments)."""
        return _doc_codes(self.parts, book)


def code_rows(segments, book: Codebook, unit: str = "paragraph"):
    """(codes, Tally) of the rows of ``unit`` of a segments table: codes as in
    code_segments; the tally gives doc_codes, alone or added to the tallies of
    the other pieces of the same documents."""
    if not isinstance(segments, pa.Table):
        segments = pa.Table.from_pandas(segments, preserve_index=False)
    rows = np.flatnonzero(pc.equal(segments["unit"], unit).fill_null(False).to_numpy())
    sizes = pc.binary_length(segments["text"]).take(rows).to_numpy(zero_copy_only=False)
    # Paragraphs are coded independently (no match, guard or context crosses
    # one), so a batch is coded in slices of about SLICE_BYTES of text: the
    # memory a slice takes stays bounded even for a single huge document.
    tally, pieces = Tally(), []
    for lo, hi in slices(sizes.tolist(), SLICE_BYTES):
        part = segments.select(CODER_COLUMNS).take(rows[lo:hi]).combine_chunks()
        pieces.append(_code_slice(part, book, unit, tally))
        del part
    codes = combined(pieces) if pieces else CODES.empty_table()
    return codes, tally


def _code_slice(part: pa.Table, book: Codebook, unit: str, tally: Tally) -> pa.Table:
    """The codes table of a slice of rows, all of ``unit`` (an Arrow table of
    CODER_COLUMNS, in order); counts its documents' body paragraphs, and
    those carrying each code, into ``tally``. The work per match is array
    operations: the columns of the codes table are taken from the slice's
    columns, and the evidence is cut from the raw text's bytes."""
    texts = part["text"].to_pylist()
    data, byte_starts = join_utf8(texts)
    k, s, e = matcher(book).matches(data, byte_starts)
    # paragraphs carry frames and themes, sentences outcome events
    layout = _layout(book)
    keep = layout.sentence[k] == (unit == "sentence")
    k, s, e = k[keep], s[keep], e[keep]

    # byte offsets -> paragraph and character offsets within it (UTF-8 lead bytes)
    starts = np.asarray(byte_starts, dtype=np.int64)
    para = np.searchsorted(starts, s, side="right") - 1
    chars = char_offsets(data)
    base = chars[starts[para]].astype(np.int64)
    cs, ce = chars[s] - base, chars[e] - base
    del chars
    code = layout.code_of[k]

    # normalised -> raw offsets: the same positions unless normalising changed lengths
    rs, re_ = cs.copy(), ce.copy()
    raw = part["raw"].combine_chunks()
    # a paragraph whose raw text is its normalised text keeps its positions
    changed = ~pc.equal(raw, part["text"].combine_chunks()).fill_null(False).to_numpy(
        zero_copy_only=False)
    for p in np.unique(para[changed[para]]).tolist():
        raw_p = raw[p].as_py()
        if not same_positions(raw_p, texts[p]):
            _, smap, emap = normalize_with_offsets(raw_p)
            # matches come sorted by position, so one paragraph's are one slice
            lo, hi = np.searchsorted(para, p, "left"), np.searchsorted(para, p, "right")
            rs[lo:hi] = np.take(smap, cs[lo:hi])
            re_[lo:hi] = np.take(emap, ce[lo:hi] - 1)
    del texts

    # one piece of evidence per stretch: drop matches inside another of the same code
    order = np.lexsort((k, -re_, rs, code, para))
    para, code, k, rs, re_ = para[order], code[order], k[order], rs[order], re_[order]
    group = para * (len(book.codes) + 1) + code
    reach = np.maximum.accumulate(group * (1 << 32) + re_) if len(group) else group
    prev = np.concatenate(([-1], reach[:-1]))
    outer = (group * (1 << 32) + re_) > prev
    para, code, k, rs, re_ = para[outer], code[outer], k[outer], rs[outer], re_[outer]
    order = np.lexsort((k, code, -re_, rs, para))  # reading order
    para, code, k, rs, re_ = para[order], code[order], k[order], rs[order], re_[order]

    _count(part, para, code, book, tally)
    at = pa.array(para, pa.int64())
    seg_start = part["start"].to_numpy()[para] if len(para) else para
    return pa.Table.from_arrays([
        part["doc_id"].take(at), part["segment_id"].take(at), part["role"].take(at),
        pa.array([c.id for c in book.codes], _str).take(pa.array(code, pa.int64())),
        pa.array([x.id for x in book.indicators], _str).take(pa.array(k, pa.int64())),
        _cut(raw, para, rs, re_),
        pa.array(seg_start + rs, pa.int64()), pa.array(seg_start + re_, pa.int64()),
        pa.array(["dictionary"], _str).take(pa.array(np.zeros(len(para), np.int64))),
    ], schema=CODES)


def _cut(raw: pa.Array, para, start, end) -> pa.Array:
    """The texts raw[para[i]][start[i]:end[i]] (character offsets), cut from
    the array's UTF-8 bytes in one gather."""
    raw = raw.cast(pa.large_string())  # 64-bit offsets: a slice of any size
    _, offsets, data = raw.buffers()
    offsets = np.frombuffer(offsets, np.int64)[raw.offset:raw.offset + len(raw) + 1]
    buf = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    buf = buf[:offsets[-1]]
    # the byte where each character begins, and one past the end
    lead = np.append(np.flatnonzero((buf & 0xC0) != 0x80), len(buf))
    first = np.searchsorted(lead, offsets[:-1])  # each text's first character
    b0, b1 = lead[first[para] + start], lead[first[para] + end]
    sizes = b1 - b0
    out = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=out[1:])
    idx = np.repeat(b0 - out[:-1], sizes) + np.arange(out[-1])
    return pa.LargeStringArray.from_buffers(len(sizes), pa.py_buffer(out),
                                            pa.py_buffer(buf[idx].tobytes())).cast(_str)


def _count(part: pa.Table, para, code, book: Codebook, tally: Tally) -> None:
    """Add the slice's documents, their body paragraphs, and those carrying
    each code (and any of a frame's questions) to ``tally``."""
    # the documents in the order they first appear (doc_codes keeps that order)
    ids, first, doc_of = np.unique(part["doc_id"].to_numpy(zero_copy_only=False),
                                   return_index=True, return_inverse=True)
    rank = np.empty(len(ids), np.int64)
    rank[np.argsort(first)] = np.arange(len(ids))
    docs, doc_of = ids[np.argsort(first)], rank[doc_of]
    body = (part["role"].to_numpy(zero_copy_only=False) == "body")
    mine = body[para]
    n_codes = len(book.codes)
    # each (body paragraph, code) once; a paragraph answering any of a
    # frame's questions counts for the frame too
    pairs = np.unique(para[mine] * n_codes + code[mine])
    p, c = pairs // n_codes, pairs % n_codes
    frame_of = _layout(book).frame_of
    q = frame_of[c] >= 0
    framed = np.unique(p[q] * n_codes + frame_of[c[q]])
    keys = np.concatenate((doc_of[p] * 2 * n_codes + c,
                           doc_of[framed // n_codes] * 2 * n_codes + n_codes
                           + framed % n_codes))
    keys, n = np.unique(keys, return_counts=True)
    tally.parts.append((docs, np.bincount(doc_of[body], minlength=len(docs)),
                        (keys // (2 * n_codes), keys % (2 * n_codes), n)))


class _Layout:
    """A codebook's lookups as arrays, made once per codebook and process:
    each indicator's code (its position in ``book.codes``) and whether it
    codes sentences (an outcome event), and each code's frame (position) if
    it is a frame question, else -1."""

    def __init__(self, book: Codebook):
        position = {c.id: n for n, c in enumerate(book.codes)}
        self.code_of = np.array([position[ind.code] for ind in book.indicators], np.int64)
        self.sentence = np.array([book.code(ind.code).family in SENTENCE_FAMILIES
                                  for ind in book.indicators], dtype=bool)
        self.frame_of = np.full(len(book.codes), -1, np.int64)
        for x in book.codes:
            for q in x.questions:
                self.frame_of[position[q]] = position[x.id]


_layouts: dict = {}


def _layout(book: Codebook) -> _Layout:
    layout = _layouts.get(book.fingerprint)
    if layout is None:
        layout = _layouts[book.fingerprint] = _Layout(book)
    return layout


def _doc_codes(parts: list, book: Codebook) -> pa.Table:
    """One row per document with a body paragraph (in the order they first
    appear) and per paragraph code (codebook order), from a tally's parts."""
    if not parts:
        return DOC_CODES.empty_table()
    n_codes = len(book.codes)
    ids = np.concatenate([docs for docs, _, _ in parts])
    # one row per document, in the order it first appears in the parts
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), np.int64)
    rank[np.argsort(first)] = np.arange(len(uniq))
    at, offset = rank[inverse], np.cumsum([0] + [len(docs) for docs, _, _ in parts])
    body = np.bincount(at, weights=np.concatenate([b for _, b, _ in parts]),
                       minlength=len(uniq)).astype(np.int64)
    found = np.zeros(len(uniq) * 2 * n_codes, np.int64)
    for (_, _, (doc, key, n)), off in zip(parts, offset):
        np.add.at(found, at[off + doc] * 2 * n_codes + key, n)
    found = found.reshape(len(uniq), 2 * n_codes)
    docs = uniq[np.argsort(first)][body > 0]  # comments only: no document codes
    found, body = found[body > 0], body[body > 0]

    columns = [c for c in range(n_codes) if book.codes[c].family not in SENTENCE_FAMILIES]
    position = {x.id: n for n, x in enumerate(book.codes)}
    n = np.stack([found[:, n_codes + c] if book.codes[c].questions else found[:, c]
                  for c in columns], axis=1) if columns else np.zeros((len(docs), 0), np.int64)
    share_q = np.zeros(n.shape, np.float64)
    framed = np.zeros(len(columns), bool)
    for j, c in enumerate(columns):
        questions = [position[q] for q in book.codes[c].questions]
        if questions:
            framed[j] = True
            share_q[:, j] = (found[:, questions] > 0).sum(axis=1) / len(questions)
    n, share_q = n.ravel(), share_q.ravel()
    return pa.Table.from_arrays([
        pa.array(np.repeat(docs, len(columns)), _str),
        pa.array(np.tile([book.codes[c].id for c in columns], len(docs)), _str),
        pa.array(n > 0), pa.array(n, pa.int32()),
        pa.array(n / np.repeat(body, len(columns))),
        pa.array(share_q, mask=~np.tile(framed, len(docs))),
    ], schema=DOC_CODES)


def code_labels(book: Codebook) -> pa.Table:
    """One row per code in codebook order: id, family, label, parent (a frame
    question's frame) and definition (a question's text)."""
    return pa.table({
        "code": [c.id for c in book.codes], "family": [c.family for c in book.codes],
        "label": [c.label for c in book.codes], "parent": [c.parent for c in book.codes],
        "definition": [c.definition or c.text for c in book.codes],
    }, schema=CODE_LABELS)
