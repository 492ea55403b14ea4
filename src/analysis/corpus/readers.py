"""Reading the corpus: bytes exactly as collected, decoded, one Article each.

A manifest row names a file of one of these formats, chosen by its extension:

- ``.txt``: one article, a plain-text dump of a page (the seed corpus);
- ``.html`` / ``.htm``: one web page; its visible text, one block per line, is
  the article's raw text, and trafilatura decides which lines are the article;
- ``.jsonl``: a collection, one JSON object per line with a ``text`` field;
- ``.csv``: a collection, one row per article with a ``text`` column.

Collection records may carry ``doc_id`` (or ``id``) and the manifest's metadata
fields (``outlet``, ``published``...), which override the manifest row's. A
record's document id is ``<manifest doc_id>.<record id>``, or
``<manifest doc_id>.<line number>`` when the record has no id.

What cannot be used is returned as Quarantined items with the reason and the
fix; a checksum that no longer matches is a refusal (raw data was edited).
Only regular files inside the corpus folder are read: a symbolic link (or a
file inside a linked folder), a FIFO or a device is set aside unread.
"""

import codecs
import csv
import io
import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from ..core.fileio import NotRegular, read_regular, sha256_bytes
from ..core.text import normalize
from .manifest import DOC_ID_RE, METADATA, Entry, Listing, Manifest, check_metadata

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".csv": "csv"}

# Quarantine reasons (the `reason` column of the quarantine table)
EMPTY = "empty"
UNDECODABLE = "undecodable"
DUPLICATE = "duplicate"
DUPLICATE_ID = "duplicate_id"
BAD_RECORD = "bad_record"
UNSUPPORTED = "unsupported_format"
UNLISTED = "unlisted"
NO_BODY = "no_body"
NO_ARTICLE = "no_article"
NOT_REGULAR = "not_regular_file"


@dataclass
class Article:
    """One article's decoded raw text and what is known about it.

    ``text`` is what character offsets point into: the decoded file for .txt,
    the record's text field for collections, the page's visible text for HTML.
    ``encoding_note`` says how sure the decoding is when the encoding was
    detected or bytes were replaced (see decode).
    ``keep``, ``comments`` and ``title`` (HTML only) hold the normalised lines
    the extractor kept as body and as reader comments, and the title it found.
    """

    doc_id: str
    file: str
    format: str
    encoding: str
    sha256: str
    text: str
    encoding_note: str | None = None
    record: int | None = None
    meta: dict = field(default_factory=dict)
    keep: frozenset | None = None
    comments: frozenset | None = None
    title: str | None = None


@dataclass
class Quarantined:
    """Something set aside, with why and what would fix it."""

    doc_id: str | None
    file: str
    reason: str
    detail: str
    record: int | None = None


class DecodeProblem(Exception):
    pass


_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)  # the csv module's own default is 131,072

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# Legacy encodings a detection may choose, in the order that breaks a tie
# between equally plausible readings: Western European text, then Chinese
# (this corpus's languages), then Japanese and Korean. GB18030 decodes GB2312
# and GBK and more; cp1252 decodes every printable Latin-1 byte the same way.
DETECTABLE = ("cp1252", "gb18030", "big5", "cp932", "cp949")
# the manifest's language narrows the choice (its primary subtag)
_BY_LANGUAGE = {"zh": ("gb18030", "big5"), "ja": ("cp932",), "ko": ("cp949",),
                **dict.fromkeys("en fr de es it pt nl da sv no nb fi".split(), ("cp1252",))}
_TIE = 0.05      # readings whose mess ratios differ by no more than this are equally plausible
_IMPLAUSIBLE = 0.1  # a best reading messier than this is not believed
_REPLACEMENT = "\ufffd"


class Decoded(NamedTuple):
    """Decoded text, the encoding used, and a note when it was not certain:
    detected rather than declared (with the confidence and what else was
    possible), or near-valid UTF-8 with bytes replaced. ``note`` is '' when
    the encoding came from a byte-order mark, the manifest or valid UTF-8."""

    text: str
    encoding: str
    note: str = ""


