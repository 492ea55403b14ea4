"""Benchmark the pipeline's stages on a generated corpus: time, MB/s, peak memory.

Not a test: timings depend on the machine. Generates (once, cached under
build/bench/) a synthetic corpus of --n articles from --seed, then builds it
(read, clean, segment, write) with each --jobs count, and runs the coding
and the case-linking stages alone on the last build's tables, each in a
fresh interpreter so that peak memory is its own (the main process, and the
largest of its worker processes). MB/s is the corpus's text over the
stage's time. A plain read of every file (bytes + SHA-256, what any
pipeline must do) is the floor.

    make bench                    # 100,000 articles
    python benchmarks/bench_pipeline.py --n 20000 --jobs 1 2
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = textwrap.dedent("""
    import json, resource, sys, time
    from analysis.corpus.build import build
    t = time.perf_counter()
    res = build(sys.argv[1], sys.argv[2], jobs=int(sys.argv[3]), force=True)
    dt = time.perf_counter() - t
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": dt, "rss_main_mb": own / 1024, "rss_worker_mb": kids / 1024,
                      "chars": res.counts["chars_read"], "documents": res.counts["documents"]}))
""")

STAGE = textwrap.dedent("""
    import json, resource, sys, time
    from analysis.cases.stage import link_corpus
    from analysis.coding.stage import code_corpus
    stage, out, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t = time.perf_counter()
    (code_corpus if stage == "coding" else link_corpus)(out, force=True, jobs=jobs)
    dt = time.perf_counter() - t
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": dt, "rss_main_mb": own / 1024, "rss_worker_mb": kids / 1024}))
""")

FLOOR = textwrap.dedent("""
    import hashlib, json, sys, time
    from pathlib import Path
    t = time.perf_counter(); n = 0
    for p in sorted(Path(sys.argv[1]).glob("*.txt")):
        b = p.read_bytes(); hashlib.sha256(b).hexdigest(); b.decode("utf-8"); n += len(b)
    print(json.dumps({"seconds": time.perf_counter() - t, "bytes": n}))
""")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}),
                    help="worker counts to build with (default: 1 and every core)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    args = ap.parse_args()

    corpus = args.work / f"synthetic-n{args.n}-seed{args.seed}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        t = time.perf_counter()
        from analysis.corpus.synthetic import write_corpus

        info = write_corpus(corpus, args.n, args.seed)
        (corpus / ".complete").write_text(json.dumps(info))
        print(f"generated {args.n:,} articles ({info['bytes'] / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t:.1f} s -> {corpus}", flush=True)
    # bench_report.py marks a corpus it made with an empty .complete
    size = (json.loads((corpus / ".complete").read_text() or "{}").get("bytes")
            or sum(p.stat().st_size for p in corpus.glob("*.txt")))

    py = sys.executable
    floor = json.loads(subprocess.run([py, "-c", FLOOR, corpus], capture_output=True,
                                      text=True, check=True).stdout)
    rows = [("read + sha256 + decode (floor)", floor["seconds"], None, None)]
    for jobs in args.jobs:
        out = args.work / f"out-jobs{jobs}"
        r = json.loads(subprocess.run([py, "-c", RUN, corpus, out, str(jobs)],
                                      capture_output=True, text=True, check=True).stdout)
        rows.append((f"build, {jobs} process{'es' if jobs > 1 else ''}", r["seconds"],
                     r["rss_main_mb"], r["rss_worker_mb"] if jobs > 1 else None))
    jobs = args.jobs[-1]
    for stage in ("coding", "linking"):
        r = json.loads(subprocess.run([py, "-c", STAGE, stage, out, str(jobs)],
                                      capture_output=True, text=True, check=True).stdout)
        rows.append((f"{stage}, {jobs} process{'es' if jobs > 1 else ''}", r["seconds"],
                     r["rss_main_mb"], r["rss_worker_mb"] if jobs > 1 else None))

    print(f"\n{args.n:,} synthetic articles, {size / 1e6:.1f} MB of text "
          f"(seed {args.seed}; Python {sys.version.split()[0]})")
    print(f"{'stage':<34}{'seconds':>9}{'MB/s':>9}{'articles/s':>12}{'peak MB':>10}"
          f"{'worker MB':>11}")
    for name, secs, rss, wrss in rows:
        print(f"{name:<34}{secs:>9.1f}{size / 1e6 / secs:>9.1f}{args.n / secs:>12,.0f}"
              f"{'' if rss is None else f'{rss:.0f}':>10}{'' if wrss is None else f'{wrss:.0f}':>11}")


if __name__ == "__main__":
    main()
