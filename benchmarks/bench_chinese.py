"""Benchmark the dictionary coder on Chinese text beside ripgrep.

Not a test. Generates synthetic Chinese paragraphs (seeded; short phrases
written for this benchmark, clearly not research data), in simplified
characters and the same paragraphs in traditional characters (OpenCC s2t),
then measures, each in a fresh interpreter:

- the coder on the paragraphs (coding.coder.code_rows: fold traditional to
  simplified, scan, guards, context, evidence offsets), 1 process;
- the Hyperscan scan alone over the same bytes;
- ripgrep (Debian package ripgrep) counting every indicator expression over
  the same simplified text, one paragraph per line, with the scanner's ASCII
  character classes.

    python benchmarks/bench_chinese.py [--n 100000]
"""

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_ACTORS = ["当事女生", "涉事经理", "法院", "检察院", "警方", "官方媒体", "学校", "网友", "公司",
           "活动人士", "前实习生", "电视台主持人", "她的律师", "地铁运营方"]
_ACTS = ["以名誉权纠纷为由起诉了", "否认了对", "向", "驳回了", "开除了", "拘留了", "声援了",
         "批评了", "质疑了", "删除了支持", "赔偿了", "判决支持了", "称境外势力操纵了"]
_OBJECTS = ["那名员工", "两名女子", "那位学生", "指控者的支持者", "那位记者", "农民工",
            "十名转发内部信的员工", "原告", "被告", "倡导团体"]
_TAILS = ["，此事在网上引发争议", "，随后发布了声明", "，理由是证据不足", "，相关话题遭到屏蔽",
          "，她表示将提起上诉", "，不少网友对她进行网暴", "，双方最终达成和解", "，并没有回应",
          "，此前她在微博发文", "，律师称将继续维权"]

CODE = textwrap.dedent("""
    import json, sys, time
    import pyarrow as pa
    from analysis.coding.codebook import load_codebook
    from analysis.coding.coder import code_rows
    texts = open(sys.argv[1], encoding="utf-8").read().split("\\n")[:-1]
    n = len(texts)
    table = pa.table({"doc_id": [f"d{i // 10}" for i in range(n)],
                      "segment_id": [f"p{i % 10 + 1}" for i in range(n)],
                      "unit": ["paragraph"] * n, "role": ["body"] * n,
                      "text": texts, "raw": texts, "start": [0] * n})
    book = load_codebook()
    code_rows(table.slice(0, 100), book)  # compile and warm up
    t = time.perf_counter()
    codes, tally = code_rows(table, book)
    print(json.dumps({"seconds": time.perf_counter() - t, "codes": codes.num_rows}))
""")

SCAN = textwrap.dedent("""
    import json, sys, time
    from analysis.coding.codebook import load_codebook
    from analysis.coding.engine import matcher
    from analysis.core.text import join_utf8
    m = matcher(load_codebook())
    texts = open(sys.argv[1], encoding="utf-8").read().split("\\n")[:-1]
    t = time.perf_counter()
    data, _ = join_utf8(texts)
    fold = time.perf_counter() - t
    t = time.perf_counter()
    hits = len(m.scan(data))
    print(json.dumps({"seconds": time.perf_counter() - t, "fold_seconds": fold, "matches": hits}))
""")


def paragraphs(n: int, seed: int) -> list:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(2, 4)
        out.append("".join(f"{rng.choice(_ACTORS)}{rng.choice(_ACTS)}{rng.choice(_OBJECTS)}"
                           f"{rng.choice(_TAILS)}。" for _ in range(k)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    args = ap.parse_args()
    py = sys.executable
    args.work.mkdir(parents=True, exist_ok=True)

    import opencc

    simplified = paragraphs(args.n, args.seed)
    s2t = opencc.OpenCC("s2t").convert
    traditional = [s2t(p) for p in simplified]
    files = {}
    for name, texts in (("simplified", simplified), ("traditional", traditional)):
        files[name] = args.work / f"chinese-{name}.txt"
        files[name].write_text("\n".join(texts) + "\n", encoding="utf-8")
    size = files["simplified"].stat().st_size

    from analysis.coding.codebook import load_codebook

    book = load_codebook()
    # The scanner's \b \w \s \d are ASCII (Hyperscan without Unicode
    # properties), so ripgrep gets the same classes: with Unicode ones it took
    # 540 s on this text (Unicode word boundaries keep it off its fast engines).
    ascii_classes = re.compile(r"\\([bwsd])")
    patterns = args.work / "patterns-ascii-classes.txt"
    patterns.write_text("\n".join(ascii_classes.sub(r"(?-u:\\\1)", e)
                                  for ind in book.indicators for e in ind.expressions) + "\n")

    def run(script, path):
        return json.loads(subprocess.run([py, "-c", script, path], capture_output=True,
                                         text=True, check=True).stdout)

    coder = {name: run(CODE, path) for name, path in files.items()}
    scan = run(SCAN, files["simplified"])
    rows = [("coder, simplified (code_rows, 1 process)", coder["simplified"]["seconds"]),
            ("coder, traditional (folded first)", coder["traditional"]["seconds"]),
            ("Hyperscan scan alone, simplified", scan["seconds"])]
    rg = shutil.which("rg")
    if rg:
        t = time.perf_counter()
        subprocess.run([rg, "--count-matches", "-i", "--no-filename", "-f", patterns,
                        files["simplified"]], capture_output=True, text=True)
        rows.append(("ripgrep --count-matches -i (yardstick)", time.perf_counter() - t))
    else:
        print("ripgrep not found: install it (apt-get install ripgrep) for the yardstick.")

    print(f"\n{args.n:,} synthetic Chinese paragraphs, {size / 1e6:.1f} MB (simplified, UTF-8); "
          f"codebook {book.version}, {len(book.indicators)} indicators")
    print(f"{'stage':<44}{'seconds':>9}{'MB/s':>9}")
    for name, secs in rows:
        print(f"{name:<44}{secs:>9.2f}{size / 1e6 / secs:>9.1f}")
    print(f"folding the buffer (join_utf8) of simplified text: {scan['fold_seconds']:.2f} s; "
          f"evidence rows: {coder['simplified']['codes']:,} simplified, "
          f"{coder['traditional']['codes']:,} traditional (equal when folding loses nothing)")
    if rg:
        print(f"coder / ripgrep time: {rows[0][1] / rows[-1][1]:.1f}x; "
              f"scan / ripgrep: {rows[2][1] / rows[-1][1]:.2f}x")


if __name__ == "__main__":
    main()