def decode(data: bytes, declared: str = "", language: str = "") -> Decoded:
    """Decode bytes exactly.

    Order: a byte-order mark; the manifest's declared encoding; strict UTF-8;
    UTF-8 with a few invalid bytes (replaced by U+FFFD and noted, never
    re-guessed as another charset); then detection among DETECTABLE (narrowed
    by ``language``), with charset-normalizer's mess ratio as the measure.
    Raises DecodeProblem when nothing gives text, the text looks binary, or
    the best detection is implausible.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(name), name)
            except UnicodeDecodeError as e:
                raise DecodeProblem(f"starts with a {name} byte-order mark but does not "
                                    f"decode ({e})") from None
    if declared:
        try:
            text = data.decode(declared)
        except (LookupError, UnicodeDecodeError) as e:
            raise DecodeProblem(f"does not decode as the declared encoding {declared!r} ({e}); "
                                "correct or clear the manifest's encoding field") from None
        return Decoded(_check_text(text), declared)
    try:
        return Decoded(_check_text(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError as e:
        first_bad = e.start
    near = _near_utf8(data, first_bad)
    if near:
        return near
    return _detect(data, _BY_LANGUAGE.get(language.lower().split("-")[0], DETECTABLE))


def _near_utf8(data: bytes, first_bad: int) -> Decoded | None:
    """UTF-8 with a few invalid bytes: it has valid multi-byte characters and
    no more invalid sequences than valid ones (text in a legacy encoding read
    as UTF-8 has almost no valid multi-byte sequence)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count(_REPLACEMENT) - data.count(_REPLACEMENT.encode())
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    good = non_ascii - text.count(_REPLACEMENT)
    if not good or bad > good:
        return None
    return Decoded(_check_text(text), "utf-8", (
        f"UTF-8 with {bad} invalid byte sequence(s) (the first at byte {first_bad}), each "
        "replaced by U+FFFD; restore the file from its source if you can"))


def _detect(data: bytes, candidates: tuple) -> Decoded:
    from charset_normalizer import from_bytes

    readings = {}  # text -> (mess ratio, encodings giving it, in preference order)
    for match in from_bytes(data, cp_isolation=list(candidates), threshold=1.0):
        name = match.encoding.lower()
        try:
            text = data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
        chaos, names = readings.get(text, (match.chaos, []))
        readings[text] = (min(chaos, match.chaos), names + [name])
    tried = ", ".join(candidates)
    if not readings:
        raise DecodeProblem(f"is not UTF-8, and none of {tried} gives plausible text; if it "
                            "is text, name its encoding in the manifest's encoding column")
    best = min(chaos for chaos, _ in readings.values())
    if best > _IMPLAUSIBLE:
        raise DecodeProblem(
            f"is not UTF-8, and its most plausible reading ({_first(readings, best)}) is "
            f"implausible (confidence {1 - best:.2f}); name its encoding in the manifest's "
            "encoding column")
    tied = sorted((min(map(DETECTABLE.index, names)), chaos, text, names)
                  for text, (chaos, names) in readings.items() if chaos <= best + _TIE)
    _, chaos, text, names = tied[0]
    name = min(names, key=DETECTABLE.index)
    others = [min(n, key=DETECTABLE.index) for *_, n in tied[1:]]
    return Decoded(_check_text(text), name, (
        f"not UTF-8 and no encoding declared; detected as {name} (confidence {1 - chaos:.2f})"
        + (f", equally plausible: {', '.join(others)}" if others else "")
        + "; if that is wrong, name the encoding in the manifest's encoding column"))


def _first(readings, chaos):
    return next(min(n, key=DETECTABLE.index) for c, n in readings.values() if c == chaos)


def _check_text(text: str) -> str:
    if "\x00" in text:
        raise DecodeProblem("contains NUL bytes: it is binary data, not text")
    return text


class EntryRead(NamedTuple):
    """What one manifest row gave: its articles (one, or a collection's
    records), what was set aside, refusals (problems that must stop the run,
    such as a checksum mismatch), the SHA-256 of the file's bytes, and the
    note on its decoding when it was not certain."""

    articles: list
    quarantined: list
    refusals: list
    sha256: str
    encoding_note: str = ""


