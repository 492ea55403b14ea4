"""Benchmark the report: every notebook on a large generated corpus, then a
rebuild with nothing changed.

Not a test: timings depend on the machine. Uses (and makes once, cached under
build/bench/) the synthetic corpus of bench_pipeline.py, runs the pipeline
stages into build/bench/report-processed/ (reused when current), then times
`analysis report` into an empty report folder (every notebook runs, the
stages are current), and once more with nothing changed.

    make bench                              # 100,000 articles
    python benchmarks/bench_report.py --n 20000
"""

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANALYSIS = Path(sys.executable).with_name("analysis")


def run(*args):
    t = time.perf_counter()
    proc = subprocess.run([str(ANALYSIS), *map(str, args)], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stdout + proc.stderr)
    return time.perf_counter() - t, proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    args = ap.parse_args()

    corpus = args.work / f"synthetic-n{args.n}-seed{args.seed}"
    if not (corpus / ".complete").exists():
        run("synth", "--out", corpus, "--n", args.n, "--seed", args.seed)
        (corpus / ".complete").touch()
    processed, out = args.work / "report-processed", args.work / "report"
    common = ["--corpus", corpus, "--processed", processed, "--out", out]
    seconds, _ = run("build", "--corpus", corpus, "--processed", processed)
    print(f"pipeline stages (skipped when current): {seconds:.1f} s")
    shutil.rmtree(out, ignore_errors=True)
    seconds, stdout = run("report", *common)
    per = re.findall(r"\] (\S+\.ipynb) done in ([\d.]+) s", stdout)
    rest = seconds - sum(float(s) for _, s in per)
    print(f"report into an empty folder: {seconds:.1f} s (stage checks and page {rest:.1f} s)")
    for name, s in per:
        print(f"  {name}: {float(s):.1f} s")
    seconds, stdout = run("report", *common)
    print(f"report with nothing changed: {seconds:.2f} s "
          f"({stdout.strip().splitlines()[-2]})")


if __name__ == "__main__":
    main()
