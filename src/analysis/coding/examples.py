"""The codebook's checks that run only for a codebook not yet checked under
this code (about half a second, three when the database is first compiled):
every expression compiles for scanning, none matches most ordinary
sentences, and every example is coded as the codebook says it must be.

``find_codes`` runs the real coder on one text, so an example is checked by
the same code that codes the corpus.
"""

import hyperscan
import pyarrow as pa

from ..core.controls import too_general
from ..core.text import normalize
from .coder import code_segments
from .engine import _compile, matcher
from .schema import Codebook, phrase_expression


def find_codes(book: Codebook, text: str):
    """(code id, indicator id, start, end) of every piece of evidence the coder
    finds in one normalised text, in reading order: the coder itself run on a
    one-paragraph table, for examples and small texts."""
    return find_codes_each(book, [text])[0]


def find_codes_each(book: Codebook, texts: list) -> list:
    """``find_codes`` of each text, the texts coded together: one table of one
    paragraph per text (paragraphs are coded independently, so each text's
    evidence is what it would be alone)."""
    found = [[] for _ in texts]
    ids = [str(n) for n in range(len(texts))]
    for unit in ("paragraph", "sentence"):  # frames and themes, then outcome events
        table = pa.table({"doc_id": ids, "segment_id": ids, "unit": [unit] * len(texts),
                          "role": ["body"] * len(texts), "text": list(texts),
                          "raw": list(texts), "start": [0] * len(texts)})
        codes, _ = code_segments(table, book, unit)
        for doc, *row in zip(codes["doc_id"].to_pylist(), codes["code"].to_pylist(),
                             codes["indicator"].to_pylist(), codes["start"].to_pylist(),
                             codes["end"].to_pylist()):
            found[int(doc)].append(tuple(row))
    return [sorted(f, key=lambda f: (f[2], -f[3], f[0], f[1])) for f in found]


def compile_problems(path, book):
    try:
        matcher(book)
        return []
    except hyperscan.error:
        pass
    problems = []  # find the expressions Hyperscan refuses, one by one
    for ind in book.indicators:
        for expr in ind.expressions:
            try:
                _compile([expr], [True])
            except hyperscan.error as e:
                problems.append(f"{path}, code '{ind.code}', indicator '{ind.id}': pattern "
                                f"{expr!r} cannot be compiled for scanning ({e}); avoid "
                                "look-around, back-references and long bounded gaps such as "
                                ".{0,80} (to require a word nearby, use context).")
    return problems or [f"{path}: the indicators do not compile together; check the patterns."]


def general_problems(path, book):
    """Phrases, patterns and context phrases that match most of the control
    sentences about unrelated things (core.controls): they would mark nearly
    every paragraph."""
    problems = []
    for ind in book.indicators:
        for what, items in (("phrase", ind.phrases), ("pattern", ind.patterns),
                            ("context phrase", ind.context_phrases)):
            for p in items:
                general = too_general(p if what == "pattern" else phrase_expression(p))
                if general:
                    problems.append(f"{path}, code '{ind.code}', indicator '{ind.id}': {what} "
                                    f"{p!r} {general}, so it would mark nearly every "
                                    "paragraph; make it specific to what the code means.")
    return problems


def example_problems(path, book):
    # every example coded in one pass, then checked code by code
    examples = [(code, want, normalize(str(sentence))) for code in book.codes
                for want in ("match", "no_match")
                for sentence in (code.examples or {}).get(want) or []]
    found = dict(zip(((c.id, w, t) for c, w, t in examples),
                     find_codes_each(book, [t for _, _, t in examples])))
    problems = []
    for code in book.codes:
        ex = code.examples or {}
        for sentence in ex.get("match") or []:
            if not any(c == code.id for c, *_ in found[code.id, "match", normalize(str(sentence))]):
                problems.append(f"{path}, code '{code.id}': example {sentence!r} should match "
                                "but no indicator finds it; add an indicator or fix the example.")
        for sentence in ex.get("no_match") or []:
            text = normalize(str(sentence))
            hits = [(i, text[s:e]) for c, i, s, e in found[code.id, "no_match", text]
                    if c == code.id]
            if hits:
                i, ev = hits[0]
                problems.append(f"{path}, code '{code.id}': example {sentence!r} should not "
                                f"match but indicator '{i}' finds {ev!r}; narrow the indicator "
                                "or add a guard.")
        if not code.questions and not ex.get("match"):
            problems.append(f"{path}, code '{code.id}': no examples that must match; add at "
                            "least one under examples.match.")
    return problems