def read_entry(entry: Entry, corpus_dir: Path) -> EntryRead:
    """Read one manifest row (see EntryRead). What is set aside names the file
    as the manifest does, relative to the corpus folder, so the outputs do
    not depend on where the corpus lives."""
    path = Path(corpus_dir) / entry.file

    def quarantine(reason, detail, record=None, doc_id=entry.doc_id):
        return Quarantined(doc_id, entry.file, reason, detail, record)

    try:
        if entry.special:
            raise NotRegular(entry.file, entry.special)
        data = read_regular(path)
    except NotRegular as e:
        return EntryRead([], [quarantine(NOT_REGULAR, _not_regular(entry.file, e.kind))], [], "")
    sha = sha256_bytes(data)
    if entry.sha256 and entry.sha256 != sha:
        return EntryRead([], [], [
            f"{path}: checksum mismatch: manifest.csv line {entry.line} records sha256 "
            f"{entry.sha256} but the file's is {sha}. Raw data must stay as collected: restore "
            "the original file; if this is a new version on purpose, add it as a new article "
            "(`analysis add`) and remove the old row."], sha)
    fmt = FORMATS.get(path.suffix.lower())

    if fmt is None:
        return EntryRead([], [quarantine(UNSUPPORTED, (
            f"{entry.file}: unsupported file type {path.suffix!r}; supported are "
            f"{', '.join(sorted(FORMATS))}. Convert it, or remove its manifest row."))], [], sha)
    if not data.strip():
        return EntryRead([], [quarantine(EMPTY, f"{entry.file}: the file is empty; restore its "
                                               "content or remove its manifest row.")], [], sha)
    try:
        text, encoding, note = decode(data, entry.encoding, entry.meta.get("language", ""))
    except DecodeProblem as e:
        return EntryRead([], [quarantine(UNDECODABLE, f"{entry.file}: {e}.")], [], sha)

    base = dict(doc_id=entry.doc_id, file=entry.file, format=fmt, encoding=encoding,
                encoding_note=note or None, sha256=sha, meta=dict(entry.meta))
    if fmt == "txt":
        return EntryRead([Article(text=text, **base)], [], [], sha, note)
    if fmt == "html":
        return EntryRead([_html_article(text, base)], [], [], sha, note)
    records = _jsonl_records if fmt == "jsonl" else _csv_records
    articles, quarantined = [], []
    seen = {}
    for line, rec, problem in records(text):
        where = f"{entry.file}, line {line}"
        if problem:
            quarantined.append(quarantine(BAD_RECORD, f"{where}: {problem}", line, None))
            continue
        rid = rec.get("doc_id") or rec.get("id")
        rid = str(rid) if rid not in (None, "") else f"{line:06d}"
        doc_id = f"{entry.doc_id}.{rid}"
        if not DOC_ID_RE.fullmatch(rid):
            quarantined.append(quarantine(BAD_RECORD, (
                f"{where}, field 'doc_id': {rid!r} is not a valid id; use letters, digits, "
                "'_', '.' or '-'."), line, None))
            continue
        if doc_id in seen:
            quarantined.append(quarantine(DUPLICATE_ID, (
                f"{where}: record id {rid!r} repeats the record on line {seen[doc_id]}; "
                "give each record its own id."), line, doc_id))
            continue
        seen[doc_id] = line
        text_value = rec.get("text")
        if not isinstance(text_value, str):
            quarantined.append(quarantine(BAD_RECORD, (
                f"{where}, field 'text': missing or not a string; every record needs the "
                "article's text in a 'text' field."), line, doc_id))
            continue
        if not text_value.strip():
            quarantined.append(quarantine(EMPTY, f"{where}: the record's text is empty.",
                                          line, doc_id))
            continue
        meta = dict(entry.meta)
        for k in METADATA:
            if rec.get(k) not in (None, ""):
                meta[k] = str(rec[k]).strip()
        bad = check_metadata(meta)
        if bad:
            f, m = bad[0]
            quarantined.append(quarantine(BAD_RECORD, f"{where}, field '{f}': {m}.", line, doc_id))
            continue
        articles.append(Article(**{**base, "doc_id": doc_id, "meta": meta},
                                text=text_value, record=line))
    return EntryRead(articles, quarantined, [], sha, note)


def _jsonl_records(text):
    import orjson

    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            yield n, None, f"not valid JSON ({e}); fix or remove this record."
            continue
        if not isinstance(rec, dict):
            yield n, None, "a record must be a JSON object with a 'text' field."
            continue
        yield n, rec, None


def _csv_records(text):
    """(line, record, problem) for each record of a CSV collection.

    Fields of any size are read. A record the CSV parser cannot read (a stray
    or unbalanced quote) is reported on the line where it starts, and reading
    resumes on the next line, so one bad quote never takes the records after
    it along (an unbalanced quote would otherwise swallow lines up to the next
    quote, or to the end of the file).
    """
    csv.field_size_limit(_FIELD_LIMIT)
    lines = io.StringIO(text, newline="").readlines()
    header, pos = None, 0
    while pos < len(lines):
        reader = csv.reader(itertools.islice(lines, pos, None), strict=True)
        base, start = pos, pos + 1  # start: the current record's first line
        pos = len(lines)
        try:
            for row in reader:
                if header is None:
                    header = row
                    if "text" not in header:
                        yield 1, None, ("the header has no 'text' column; a CSV collection "
                                        "needs one row per article with its text in a 'text' "
                                        "column.")
                        return
                elif not any(c.strip() for c in row):
                    pass
                elif len(row) != len(header):
                    yield start, None, (f"{len(row)} fields where the header has "
                                        f"{len(header)}; quote values that contain commas.")
                else:
                    yield start, dict(zip(header, row)), None
                start = base + reader.line_num + 1
        except csv.Error as e:
            if header is None:
                yield 1, None, f"no readable header ({e}); the first line must name the columns."
                return
            ran = base + reader.line_num - start
            yield start, None, (
                f"malformed CSV ({e}"
                + (f", found {ran} line(s) further on" if ran else "")
                + "); a quote inside a quoted value must be doubled (\"\"), and a value "
                "that starts with a quote must end with one. Fix this record; reading "
                "resumed on the next line.")
            pos = start


