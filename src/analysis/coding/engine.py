"""The matcher engine: every indicator, guard cue and context phrase of a
codebook in one Hyperscan database, decided with array operations.

``matcher(book)`` builds the database once per process; ``Matcher.matches``
scans a buffer of NUL-separated normalised texts once and returns the
accepted (indicator, start, end) byte spans.
"""

import hashlib
import json
import os
import platform
from array import array
from pathlib import Path

import hyperscan
import numpy as np

from ..core import paths
from ..core.fileio import write_bytes_atomic
from .schema import Codebook, phrase_expression

_matchers: dict = {}
# Compiled databases kept on disk, by what they were compiled from: a
# codebook's takes about two seconds to compile, in every process that codes
# (each worker, each notebook kernel), and milliseconds to load.
DATABASES = paths.CACHE / "hyperscan"
KEEP_DATABASES = 16  # the most recently used; older ones are deleted


class Matcher:
    """All indicators of a codebook, with the guards' cue words and the
    indicators' context phrases, in one Hyperscan database.

    ``matches(data, starts)`` scans a buffer of NUL-separated normalised texts
    once and decides every match with array operations over global byte
    positions, so the work per match stays in numpy, not in Python:
    - a guard drops a match when one of its cues ends before the match, in the
      same clause (no . ; : ! ? or 。；：！？ between), with at most ``window``
      words between the cue and the match (a Chinese character counts half);
    - a context requirement keeps a match only when one of its context phrases
      is in the same text within ``window`` words on either side;
    - of the matches of one indicator at one start, the longest is kept.
    """

    IND, CUE, CONTEXT = 0, 1, 2

    def __init__(self, book: Codebook):
        self.book = book
        rows = []  # (expression, kind, owner): one per use of an expression
        for k, ind in enumerate(book.indicators):
            rows += [(expr, self.IND, k) for expr in ind.expressions]
            rows += [(phrase_expression(p), self.CONTEXT, k) for p in ind.context_phrases]
        self.guard_names = sorted(book.guards)
        for g, name in enumerate(self.guard_names):
            rows += [(r"n't\b" if cue == "n't" else phrase_expression(cue), self.CUE, g)
                     for cue in book.guards[name]["cues"]]
        # Each distinct expression is compiled once and its reports are copied
        # to each of its uses (a word can be an indicator, another's context
        # and a cue): a third fewer reports, each a Python call. Only cues'
        # ends are read, so an expression used only as a cue is compiled
        # without start of match, which costs Hyperscan more per report.
        expressions = sorted({expr for expr, _, _ in rows})
        number = {expr: n for n, expr in enumerate(expressions)}
        rows.sort(key=lambda r: number[r[0]])  # stable: uses in codebook order
        use_of = np.array([number[expr] for expr, _, _ in rows], dtype=np.int64)
        self.kind = np.array([kind for _, kind, _ in rows], dtype=np.int8)
        self.owner = np.array([owner for _, _, owner in rows], dtype=np.int64)
        # the uses of expression n are rows first[n]:first[n + 1]
        self.uses = np.bincount(use_of, minlength=len(expressions))
        self.first = np.concatenate(([0], np.cumsum(self.uses)))
        needs_start = np.zeros(len(expressions), dtype=bool)
        needs_start[use_of[self.kind != self.CUE]] = True
        self.db = _kept_database(expressions, needs_start)
        n = len(book.indicators)
        self.applies = np.zeros((n, len(self.guard_names)), dtype=bool)
        for k, ind in enumerate(book.indicators):
            for g in ind.guards:
                self.applies[k, self.guard_names.index(g)] = True
        self.window = np.array([book.guards[g]["window"] for g in self.guard_names])
        self.context_window = np.array([ind.context_window for ind in book.indicators])

    def scan(self, data: bytes) -> np.ndarray:
        """Every Hyperscan report as rows (use, start, end), a report of an
        expression once per use of it (``kind[use]``, ``owner[use]``)."""
        # machine integers, not a list of tuples: a slice of text can have
        # hundreds of thousands of reports, and tuples take six times the memory
        hits = array("q")
        extend = hits.extend

        def on_match(expr_id, start, end, flags, context):
            extend((expr_id, start, end))

        self.db.scan(data, match_event_handler=on_match)
        if not hits:
            return np.zeros((0, 3), dtype=np.int64)
        found = np.frombuffer(hits, dtype=np.int64).reshape(-1, 3)
        # one row per use of each reported expression
        n = self.uses[found[:, 0]]
        out = np.repeat(found, n, axis=0)
        ends = np.cumsum(n)
        out[:, 0] = np.arange(ends[-1]) - np.repeat(ends - n, n) + np.repeat(
            self.first[found[:, 0]], n)
        return out

    def matches(self, data: bytes, starts) -> tuple:
        """Accepted indicator matches in a buffer of NUL-separated texts
        beginning at byte offsets ``starts``: arrays (indicator, start, end)
        of byte offsets into ``data``, sorted by start."""
        hits = self.scan(data)
        kind, owner = self.kind[hits[:, 0]], self.owner[hits[:, 0]]
        buf = np.frombuffer(data, dtype=np.uint8)
        # distances in half-words: a space is two, a Chinese character one
        # (Chinese has no spaces; a word is about two characters).
        # int32: fourteen times faster than int64 here; a batch is far below 2 GB
        spaces = np.empty(len(buf) + 1, dtype=np.int32)  # filled in place: no second copy
        spaces[0] = 0
        ascii_only = data.isascii()
        step = (buf == 32).astype(np.int8)
        step *= 2
        if not ascii_only:
            step += (buf >= 0xE3) & (buf <= 0xE9)  # lead byte of a CJK character
        np.cumsum(step, dtype=np.int32, out=spaces[1:])
        del step
        ends = np.flatnonzero(np.isin(buf, np.frombuffer(b".;:!?\0", dtype=np.uint8)))
        if not ascii_only:
            ends = np.union1d(ends, _wide_barriers(buf))
        barriers = np.concatenate(([-1], ends))  # -1: the start of the buffer
        starts = np.asarray(starts, dtype=np.int64)

        ind = hits[kind == self.IND]
        k, s, e = owner[kind == self.IND], ind[:, 1], ind[:, 2]
        # the longest match per indicator and start
        order = np.lexsort((e, s, k))
        k, s, e = k[order], s[order], e[order]
        last = np.ones(len(k), dtype=bool)
        last[:-1] = (k[1:] != k[:-1]) | (s[1:] != s[:-1])
        k, s, e = k[last], s[last], e[last]

        keep = np.ones(len(k), dtype=bool)
        # the last clause barrier before each match
        clause_start = barriers[np.searchsorted(barriers, s, side="right") - 1]
        cues = hits[kind == self.CUE]
        cue_owner = owner[kind == self.CUE]
        for g in range(len(self.guard_names)):
            ends = np.sort(cues[cue_owner == g][:, 2])
            if not len(ends):
                continue
            j = np.searchsorted(ends, s, side="right") - 1
            cue_end = ends[np.maximum(j, 0)]
            guarded = ((j >= 0) & (cue_end > clause_start)
                       & (spaces[s] - spaces[cue_end] <= 2 * self.window[g]))
            keep &= ~(guarded & self.applies[k, g])
        needs = self.context_window[k] > 0
        if needs.any():
            ctx = hits[kind == self.CONTEXT]
            ctx_owner = owner[kind == self.CONTEXT]
            para = np.searchsorted(starts, s, side="right") - 1
            for kk in np.unique(k[needs]):
                mask = k == kk
                w = self.context_window[kk]
                c = ctx[ctx_owner == kk]
                near = np.zeros(mask.sum(), dtype=bool)
                if len(c):
                    ms, me, mp = s[mask], e[mask], para[mask]
                    ce = np.sort(c[:, 2])  # context phrases ending before the match ends
                    j = np.searchsorted(ce, me, side="right") - 1
                    left = ce[np.maximum(j, 0)]
                    near |= ((j >= 0) & (np.searchsorted(starts, left - 1, side="right") - 1 == mp)
                             & (spaces[ms] - spaces[np.minimum(left, ms)] <= 2 * w))
                    cs = np.sort(c[:, 1])  # context phrases starting after the match starts
                    j = np.searchsorted(cs, ms, side="left")
                    right = cs[np.minimum(j, len(cs) - 1)]
                    same = np.searchsorted(starts, right, side="right") - 1 == mp
                    near |= ((j < len(cs)) & same
                             & (spaces[np.maximum(right, me)] - spaces[me] <= 2 * w))
                keep[np.flatnonzero(mask)] &= near
        k, s, e = k[keep], s[keep], e[keep]
        order = np.lexsort((k, -e, s))
        return k[order], s[order], e[order]


