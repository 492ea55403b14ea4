"""Score the cleaner's line roles and titles against the hand-labelled pages.

    .venv/bin/python benchmarks/devsets/cleaning/score_cleaning.py PAGES_DIR [--out WORK_DIR]
        [--set SET_DIR]

SET_DIR holds the set's sources.csv, gold_lines.csv and gold_pages.csv: this
folder (the development set) by default, ``heldout/`` for the evaluation set.

PAGES_DIR holds PAGEID.txt for every page in sources.csv (the page texts are
never committed: rebuild them from the addresses and queries there, and the
sha256 column checks each). The pages are built into a corpus with the real
`analysis build`, and its lines table is compared with gold_lines.csv
(page_id,line_no,role) and gold_pages.csv (page_id,has_article,title_line):
body precision and recall by line, per page and overall; titles right;
no-article pages set aside.
"""

import argparse
import csv
import hashlib
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pages", type=Path, help="folder holding PAGEID.txt for every page")
    ap.add_argument("--out", type=Path, default=Path("/tmp/devset-score"))
    ap.add_argument("--analysis", default=str(Path(sys.executable).with_name("analysis")))
    ap.add_argument("--set", type=Path, default=Path(__file__).resolve().parent,
                    help="folder with sources.csv, gold_lines.csv, gold_pages.csv")
    args = ap.parse_args()
    dev = args.set
    pages_dir = args.pages
    sources = {r["page_id"]: r for r in csv.DictReader(open(dev / "sources.csv"))}
    gold = defaultdict(dict)
    for r in csv.DictReader(open(dev / "gold_lines.csv")):
        gold[r["page_id"]][int(r["line_no"])] = r["role"]
    pages = {r["page_id"]: r for r in csv.DictReader(open(dev / "gold_pages.csv"))}
    problems = []
    for pid, s in sorted(sources.items()):
        path = pages_dir / f"{pid}.txt"
        if not path.is_file():
            problems.append(f"{path}: missing; fetch {s['address']} with the search tool "
                            f"(corpus pages, query {s['query']!r}) and save its text there.")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != s["sha256"]:
            problems.append(f"{path}: not the page that was labelled (sha256 differs); the "
                            "gold line numbers would not fit it.")
    if problems:
        sys.exit("\n".join(problems))

    corpus = args.out / "corpus"
    shutil.rmtree(args.out, ignore_errors=True)
    corpus.mkdir(parents=True)
    with open(corpus / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["doc_id", "file", "sha256", "outlet", "language", "url"])
        for pid in sorted(sources):
            data = (pages_dir / f"{pid}.txt").read_bytes()
            (corpus / f"{pid}.txt").write_bytes(data)
            s = sources[pid]
            w.writerow([pid, f"{pid}.txt", hashlib.sha256(data).hexdigest(), s["outlet"],
                        s["language"], s["address"]])
    proc = subprocess.run([args.analysis, "build", "--corpus", corpus, "--processed",
                           args.out / "processed"], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    lines = pq.read_table(args.out / "processed" / "lines.parquet").to_pandas()
    quarantine = pq.read_table(args.out / "processed" / "quarantine.parquet").to_pandas()
    set_aside = dict(zip(quarantine.doc_id, quarantine.reason))
    got = defaultdict(dict)
    titles = {}
    for d, n, role in zip(lines.doc_id, lines.line_no, lines.role):
        got[d][int(n)] = role
        if role == "title" and d not in titles:
            titles[d] = int(n)

    def prf(tp, fp, fn):
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r

    total = [0, 0, 0]
    by_outlet = defaultdict(lambda: [0, 0, 0])
    title_ok = title_n = 0
    rows = []
    confusion = defaultdict(int)
    for pid in sorted(gold):
        g, c = gold[pid], got.get(pid, {})
        has_article = pages[pid]["has_article"] == "yes"
        if not has_article:
            ok = set_aside.get(pid) == "no_article"
            rows.append((pid, sources[pid]["outlet"], "no article", "set aside" if ok else
                         f"NOT set aside ({set_aside.get(pid, 'coded')})"))
            continue
        tp = sum(1 for n, r in g.items() if r == "body" and c.get(n) == "body")
        fp = sum(1 for n, r in g.items() if r != "body" and c.get(n) == "body")
        fn = sum(1 for n, r in g.items() if r == "body" and c.get(n) != "body")
        for n, r in g.items():
            if r != c.get(n):
                confusion[(r, c.get(n))] += 1
        for acc in (total, by_outlet[sources[pid]["outlet"]]):
            acc[0] += tp; acc[1] += fp; acc[2] += fn
        want = pages[pid]["title_line"]
        title_n += 1
        right = (titles.get(pid) == int(want)) if want else pid not in titles
        title_ok += right
        p, r = prf(tp, fp, fn)
        rows.append((pid, sources[pid]["outlet"], f"P {p:.2f} R {r:.2f}",
                     f"title {'ok' if right else 'WRONG'} (gold {want or '-'}, "
                     f"got {titles.get(pid, '-')}){' SET ASIDE ' + set_aside[pid] if pid in set_aside else ''}"))
    for row in rows:
        print(" | ".join(map(str, row)))
    p, r = prf(*total)
    print(f"\nALL: body precision {p:.3f} recall {r:.3f} (tp {total[0]}, fp {total[1]}, "
          f"fn {total[2]}); titles right {title_ok}/{title_n} ({title_ok / title_n:.0%})")
    print("confusions (gold -> got):", dict(sorted(confusion.items(), key=lambda x: -x[1])))


if __name__ == "__main__":
    main()
