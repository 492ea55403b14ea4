"""The coder: the codebook applied to paragraphs, with evidence for every code.

``code_segments(segments, book)`` is a pure function of a segments table and
a codebook. It scans all paragraphs of a batch in one Hyperscan pass (texts
joined by NUL bytes, which no indicator can match across), keeps the matches
that pass their guards and context, and maps each back to the raw text, so
``raw[start:end]`` of the article is exactly the evidence.

``code_corpus(processed_dir)`` streams ``segments.parquet`` through it in
batches and writes ``codes.parquet``, ``doc_codes.parquet``,
``code_labels.parquet`` and ``coding.json``, skipping the work when segments,
codebook, code and packages are unchanged.
"""

from itertools import chain, islice
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import paths
from .cleaning import normalize, normalize_with_offsets, same_positions
from .codebook import SENTENCE_FAMILIES, Codebook, load_codebook, matcher
from .fileio import StageResult, publish, sha256_file, stage_current
from .parallel import default_jobs, imap_ordered

_str = pa.string()
CODES = pa.schema([
    ("doc_id", _str), ("segment_id", _str), ("role", _str), ("code", _str),
    ("indicator", _str), ("evidence", _str), ("start", pa.int64()), ("end", pa.int64()),
    ("source", _str),
])
DOC_CODES = pa.schema([
    ("doc_id", _str), ("code", _str), ("present", pa.bool_()), ("n_segments", pa.int32()),
    ("score", pa.float64()),
])
# The codebook's codes as data, so tables and figures label codes without
# reloading (and recompiling) the codebook.
CODE_LABELS = pa.schema([
    ("code", _str), ("family", _str), ("label", _str), ("parent", _str), ("definition", _str),
])
STAMP = "coding.json"
_NEEDED = ["doc_id", "segment_id", "unit", "role", "text", "raw", "start"]


