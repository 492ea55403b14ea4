"""Score the dictionary coder's document codes against the hand-coded pages.

    .venv/bin/python benchmarks/devsets/coding/score_coding.py \
        --pages cleaning=DEV_PAGES --pages cleaning/heldout=HELDOUT_PAGES [--out WORK_DIR]
    .venv/bin/python benchmarks/devsets/coding/score_coding.py --evaluation EVAL_PAGES
    .venv/bin/python benchmarks/devsets/coding/score_coding.py --set chinese --pages-dir ZH_PAGES
    .venv/bin/python benchmarks/devsets/coding/score_coding.py --set chinese/evaluation \
        --pages-dir ZH_EVAL_PAGES

The first scores the English development set, the second the held-out
English evaluation set (``evaluation/``: its own gold_codes.csv and
sources.csv), once the codebook is frozen. ``--set FOLDER`` scores any set
kept that way in a folder here: ``chinese/`` (development) and
``chinese/evaluation/`` (held out). A set with ``gold_cases.csv`` (page_id,
case_id, lines: the registered cases the body discusses) is also scored for
case linking: which of those cases the linker links to the page, at any
confidence, and which others it links.

The pages are the English article pages of the two cleaning sets
(``benchmarks/devsets/cleaning`` and its ``heldout/``): their addresses,
queries and checksums are in those sets' sources.csv (the texts are never
committed; each DIR holds PAGEID.txt as the search tool returned it).
``gold_codes.csv`` here holds the hand codes (set, page_id, code, present,
lines: the body lines, numbered from 1 by ``text.split("\\n")``, that carry
the code), coded blind from the research design's definitions before the
coder's output was seen (README.md says how).

The pages are built into one corpus with the real ``analysis build`` (clean,
segment, code), and each page's ``doc_codes`` are compared with the gold,
code by code: positives on each side, tp/fp/fn, F1; then per code family and
pooled over every code: F1 and Krippendorff's alpha (two coders, nominal)
over the page x code pairs. A page the build set aside counts as coding
nothing.
"""

import argparse
import csv
import hashlib
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from analysis.validation.agreement import bootstrap

