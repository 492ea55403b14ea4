"""Benchmark the dictionary coder beside ripgrep counting the same patterns.

Not a test. Uses the synthetic corpus of bench_pipeline.py (built first if
missing), so the coder reads the same segments.parquet a real build writes.
Measured, each in a fresh interpreter:

- the coder end to end (code_corpus: read segments, scan, guards, evidence
  offsets, write codes and doc_codes), in 1 and 2 processes;
- the Hyperscan scan alone over the same paragraph texts;
- ripgrep (the yardstick; Debian package ripgrep) counting every indicator
  expression, case-insensitive and word-bounded as the expressions are, over
  the same paragraph texts written one per line.

    python benchmarks/bench_coding.py            # after or without make bench
"""

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Peak memory is sampled from /proc: ru_maxrss survives exec on Linux, so a
# child would report its parent's peak.
CODE = textwrap.dedent("""
    import json, sys, threading, time
    from analysis.coding.stage import code_corpus
    from analysis.coding.codebook import load_codebook
    peak, done = [0], threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], int(open("/proc/self/statm").read().split()[1]) * 4096)
            time.sleep(0.2)
    threading.Thread(target=sample, daemon=True).start()
    book = load_codebook()
    t = time.perf_counter()
    res = code_corpus(sys.argv[1], book, force=True, jobs=int(sys.argv[2]))
    dt = time.perf_counter() - t
    done.set()
    print(json.dumps({"seconds": dt, "codes": res.counts["codes"], "rss_mb": peak[0] / 2**20}))
""")

SCAN = textwrap.dedent("""
    import json, sys, time
    from analysis.coding.codebook import load_codebook
    from analysis.coding.engine import matcher
    m = matcher(load_codebook())
    data = open(sys.argv[1], "rb").read().replace(b"\\n", b"\\0")
    t = time.perf_counter(); hits = 0
    step = 8 << 20
    start = 0
    while start < len(data):  # about 8 MB at a time, cut at a paragraph end
        end = data.find(b"\\0", min(start + step, len(data) - 1)) + 1 or len(data)
        hits += len(m.scan(data[start:end])); start = end
    print(json.dumps({"seconds": time.perf_counter() - t, "matches": hits}))
""")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    args = ap.parse_args()
    py = sys.executable

    corpus = args.work / f"synthetic-n{args.n}-seed{args.seed}"
    out = args.work / "coding-out"
    if not (out / "segments.parquet").exists():
        if not (corpus / ".complete").exists():
            subprocess.run([py, ROOT / "benchmarks" / "bench_pipeline.py", "--n", str(args.n),
                            "--seed", str(args.seed), "--jobs", "2", "--work", str(args.work)],
                           check=True)
        from analysis.corpus.build import build

        build(corpus, out)

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    seg = pq.read_table(out / "segments.parquet", columns=["unit", "text"])
    texts = seg.filter(pc.equal(seg["unit"], "paragraph"))["text"].to_pylist()
    para_file = args.work / "paragraphs.txt"
    para_file.write_text("\n".join(texts) + "\n", encoding="utf-8")
    size = para_file.stat().st_size

    from analysis.coding.codebook import load_codebook

    book = load_codebook()
    patterns = args.work / "patterns.txt"
    patterns.write_text("\n".join(e for ind in book.indicators for e in ind.expressions) + "\n")
    n_expr = sum(len(ind.expressions) for ind in book.indicators)

    coders = {jobs: json.loads(subprocess.run([py, "-c", CODE, out, str(jobs)],
                                              capture_output=True, text=True, check=True).stdout)
              for jobs in (1, 2)}
    coder = coders[2]
    scan = json.loads(subprocess.run([py, "-c", SCAN, para_file], capture_output=True,
                                     text=True, check=True).stdout)
    rows = [("coder, 1 process (code_corpus)", coders[1]["seconds"]),
            ("coder, 2 processes", coders[2]["seconds"]),
            ("Hyperscan scan alone, 1 process", scan["seconds"])]
    rg = shutil.which("rg")
    if rg:
        t = time.perf_counter()
        proc = subprocess.run([rg, "--count-matches", "-i", "--no-filename", "-f", patterns,
                               para_file], capture_output=True, text=True)
        rows.append(("ripgrep --count-matches -i (yardstick)", time.perf_counter() - t))
        rg_count = int(proc.stdout.strip() or 0)
    else:
        print("ripgrep not found: install it (apt-get install ripgrep) for the yardstick.")

    print(f"\n{len(texts):,} body and comment paragraphs, {size / 1e6:.1f} MB of normalised text; "
          f"{len(book.indicators)} indicators, {n_expr} expressions; codebook {book.version}")
    print(f"{'stage':<40}{'seconds':>9}{'MB/s':>9}{'paragraphs/s':>14}")
    for name, secs in rows:
        print(f"{name:<40}{secs:>9.2f}{size / 1e6 / secs:>9.1f}{len(texts) / secs:>14,.0f}")
    print(f"coder: {coder['codes']:,} pieces of evidence, peak memory of the main process "
          f"{coders[1]['rss_mb']:.0f} MB (1 process), {coder['rss_mb']:.0f} MB (2); "
          f"Hyperscan matches before guards: {scan['matches']:,}")
    if rg:
        print(f"ripgrep lines counted: {rg_count:,} (one alternation: non-overlapping matches "
              "only, so fewer than Hyperscan's)")
        print(f"coder / ripgrep time: {coder['seconds'] / rows[-1][1]:.1f}x; "
              f"scan / ripgrep: {scan['seconds'] / rows[-1][1]:.2f}x")


if __name__ == "__main__":
    main()