def code_segments(segments, book: Codebook, unit: str = "paragraph"):
    """Code the paragraphs of a segments table (pyarrow Table or pandas
    DataFrame with doc_id, segment_id, unit, role, text, raw, start).

    Returns (codes, doc_codes) as pyarrow Tables:
    - codes: one row per accepted match, body and comment paragraphs alike
      (``role`` tells which), in reading order;
    - doc_codes: one row per document with a body paragraph and per code id,
      zeros included, from body paragraphs only (comments never change a
      document's codes). ``present``: at least one body paragraph carries the
      code; ``n_segments``: how many; ``score``: for a frame question 1 or 0,
      for a generic frame the share of its questions answered yes (Semetko &
      Valkenburg), otherwise the share of the document's body paragraphs.
    """
    if not isinstance(segments, pa.Table):
        segments = pa.Table.from_pandas(segments, preserve_index=False)
    cols = {c: segments[c].to_pylist() for c in _NEEDED}
    rows = [i for i, u in enumerate(cols["unit"]) if u == unit]
    texts = [cols["text"][i] for i in rows]
    raws = [cols["raw"][i] for i in rows]
    data, byte_starts = _join(texts)
    k, s, e = matcher(book).matches(data, byte_starts)
    # paragraphs carry frames and themes, sentences outcome events
    wanted = np.array([(book.code(ind.code).family in SENTENCE_FAMILIES) == (unit == "sentence")
                       for ind in book.indicators], dtype=bool)
    keep = wanted[k]
    k, s, e = k[keep], s[keep], e[keep]

    # byte offsets -> paragraph and character offsets within it (UTF-8 lead bytes)
    starts = np.asarray(byte_starts, dtype=np.int64)
    para = np.searchsorted(starts, s, side="right") - 1
    buf = np.frombuffer(data, dtype=np.uint8)
    chars = np.concatenate(([0], np.cumsum((buf & 0xC0) != 0x80, dtype=np.int32)))
    base = chars[starts[para]].astype(np.int64)
    cs, ce = chars[s] - base, chars[e] - base
    position = {c.id: n for n, c in enumerate(book.codes)}
    code_of = np.array([position[ind.code] for ind in book.indicators], dtype=np.int64)
    code = code_of[k]

    # normalised -> raw offsets: the same positions unless normalising changed lengths
    rs, re_ = cs.copy(), ce.copy()
    for p in np.unique(para).tolist():
        if not same_positions(raws[p], texts[p]):
            _, smap, emap = normalize_with_offsets(raws[p])
            # matches come sorted by position, so one paragraph's are one slice
            lo, hi = np.searchsorted(para, p, "left"), np.searchsorted(para, p, "right")
            rs[lo:hi] = np.take(smap, cs[lo:hi])
            re_[lo:hi] = np.take(emap, ce[lo:hi] - 1)

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

    row = np.asarray(rows, dtype=np.int64)[para]
    seg_start = np.asarray(cols["start"], dtype=np.int64)[row] if len(row) else row
    row_l, para_l, rs_l, re_l = row.tolist(), para.tolist(), rs.tolist(), re_.tolist()
    codes = pa.Table.from_pydict({
        "doc_id": [cols["doc_id"][i] for i in row_l],
        "segment_id": [cols["segment_id"][i] for i in row_l],
        "role": [cols["role"][i] for i in row_l],
        "code": [book.codes[c].id for c in code.tolist()],
        "indicator": [book.indicators[x].id for x in k.tolist()],
        "evidence": [raws[p][a:b] for p, a, b in zip(para_l, rs_l, re_l)],
        "start": (seg_start + rs).tolist(),
        "end": (seg_start + re_).tolist(),
        "source": ["dictionary"] * len(row_l),
    }, schema=CODES)

    per_doc, body_paras = {}, {}
    for i in rows:
        doc = cols["doc_id"][i]
        per_doc.setdefault(doc, {})
        if cols["role"][i] == "body":
            body_paras[doc] = body_paras.get(doc, 0) + 1
    body = np.array([cols["role"][i] == "body" for i in row_l], dtype=bool)
    pairs = np.unique(np.stack([row[body], code[body]]), axis=1) if body.any() else [[], []]
    for i, c in zip(*(np.asarray(x).tolist() for x in pairs)):
        per_doc[cols["doc_id"][i]].setdefault(book.codes[c].id, set()).add(cols["segment_id"][i])
    return codes, _doc_codes(per_doc, body_paras, book)


def _join(texts):
    """One UTF-8 buffer of all texts separated by NUL, and each text's byte start."""
    starts, pos, parts = [], 0, []
    for t in texts:
        b = t.encode("utf-8")
        starts.append(pos)
        parts.append(b)
        pos += len(b) + 1
    return b"\0".join(parts), starts


def _doc_codes(per_doc, body_paras, book):
    out = {name: [] for name in DOC_CODES.names}
    for doc, found in per_doc.items():
        if doc not in body_paras:
            continue  # comments only: no document codes
        n_paras = body_paras[doc]
        for c in book.codes:
            if c.family in SENTENCE_FAMILIES:
                continue
            if c.questions:
                segs = set().union(*(found.get(q, set()) for q in c.questions))
                score = sum(bool(found.get(q)) for q in c.questions) / len(c.questions)
            else:
                segs = found.get(c.id, set())
                score = (1.0 if segs else 0.0) if c.parent else len(segs) / n_paras
            out["doc_id"].append(doc)
            out["code"].append(c.id)
            out["present"].append(bool(segs))
            out["n_segments"].append(len(segs))
            out["score"].append(score)
    return pa.Table.from_pydict(out, schema=DOC_CODES)