HERE = Path(__file__).resolve().parent
SETS = HERE.parent
SEED = 20261122  # the report's default seed, for the bootstrap over pages
FAMILIES = (("generic frames", "frame."), ("issue frames", "issue."),
            ("backlash themes", "backlash."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", action="append", default=[], metavar="SET=DIR",
                    help="the folder holding a set's page texts (set as in gold_codes.csv)")
    ap.add_argument("--evaluation", type=Path, metavar="DIR",
                    help="score the held-out evaluation set instead; DIR holds its page texts")
    ap.add_argument("--set", metavar="FOLDER",
                    help="score the set in FOLDER (relative to this script's folder), e.g. "
                         "chinese; its pages are in --pages-dir")
    ap.add_argument("--pages-dir", type=Path, metavar="DIR", help="the pages of --set")
    ap.add_argument("--out", type=Path, default=Path("/tmp/coding-devset-score"))
    ap.add_argument("--analysis", default=str(Path(sys.executable).with_name("analysis")))
    ap.add_argument("--codebook", type=Path, default=None,
                    help="score another codebook (default: the packaged one)")
    args = ap.parse_args()
    if args.evaluation:
        args.set, args.pages_dir = "evaluation", args.evaluation
    if args.set:
        if not args.pages_dir:
            sys.exit("--set needs --pages-dir DIR: the folder holding its page texts.")
        folders, gold_file = {args.set: args.pages_dir}, HERE / args.set / "gold_codes.csv"
    elif args.pages:
        folders, gold_file = dict(p.split("=", 1) for p in args.pages), HERE / "gold_codes.csv"
    else:
        sys.exit("Give --pages SET=DIR for each development set, or --evaluation DIR.")

    gold = defaultdict(dict)  # doc id -> code -> 0/1
    for r in csv.DictReader(open(gold_file)):
        gold[_doc_id(r.get("set", args.set), r["page_id"])][r["code"]] = int(r["present"])
    codes = list(next(iter(gold.values())))

    corpus = args.out / "corpus"
    shutil.rmtree(args.out, ignore_errors=True)
    corpus.mkdir(parents=True)
    problems = []
    with open(corpus / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["doc_id", "file", "sha256", "outlet", "language", "url"])
        for set_name in sorted({d.split(":")[0] for d in gold}):
            if set_name not in folders:
                sys.exit(f"--pages {set_name}=DIR is missing: gold_codes.csv codes its pages.")
            where = HERE if set_name == args.set else SETS
            sources = {r["page_id"]: r for r in csv.DictReader(open(where / set_name
                                                                    / "sources.csv"))}
            for doc in sorted(d for d in gold if d.startswith(set_name + ":")):
                pid = doc.split(":")[1]
                s, path = sources[pid], Path(folders[set_name]) / f"{pid}.txt"
                if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() \
                        != s["sha256"]:
                    problems.append(f"{path}: missing or not the page that was coded; fetch "
                                    f"{s['address']} with the search tool (corpus pages, "
                                    f"query {s['query']!r}).")
                    continue
                name = doc.replace(":", "_").replace("/", "_")
                shutil.copy(path, corpus / f"{name}.txt")
                w.writerow([name, f"{name}.txt", s["sha256"], s["outlet"],
                            s.get("language", "en"), s["address"]])
    if problems:
        sys.exit("\n".join(problems))
    book = ["--codebook", args.codebook] if args.codebook else []
    proc = subprocess.run([args.analysis, "build", "--corpus", corpus, "--processed",
                           args.out / "processed", *book], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    dc = pq.read_table(args.out / "processed" / "doc_codes.parquet").to_pandas()
    got = defaultdict(dict)
    for d, c, p in zip(dc.doc_id, dc.code, dc.present):
        got[d][c] = int(p)

    pairs = {c: [] for c in codes}  # code -> [(gold, coder)]
    for doc, values in gold.items():
        name = doc.replace(":", "_").replace("/", "_")
        for c in codes:
            pairs[c].append((values[c], got.get(name, {}).get(c, 0)))

    print(f"{len(gold)} pages; document level\n")
    print(f"{'code':<42}{'gold':>5}{'coder':>6}{'tp':>4}{'fp':>4}{'fn':>4}{'F1':>7}")
    for c in codes:
        tp, fp, fn = _counts(pairs[c])
        print(f"{c:<42}{tp + fn:>5}{tp + fp:>6}{tp:>4}{fp:>4}{fn:>4}{_fmt(_f1(tp, fp, fn)):>7}")
    docs = list(gold)  # pairs[c] follows this order
    print(f"\n{'family':<20}{'pairs':>6}{'F1':>7}{'95% CI':>12}{'alpha':>8}{'95% CI':>12}")
    for label, prefix in FAMILIES + (("all codes (pooled)", ""),):
        fam = [c for c in codes if c.startswith(prefix)]
        both = [p for c in fam for p in pairs[c]]
        tp, fp, fn = _counts(both)
        # pages resampled with all their codes (the report's bootstrap)
        ci = bootstrap(np.array([g for g, _ in both]), np.array([m for _, m in both]),
                       np.array([d for _ in fam for d in docs]), SEED)
        print(f"{label:<20}{len(both):>6}{_fmt(_f1(tp, fp, fn)):>7}"
              f"{_fmt(ci['f1_low']) + '-' + _fmt(ci['f1_high']):>12}{_fmt(_alpha(both)):>8}"
              f"{_fmt(ci['alpha_low']) + '-' + _fmt(ci['alpha_high']):>12}")
    if args.set and (HERE / args.set / "gold_cases.csv").is_file():
        _score_cases(HERE / args.set / "gold_cases.csv", args.set, args.out / "processed")


def _score_cases(gold_file, set_name, processed):
    """Registered cases the gold says each page discusses, against the cases
    the linker links to it (any confidence)."""
    want = defaultdict(set)
    for r in csv.DictReader(open(gold_file)):
        want[f"{set_name}_{r['page_id']}".replace("/", "_")].add(r["case_id"])
    m = pq.read_table(processed / "case_mentions.parquet", columns=["doc_id", "case_id"])
    got = defaultdict(set)
    for d, c in zip(m["doc_id"].to_pylist(), m["case_id"].to_pylist()):
        got[d].add(c)
    found = sum(len(want[d] & got[d]) for d in want)
    total = sum(len(v) for v in want.values())
    extra = sum(len(got[d] - want[d]) for d in set(got) | set(want))
    print(f"\ncases: {found} of {total} page-case links found; {extra} links the gold lacks")
    for d in sorted(set(want) | set(got)):
        miss, more = sorted(want[d] - got[d]), sorted(got[d] - want[d])
        if miss or more:
            print(f"  {d}: missed {', '.join(miss) or '-'}; extra {', '.join(more) or '-'}")


def _doc_id(set_name, page_id):
    return f"{set_name}:{page_id}"


def _counts(pairs):
    tp = sum(g and c for g, c in pairs)
    fp = sum((not g) and c for g, c in pairs)
    fn = sum(g and not c for g, c in pairs)
    return tp, fp, fn


def _f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def _alpha(pairs):
    """Krippendorff's alpha, nominal, two coders, no missing values."""
    n = 2 * len(pairs)
    ones = sum(g + c for g, c in pairs)
    d = sum(g != c for g, c in pairs)
    zeros = n - ones
    return 1 - (n - 1) * d / (ones * zeros) if ones and zeros else None


def _fmt(x):
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    main()
