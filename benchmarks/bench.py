"""Benchmark every stage and the report on generated corpora, in one table.

Not a test: timings depend on the machine. For each --n, generates (once,
cached under build/bench/) a synthetic corpus of that many articles from
--seed, then measures, each in a fresh interpreter so that its peak memory
is its own (the main process, and the largest of its workers or kernels;
the report's kernels each beside its notebook):

- the floor: read, hash and decode every file (what any pipeline must do);
- the build (read, clean, segment, write), the coding and the case linking,
  each with --jobs workers (default: every core);
- the coder's scan alone (Hyperscan) and ripgrep, the yardstick, counting
  the same expressions case-insensitively over the same paragraph texts
  written one per line: the coder's ratio to ripgrep is the coding stage's
  time over ripgrep's;
- the report into an empty folder (every notebook runs; the stages are
  current), and once more with nothing changed.

MB/s is the corpus's text over the stage's time. With several --n, the last
lines compare each stage's peak memory with the first size's.

    make bench                                   # 100,000 articles
    python benchmarks/bench.py --n 20000
    python benchmarks/bench.py --n 100000 300000 # is memory flat in corpus size?
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

# Each measured step runs as `python -c STEP name args...` and prints JSON:
# seconds, and the peak resident memory of itself and of the largest of its
# descendants (workers, kernels; the report's kernels each by notebook). A
# peak is the process's own high-water mark (VmHWM, kept by the kernel, so a
# spike between two looks is not missed), read from /proc every 0.1 s for the
# descendants (all but a process's last 0.1 s) and at the end for the step
# itself. Not ru_maxrss: on Linux a child's starts at its parent's size when
# forked and survives exec, so a small worker of a large process would report
# the process's size; VmHWM starts afresh at exec.
STEP = textwrap.dedent("""
    import json, os, sys, threading, time
    step, args = sys.argv[1], sys.argv[2:]
    extra = {}
    peak = {"main": 0, "child": 0}
    kernels = {}  # pid -> peak, in the order the kernels started

    def high_water(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    def sample(done):
        me = os.getpid()
        while not done.wait(0.1):
            parent = {}
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parent[int(pid)] = int(fields[1])
            kids, todo = [], [me]
            while todo:
                p = todo.pop()
                found = [c for c, pp in parent.items() if pp == p]
                kids += found
                todo += found
            for k in kids:
                try:
                    hwm = high_water(k)
                    with open(f"/proc/{k}/cmdline", "rb") as f:
                        kernel = b"ipykernel" in f.read()
                except OSError:
                    continue
                peak["child"] = max(peak["child"], hwm)
                if kernel:
                    kernels[k] = max(kernels.get(k, 0), hwm)

    done = threading.Event()
    sampler = threading.Thread(target=sample, args=(done,), daemon=True)
    sampler.start()
    t = time.perf_counter()
    if step == "floor":
        import hashlib
        from pathlib import Path
        n = 0
        for p in sorted(Path(args[0]).glob("*.txt")):
            b = p.read_bytes(); hashlib.sha256(b).hexdigest(); b.decode("utf-8"); n += len(b)
    elif step == "build":
        from analysis.corpus.build import build
        build(args[0], args[1], jobs=int(args[2]), force=True)
    elif step in ("coding", "linking"):
        from analysis.cases.stage import link_corpus
        from analysis.coding.stage import code_corpus
        (code_corpus if step == "coding" else link_corpus)(args[0], force=True, jobs=int(args[1]))
    elif step == "scan":
        from analysis.coding.codebook import load_codebook
        from analysis.coding.engine import matcher
        m = matcher(load_codebook())
        data = open(args[0], "rb").read().replace(b"\\n", b"\\0")
        t = time.perf_counter(); start = 0
        while start < len(data):  # about 8 MB at a time, cut at a paragraph end
            end = data.find(b"\\0", min(start + (8 << 20), len(data) - 1)) + 1 or len(data)
            m.scan(data[start:end]); start = end
    elif step == "report":
        import re
        from analysis.workflow import run_all
        said = []
        run_all(args[0], args[1], args[2], jobs=int(args[3]), say=said.append)
        extra["notebooks"] = {m.group(1): float(m.group(2)) for m in
                              map(re.compile(r"\\] (\\S+)\\.ipynb done in ([\\d.]+) s").search, said)
                              if m}
    dt = time.perf_counter() - t
    done.set()
    sampler.join()
    peak["main"] = high_water(os.getpid())
    if "notebooks" in extra and len(kernels) == len(extra["notebooks"]):
        extra["kernel_mb"] = dict(zip(extra["notebooks"], (v / 2**20 for v in kernels.values())))
    print(json.dumps({"seconds": dt, "main_mb": peak["main"] / 2**20,
                      "child_mb": peak["child"] / 2**20, **extra}))
""")


def step(*args) -> dict:
    proc = subprocess.run([sys.executable, "-c", STEP, *map(str, args)], capture_output=True,
                          text=True)
    if proc.returncode:
        sys.exit(f"benchmark step {args[0]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def corpus_of(work: Path, n: int, seed: int) -> tuple:
    """The generated corpus folder and its text's size in bytes."""
    corpus = work / f"synthetic-n{n}-seed{seed}"
    done = corpus / ".complete"
    if not done.exists() or not done.read_text():
        shutil.rmtree(corpus, ignore_errors=True)
        from analysis.corpus.synthetic import write_corpus

        t = time.perf_counter()
        info = write_corpus(corpus, n, seed)
        done.write_text(json.dumps(info))
        print(f"generated {n:,} articles ({info['bytes'] / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t:.1f} s -> {corpus}", flush=True)
    return corpus, json.loads(done.read_text())["bytes"]


def paragraphs_file(processed: Path, dest: Path) -> int:
    """The body and comment paragraphs the coder reads, one per line; their count."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    seg = pq.read_table(processed / "segments.parquet", columns=["unit", "text"])
    texts = seg.filter(pc.equal(seg["unit"], "paragraph"))["text"]
    with open(dest, "w", encoding="utf-8") as f:
        for chunk in texts.chunks:
            f.write("\n".join(chunk.to_pylist()) + "\n")
    return len(texts)


def ripgrep(patterns: Path, text: Path):
    """Seconds ripgrep takes to count the expressions' matches; None without it."""
    rg = shutil.which("rg")
    if not rg:
        print("ripgrep not found: install it (apt-get install ripgrep) for the yardstick.")
        return None
    t = time.perf_counter()
    subprocess.run([rg, "--count-matches", "-i", "--no-filename", "-f", patterns, text],
                   capture_output=True, check=False)
    return time.perf_counter() - t


def measure(n: int, args) -> list:
    """Rows (stage, seconds, peak MB of main, peak MB of a worker or kernel)."""
    corpus, size = corpus_of(args.work, n, args.seed)
    run = args.work / f"n{n}"
    processed, report = run / "processed", run / "report"
    jobs = args.jobs
    rows = [("read + sha256 + decode (floor)", step("floor", corpus))]
    rows.append((f"build, {jobs} process(es)", step("build", corpus, processed, jobs)))
    rows.append((f"coding, {jobs} process(es)", step("coding", processed, jobs)))
    rows.append((f"linking, {jobs} process(es)", step("linking", processed, jobs)))

    from analysis.coding.codebook import load_codebook

    book = load_codebook()
    patterns = run / "patterns.txt"
    patterns.write_text("\n".join(e for ind in book.indicators for e in ind.expressions) + "\n")
    text = run / "paragraphs.txt"
    paragraphs_file(processed, text)
    text_mb = text.stat().st_size / 1e6
    rows.append(("coder's scan alone, 1 process", step("scan", text)))
    rg = ripgrep(patterns, text)
    if rg is not None:
        rows.append(("ripgrep, same expressions", {"seconds": rg}))

    shutil.rmtree(report, ignore_errors=True)
    first = step("report", corpus, processed, report, jobs)
    rows.append(("report into an empty folder", first))
    kernel_mb = first.get("kernel_mb", {})
    rows += [(f"  {name}", {"seconds": s, "child_mb": kernel_mb.get(name)})
             for name, s in first["notebooks"].items()]
    rows.append(("report with nothing changed", step("report", corpus, processed, report, jobs)))

    print(f"\n{n:,} synthetic articles, {size / 1e6:.1f} MB of text, {text_mb:.1f} MB of it "
          f"in paragraphs (seed {args.seed}; {jobs} of {os.cpu_count()} cores; Python "
          f"{sys.version.split()[0]})")
    print(f"{'stage':<34}{'seconds':>9}{'MB/s':>9}{'articles/s':>12}{'peak MB':>9}"
          f"{'worker/kernel MB':>18}")
    for name, r in rows:
        secs = r["seconds"]
        main = f"{r['main_mb']:.0f}" if r.get("main_mb") else ""
        child = f"{r['child_mb']:.0f}" if r.get("child_mb") else ""
        print(f"{name:<34}{secs:>9.2f}{size / 1e6 / secs:>9.1f}{n / secs:>12,.0f}{main:>9}"
              f"{child:>18}")
    if rg is not None:
        coding = next(r for name, r in rows if name.startswith("coding"))
        scan = next(r for name, r in rows if name.startswith("coder's scan"))
        print(f"coding stage / ripgrep: {coding['seconds'] / rg:.1f}x (goal: within 3x); "
              f"scan alone / ripgrep: {scan['seconds'] / rg:.1f}x")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[100_000],
                    help="corpus sizes in articles (default 100,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="worker processes (default: every core)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    args = ap.parse_args()
    by_size = {n: dict(measure(n, args)) for n in args.n}
    if len(by_size) > 1:
        base_n = args.n[0]
        print(f"\npeak memory against {base_n:,} articles (main process; largest worker "
              "or kernel)")
        for name, r in by_size[base_n].items():
            if not (r.get("main_mb") or r.get("child_mb")):
                continue
            for n in args.n[1:]:
                other = by_size[n].get(name, {})
                ratio = [f"{other[k] / r[k]:.2f}x" for k in ("main_mb", "child_mb")
                         if r.get(k) and other.get(k)]
                print(f"  {name:<32} {n:>9,}: {' / '.join(ratio)}")


if __name__ == "__main__":
    main()
