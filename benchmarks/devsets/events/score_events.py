"""Score the outcome events and case links against the hand-coded pages.

    .venv/bin/python benchmarks/devsets/events/score_events.py PAGES_DIR [--set evaluation]
        [--out WORK_DIR]

PAGES_DIR holds each page's text as the search tool returned it
(PAGEID.txt; sources.csv gives the address, the query and the sha256 of the
text that was coded). ``--set evaluation`` scores the held-out pages in
evaluation/ instead of the development pages here. The pages are built
into one corpus with the real ``analysis build``; each event the pipeline links to a case is placed on the
raw line holding its evidence and compared with ``gold_events.csv`` by
(page, line, case, event type), several gold rows of one key counting once:

- found: the share of gold events the pipeline has (recall), per event type;
- side right: of those found, the share whose side equals the gold's;
- extra: pipeline events with no gold event of that key (not all are wrong:
  the gold records one line per event and the pipeline may report an event
  the coder read as background);
- links at confidence 1.0 (aliases) to a case that no gold event on that
  page concerns, listed so that each can be read.
"""

import argparse
import csv
import hashlib
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pages", type=Path)
    ap.add_argument("--set", choices=("development", "evaluation"), default="development")
    ap.add_argument("--out", type=Path, default=Path("/tmp/events-devset-score"))
    ap.add_argument("--analysis", default=str(Path(sys.executable).with_name("analysis")))
    args = ap.parse_args()
    here = HERE / "evaluation" if args.set == "evaluation" else HERE

    sources = list(csv.DictReader(open(here / "sources.csv", encoding="utf-8")))
    corpus = args.out / "corpus"
    shutil.rmtree(args.out, ignore_errors=True)
    corpus.mkdir(parents=True)
    problems = []
    with open(corpus / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["doc_id", "file", "sha256", "outlet", "language", "url"])
        for s in sources:
            path = args.pages / f"{s['page_id']}.txt"
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != s["sha256"]:
                problems.append(f"{path}: missing or not the page that was coded; fetch "
                                f"{s['address']} with the search tool (corpus pages).")
                continue
            shutil.copy(path, corpus / path.name)
            w.writerow([s["page_id"], path.name, s["sha256"], s["outlet"], s["language"],
                        s["address"]])
    if problems:
        sys.exit("\n".join(problems))
    proc = subprocess.run([args.analysis, "build", "--corpus", corpus, "--processed",
                           args.out / "processed"], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    out = args.out / "processed"

    gold = {}
    for r in csv.DictReader(open(here / "gold_events.csv", encoding="utf-8")):
        gold.setdefault((r["page_id"], int(r["line_no"]), r["case_id"], r["event"]), r["side"])
    lines = pq.read_table(out / "lines.parquet", columns=["doc_id", "line_no", "start", "end"])
    spans = defaultdict(list)
    for d, n, a, b in zip(*(lines[c].to_pylist() for c in ("doc_id", "line_no", "start", "end"))):
        spans[d].append((a, b, n))
    ev = pq.read_table(out / "case_events.parquet").to_pylist()
    got = {}
    for e in ev:
        line = next((n for a, b, n in spans[e["doc_id"]] if a <= e["start"] < b), None)
        got.setdefault((e["doc_id"], line, e["case_id"], e["event"]), e["favours"])

    found = {k: v for k, v in gold.items() if k in got}
    right = sum(got[k] == v for k, v in found.items())
    language = {s["page_id"]: s["language"] for s in sources}
    print(f"{len(sources)} pages, {len(gold)} gold events (page, line, case, type); "
          f"{len(got)} pipeline events\n")
    print(f"{'':<22}{'gold':>6}{'found':>7}{'share':>7}{'side right':>12}")
    rows = [("all", lambda k: True)] + [
        (f"language {x}", lambda k, x=x: language[k[0]] == x) for x in sorted(set(language.values()))]
    rows += [(t.split(".")[1], lambda k, t=t: k[3] == t)
             for t in sorted({k[3] for k in gold})]
    for name, pick in rows:
        g = [k for k in gold if pick(k)]
        fnd = [k for k in found if pick(k)]
        ok = sum(got[k] == gold[k] for k in fnd)
        print(f"{name:<22}{len(g):>6}{len(fnd):>7}{_share(len(fnd), len(g)):>7}"
              f"{_share(ok, len(fnd)):>12}")
    print(f"\nside right on {right} of {len(found)} found; "
          f"extra pipeline events: {len(set(got) - set(gold))}")
    confusion = Counter((gold[k], got[k]) for k in found)
    print("gold side -> pipeline side: " + ", ".join(
        f"{a}->{b} {n}" for (a, b), n in sorted(confusion.items())))

    cases = defaultdict(set)
    for k in gold:
        cases[k[0]].add(k[2])
    m = pq.read_table(out / "case_mentions.parquet",
                      columns=["doc_id", "case_id", "confidence", "evidence"]).to_pylist()
    odd = sorted({(r["doc_id"], r["case_id"], r["evidence"]) for r in m
                  if r["confidence"] == 1.0 and r["case_id"] not in cases[r["doc_id"]]})
    print(f"\nalias links (confidence 1.0) to a case no gold event on the page concerns: "
          f"{len(odd)}")
    for d, c, e in odd:
        print(f"  {d} {c}: {e!r}")


def _share(a, b):
    return f"{a / b:.2f}" if b else "-"


if __name__ == "__main__":
    main()