def code_corpus(processed_dir=None, book: Codebook | None = None, force=False,
                batch_rows=65_536, jobs=None) -> StageResult:
    """Code ``segments.parquet`` in ``processed_dir`` into codes and doc_codes.

    Streams the segments in batches (a document's rows are never split
    between batches), coded in ``jobs`` worker processes when there is more
    than one batch and written in order; writes atomically, and writes nothing
    when the stamp says segments, codebook, code and packages are unchanged.
    """
    from .pipeline import code_fingerprint, package_versions

    out_dir = Path(processed_dir or paths.PROCESSED)
    book = book or load_codebook()
    segments_path = out_dir / "segments.parquet"
    key = {
        "segments_sha256": sha256_file(segments_path),
        "codebook_version": book.version,
        "codebook_sha256": book.fingerprint,
        "code_sha256": code_fingerprint("coding"),
        "packages": package_versions(("pyarrow", "hyperscan")),
    }
    if not force and stage_current(out_dir, STAMP, key):
        return StageResult(out_dir, True)

    tmp = Path(tempfile.mkdtemp(prefix=".coding-", dir=out_dir))
    try:
        writers = {"codes": pq.ParquetWriter(tmp / "codes.parquet", CODES, compression="zstd"),
                   "doc_codes": pq.ParquetWriter(tmp / "doc_codes.parquet", DOC_CODES,
                                                 compression="zstd")}
        rows = {"codes": 0, "doc_codes": 0}
        try:
            batches = _document_batches(segments_path, batch_rows)
            first = list(islice(batches, 2))
            workers = (jobs or default_jobs()) if len(first) > 1 else 1
            for codes, doc_codes in imap_ordered(code_segments, chain(first, batches),
                                                 workers, book):
                for name, t in (("codes", codes), ("doc_codes", doc_codes)):
                    if t.num_rows:
                        writers[name].write_table(t)
                        rows[name] += t.num_rows
        finally:
            for w in writers.values():
                w.close()
        labels = code_labels(book)
        pq.write_table(labels, tmp / "code_labels.parquet", compression="zstd")
        rows["code_labels"] = labels.num_rows
        written, unchanged = publish(tmp, out_dir, {f"{n}.parquet": rows[n] for n in rows},
                                     key, STAMP)
        return StageResult(out_dir, False, written, unchanged, counts=rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def code_labels(book: Codebook) -> pa.Table:
    """One row per code in codebook order: id, family, label, parent (a frame
    question's frame) and definition (a question's text)."""
    return pa.table({
        "code": [c.id for c in book.codes], "family": [c.family for c in book.codes],
        "label": [c.label for c in book.codes], "parent": [c.parent for c in book.codes],
        "definition": [c.definition or c.text for c in book.codes],
    }, schema=CODE_LABELS)


def _document_batches(path, batch_rows, columns=_NEEDED):
    """Tables of whole documents' segments, about ``batch_rows`` rows each."""
    pending = None
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns):
        t = pa.Table.from_batches([batch])
        if pending is not None:
            t = pa.concat_tables([pending, t])
        docs = t["doc_id"]
        last = docs[len(docs) - 1].as_py()
        # hold back the last document: its rows may go on in the next batch
        cut = len(docs)
        while cut > 0 and docs[cut - 1].as_py() == last:
            cut -= 1
        if cut == 0:
            pending = t
            continue
        pending = t.slice(cut)
        yield t.slice(0, cut)
    if pending is not None and pending.num_rows:
        yield pending


