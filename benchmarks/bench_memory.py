"""Benchmark peak memory on one huge article (~50 MB of text).

Not a test: numbers depend on the machine and the Python build. Generates
(once, cached under build/bench/) a corpus folder holding ONE synthetic .txt
article of about --mb MB (a title, then many paragraphs with blank lines
between, from the synthetic corpus's seeded sentence generator), then:

- runs the real `analysis build --jobs 1` on it in a subprocess and reports
  the peak resident memory of the whole run;
- reruns each stage alone (build, coding, linking; force=True on the
  outputs of that run), each in a fresh interpreter, so each peak is its own;
- reports the resident memory of just importing the modules, the floor.

Peaks are ru_maxrss, in MB and as a multiple of the article's size.

    make bench                        # part of it
    python benchmarks/bench_memory.py --mb 10
"""

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IMPORTS = textwrap.dedent("""
    import json, resource
    import analysis.cli, analysis.workflow
    print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")

WHOLE = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "build", "--corpus", sys.argv[2], "--processed", sys.argv[3],
                    "--jobs", "1", "--force"], check=True, stdout=subprocess.DEVNULL)
    print(json.dumps({"seconds": time.perf_counter() - t,
                      "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
""")

GENERATE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from bench_memory import write_article
    print(json.dumps(write_article(Path(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))))
""")

STAGE = textwrap.dedent("""
    import json, resource, sys, time
    stage, corpus, out = sys.argv[1:4]
    if stage == "build":
        from analysis.corpus.build import build
        run = lambda: build(corpus, out, jobs=1, force=True)
    elif stage == "coding":
        from analysis.coding.codebook import load_codebook
        from analysis.coding.stage import code_corpus
        book = load_codebook()
        run = lambda: code_corpus(out, book, force=True, jobs=1)
    else:
        from analysis.cases.stage import link_corpus
        from analysis.cases.registry import load_registry
        from analysis.coding.codebook import load_codebook
        book, registry = load_codebook(), load_registry()
        run = lambda: link_corpus(out, registry, book, force=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    run()
    print(json.dumps({"seconds": time.perf_counter() - t, "before_mb": before,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def write_article(folder: Path, mb: float, seed: int) -> dict:
    """One article of about ``mb`` MB and its manifest in ``folder``."""
    from analysis.corpus.synthetic import _sentence

    rng = random.Random(seed)
    target = int(mb * 1e6)
    parts = [f"[SYNTHETIC] One very long article (seed {seed})", ""]
    size = 0
    while size < target:
        para = " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
        parts += [para, ""]
        size += len(para) + 2
    data = "\n".join(parts).encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "huge.txt").write_bytes(data)
    (folder / "manifest.csv").write_text(
        "doc_id,file,sha256,outlet,kind,notes\n"
        f"huge,huge.txt,{hashlib.sha256(data).hexdigest()},SYNTHETIC,synthetic,"
        f"synthetic benchmark article (seed {seed}); not research data\n", encoding="utf-8")
    return {"bytes": len(data), "paragraphs": (len(parts) - 2) // 2}


def run_json(args) -> dict:
    return json.loads(subprocess.run([sys.executable, "-c", *map(str, args)],
                                     capture_output=True, text=True, check=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stages", nargs="*", default=["build", "coding", "linking"],
                    help="stages to rerun alone (none: the whole run only)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    args = ap.parse_args()

    corpus = args.work / f"one-article-{args.mb:g}mb-seed{args.seed}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        t = time.perf_counter()
        # in a child process: a child's ru_maxrss starts from its parent's peak
        # (fork copies it), so a parent that built the article would floor them all
        info = run_json([GENERATE, Path(__file__).parent, corpus, args.mb, args.seed])
        (corpus / ".complete").write_text(json.dumps(info))
        print(f"generated one article of {info['bytes'] / 1e6:.1f} MB "
              f"({info['paragraphs']:,} paragraphs) in {time.perf_counter() - t:.1f} s "
              f"-> {corpus}", flush=True)
    info = json.loads((corpus / ".complete").read_text())
    size_mb = info["bytes"] / 2**20
    out = args.work / f"out-one-article-{args.mb:g}mb"
    analysis = Path(sys.executable).with_name("analysis")

    rows = [("import the modules (floor)", None, run_json([IMPORTS])["rss_mb"])]
    r = run_json([WHOLE, analysis, corpus, out])
    rows.append(("analysis build --jobs 1 (whole run)", r["seconds"], r["rss_mb"]))
    for stage in args.stages:
        r = run_json([STAGE, stage, corpus, out])
        rows.append((f"{stage} stage alone", r["seconds"], r["rss_mb"]))

    print(f"\none article of {info['bytes'] / 1e6:.1f} MB ({info['paragraphs']:,} paragraphs; "
          f"seed {args.seed}; Python {sys.version.split()[0]})")
    print(f"{'run':<38}{'seconds':>9}{'peak MB':>10}{'x article':>11}")
    for name, secs, rss in rows:
        print(f"{name:<38}{'' if secs is None else f'{secs:.1f}':>9}{rss:>10.0f}"
              f"{rss / size_mb:>11.1f}")


if __name__ == "__main__":
    main()