# Chinese full-width clause ends in UTF-8: 。！？；：
_WIDE = np.array([0xE38082, 0xEFBC81, 0xEFBC9F, 0xEFBC9B, 0xEFBC9A], dtype=np.int64)


def _wide_barriers(buf: np.ndarray) -> np.ndarray:
    """Byte positions where a Chinese full-width clause end begins."""
    lead = np.flatnonzero((buf[:-2] == 0xE3) | (buf[:-2] == 0xEF))
    code = ((buf[lead].astype(np.int64) << 16) | (buf[lead + 1].astype(np.int64) << 8)
            | buf[lead + 2])
    return lead[np.isin(code, _WIDE)]


def _compile(expressions: list, needs_start) -> hyperscan.Database:
    """One Hyperscan block-mode database: case-insensitive, UTF-8, with the
    start of each match (SOM_LEFTMOST) where ``needs_start`` says so."""
    flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_UTF8
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=[e.encode("utf-8") for e in expressions],
               ids=list(range(len(expressions))), elements=len(expressions),
               flags=[flags | (hyperscan.HS_FLAG_SOM_LEFTMOST if som else 0)
                      for som in needs_start])
    return db


def _kept_database(expressions: list, needs_start) -> hyperscan.Database:
    """``_compile``'s database, loaded from DATABASES when this Hyperscan
    version compiled the same expressions with the same flags on this kind of
    machine before; compiled and kept there otherwise. A file that Hyperscan
    refuses (damaged, or compiled for other processor features) is compiled
    again; a cache folder that cannot be written only costs the compile."""
    key = hashlib.sha256(json.dumps({
        "hyperscan": hyperscan.__version__, "machine": platform.machine(),
        "expressions": list(expressions), "start": [bool(x) for x in needs_start],
    }).encode("utf-8")).hexdigest()
    path = DATABASES / f"{key}.hsdb"
    try:
        db = hyperscan.loadb(path.read_bytes(), mode=hyperscan.HS_MODE_BLOCK)
        db.scratch = hyperscan.Scratch(db)  # checks the database against this machine
        db.scan(b"")
        os.utime(path)  # used: kept longer
        return db
    except (OSError, hyperscan.error):
        pass
    db = _compile(expressions, needs_start)
    try:
        write_bytes_atomic(path, hyperscan.dumpb(db))
        _forget_old(DATABASES)
    except OSError:
        pass
    return db


def _forget_old(folder: Path) -> None:
    """Delete all but the KEEP_DATABASES most recently used databases."""
    kept = []
    for p in folder.glob("*.hsdb"):
        try:
            kept.append((p.stat().st_mtime_ns, p.name, p))
        except OSError:  # deleted meanwhile by another process
            pass
    for _, _, p in sorted(kept, reverse=True)[KEEP_DATABASES:]:
        p.unlink(missing_ok=True)


def matcher(book: Codebook) -> Matcher:
    """The compiled matcher of a codebook, built once per process."""
    m = _matchers.get(book.fingerprint)
    if m is None:
        m = _matchers[book.fingerprint] = Matcher(book)
    return m