def kwic(codes, segments, code: str, width: int = 60):
    """Key words in context for one code: its evidence with up to ``width``
    characters either side, from the paragraph's raw text, normalised for
    reading. Returns a pandas DataFrame (doc_id, segment_id, role, indicator,
    left, evidence, right, start, end), in reading order. ``segments`` needs
    only the paragraphs' doc_id, segment_id, raw and start."""
    import pandas as pd

    if isinstance(codes, pa.Table):
        codes = codes.to_pandas()
    if isinstance(segments, pa.Table):
        segments = segments.to_pandas()
    columns = ["doc_id", "segment_id", "role", "indicator", "left", "evidence", "right",
               "start", "end"]
    hits = codes.loc[codes["code"] == code, ["doc_id", "segment_id", "role", "indicator",
                                             "evidence", "start", "end"]]
    if "unit" in segments.columns:
        segments = segments[segments["unit"] == "paragraph"]
    paras = segments[["doc_id", "segment_id", "raw", "start"]].rename(
        columns={"start": "p_start"})
    rows = hits.merge(paras, on=["doc_id", "segment_id"], how="left", sort=False)
    if rows.empty:
        return pd.DataFrame(columns=columns)
    s = (rows["start"] - rows["p_start"]).to_numpy()
    e = (rows["end"] - rows["p_start"]).to_numpy()
    lens = rows["raw"].str.len().to_numpy()
    raw = rows["raw"].tolist()
    rows["left"] = [("..." if a > width else "") + normalize(t[max(0, a - width):a])
                    for t, a in zip(raw, s)]
    rows["right"] = [normalize(t[b:b + width]) + ("..." if b + width < n else "")
                     for t, b, n in zip(raw, e, lens)]
    rows["evidence"] = [normalize(t) for t in rows["evidence"]]
    return rows[columns].reset_index(drop=True)


def methods_markdown(book: Codebook) -> str:
    """The codebook as the report's methods section (Markdown): version,
    changelog, guards, and every code with its definition, questions and
    indicators, so the method described is the method that ran."""
    lines = [f"## Coding scheme (codebook version {book.version})", "",
             "Codes are assigned per body paragraph by a dictionary coder: each indicator is "
             "a word-bounded, case-insensitive phrase (a word ending in * may go on) or a "
             "regular expression, matched on normalised text. "
             "A code is present in a document when at least one body paragraph carries it; "
             "reader comments are coded separately and never change a document's codes. "
             "A generic frame's score is the share of its questions answered yes "
             "(Semetko & Valkenburg 2000).", ""]
    for name, g in sorted(book.guards.items()):
        cues = sorted(g["single"]) + list(g["multi"]) + [p + "*" for p in g["prefix"]]
        lines.append(f"- **{name} guard**: a match is dropped when one of these words stands "
                     f"within {g['window']} words before it in the same clause: "
                     + ", ".join(f"_{c}_" for c in cues) + ".")
    lines.append("")
    titles = {"generic_frame": "Generic news frames", "issue_frame": "Issue-specific frames",
              "backlash": "Backlash themes", "outcome": "Outcome events (per sentence)"}
    family = None
    for c in book.codes:
        if c.family != family and not c.parent:
            family = c.family
            lines += [f"### {titles[family]}", ""]
        if c.parent:
            lines.append(f"  - `{c.id}`: {c.text}")
            lines += [f"    - {_describe(ind)}" for ind in book.indicators if ind.code == c.id]
            continue
        lines.append(f"- **{c.label}** (`{c.id}`): {c.definition}")
        if c.include:
            lines.append(f"  - Include: {c.include}")
        if c.exclude:
            lines.append(f"  - Exclude: {c.exclude}")
        lines += [f"  - {_describe(ind)}" for ind in book.indicators if ind.code == c.id]
    lines += ["", "### Codebook changes", ""]
    lines += [f"- {e['version']}: {' '.join(str(e.get('changes', '')).split())}"
              for e in book.changelog]
    return "\n".join(lines) + "\n"


def _describe(ind) -> str:
    parts = [f'"{p}"' for p in ind.phrases] + [f"`{p}`" for p in ind.patterns]
    text = f"indicator `{ind.id}`: " + ", ".join(parts)
    if ind.guards:
        text += f"; guards: {', '.join(ind.guards)}"
    if ind.favours:
        text += f"; favours: {ind.favours.replace('_', ' ')}"
    if ind.context_phrases:
        text += (f"; counts only within {ind.context_window} words of "
                 + ", ".join(f'"{p}"' for p in ind.context_phrases))
    return text