# --- HTML -----------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption dd details dialog div dl dt "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav "
    "ol p pre section summary table td th title tr ul".split())
_SKIP_TAGS = frozenset("script style noscript template svg iframe object head".split())


def page_text(html: str) -> str:
    """The page's visible text, one block per line, blocks separated by a blank
    line (the <head>, scripts and styles left out). A pure function of the HTML."""
    import lxml.html

    root = lxml.html.document_fromstring(html)
    blocks, current = [], []

    def flush():
        s = " ".join("".join(current).split())
        if s:
            blocks.append(s)
        current.clear()

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS or not tag:
            return
        block = tag in _BLOCK_TAGS
        if block:
            flush()
        if el.text:
            current.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                current.append(child.tail)
        if block:
            flush()

    body = root.find("body")
    walk(body if body is not None else root)
    flush()
    return "\n\n".join(blocks)


def _html_article(html: str, base: dict) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(html, include_comments=True, include_tables=True,
                                      favor_recall=True, with_metadata=True)
    body = (getattr(doc, "text", None) or "") if doc is not None else ""
    comments = (getattr(doc, "comments", None) or "") if doc is not None else ""
    meta = dict(base.pop("meta"))
    if doc is not None:
        for key, attr in (("url", "url"), ("outlet", "sitename")):
            if not meta.get(key) and getattr(doc, attr, None):
                meta[key] = str(getattr(doc, attr))
    keep = frozenset(normalize(s) for s in body.split("\n") if s.strip())
    kept_comments = frozenset(normalize(s) for s in comments.split("\n") if s.strip())
    title = getattr(doc, "title", None) if doc is not None else None
    return Article(text=page_text(html), meta=meta, keep=keep, comments=kept_comments,
                   title=normalize(title) if title else None, **base)


def _not_regular(rel: str, kind: str) -> str:
    return (f"{rel}: a {kind}, not a regular file; it was not read (only files inside the "
            "corpus folder are). Put a copy of the article itself in its place.")


def unlisted_files(entries: Manifest, listing: Listing) -> list[Quarantined]:
    """What the corpus folder holds (``listing``, from list_files) that no
    manifest row names: files, and links, FIFOs or devices (never read);
    hidden files, the manifest, READMEs and the corpus's cleaning rules
    excepted."""
    # the folder's names less the manifest's, a block of rows at a time, marked
    # by position: no set of every name (one of 300,000 names took about 40 MB)
    listed = np.zeros(len(listing), bool)
    special = dict(listing.special)
    rows = entries.rows("file", "special")
    while block := list(itertools.islice(rows, Manifest.BLOCK)):
        at = listing.find([file for file, _ in block])
        listed[at[at >= 0]] = True
        for file, linked in block:
            special.pop(file, None)
            if linked:  # a linked folder whose files are listed is reported through those rows
                parts = file.split("/")
                for i in range(1, len(parts)):
                    special.pop("/".join(parts[:i]), None)
    rest = {b.decode("utf-8", "surrogateescape")
            for b in listing.names.filter(pa.array(~listed)).to_pylist()} | set(special)
    out = []
    for rel in sorted(rest - {"manifest.csv", "cleaning.yaml"}):
        parts = rel.split("/")
        if any(part.startswith(".") for part in parts) or parts[-1].lower().startswith("readme"):
            continue
        kind = special.get(rel)
        out.append(Quarantined(None, rel, NOT_REGULAR, _not_regular(rel, kind)) if kind else
                   Quarantined(None, rel, UNLISTED, (
            f"{rel}: in the corpus folder but not in manifest.csv, so it was not read; "
            f"add it with `analysis add CORPUS/{rel} --corpus CORPUS` (CORPUS: the corpus "
            "folder), or move it out.")))
    return out
