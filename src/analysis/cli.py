"""The ``analysis`` command line.

Bad input ends the run with exit status 2 and a message naming the file, the
line or field, and the fix; nothing is written in that case.
"""

import argparse
import csv
import io
import shutil
import sys
from pathlib import Path

from . import __version__, paths
from .errors import InputError
from .fileio import sha256_file, shown, write_bytes_atomic
from .manifest import (COLUMNS, DOC_ID_RE, METADATA, check_metadata, read_manifest)


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args) or 0
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _parser():
    p = argparse.ArgumentParser(prog="analysis", description=(
        "Clean, code and report on a corpus of articles on China's #MeToo movement."))
    p.add_argument("--version", action="version", version=f"analysis {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")

    def corpus_opts(sp, out=True):
        sp.add_argument("--corpus", type=Path, default=paths.RAW,
                        help="corpus folder with manifest.csv (default: data/raw)")
        if out:
            sp.add_argument("--out", type=Path, default=paths.PROCESSED,
                            help="output folder (default: data/processed)")

    b = sub.add_parser("build", help="run the corpus pipeline: read, check, clean, segment")
    corpus_opts(b)
    b.add_argument("--rules", type=Path, default=None,
                   help="cleaning rules (default: the packaged instruments/cleaning.yaml)")
    b.add_argument("--jobs", type=int, default=None,
                   help="worker processes (default: up to 2; used when there is more than "
                        "one chunk of work)")
    b.add_argument("--codebook", type=Path, default=None,
                   help="codebook (default: the packaged instruments/codebook.yaml)")
    b.add_argument("--cases", type=Path, default=None,
                   help="case registry (default: the packaged instruments/cases.yaml)")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    b.set_defaults(func=_build_command)

    r = sub.add_parser("report", help="run the pipeline and the notebooks; write the report")
    r.add_argument("--corpus", type=Path, default=paths.RAW,
                   help="corpus folder with manifest.csv (default: data/raw)")
    r.add_argument("--processed", type=Path, default=paths.PROCESSED,
                   help="folder for the processed tables (default: data/processed)")
    r.add_argument("--out", type=Path, default=paths.REPORTS,
                   help="report folder (default: reports)")
    r.add_argument("--coding", type=Path, default=None,
                   help="folder of manual coding sheets for the validation notebook (default: "
                   "data/coding with the default corpus, none with another --corpus)")
    r.add_argument("--notebooks", type=Path, default=paths.NOTEBOOKS,
                   help="folder of NN_*.ipynb notebooks (default: notebooks)")
    r.add_argument("--parameters", type=Path, default=None,
                   help="notebook parameters (default: notebooks/parameters.yaml)")
    r.add_argument("--codebook", type=Path, default=None,
                   help="codebook (default: the packaged instruments/codebook.yaml)")
    r.add_argument("--cases", type=Path, default=None,
                   help="case registry (default: the packaged instruments/cases.yaml)")
    r.add_argument("--jobs", type=int, default=None, help="worker processes for the pipeline")
    r.add_argument("--force", action="store_true",
                   help="rerun every stage and notebook even when nothing changed")
    r.set_defaults(func=_report, rules=None)

    k = sub.add_parser("kwic", help="show a code's evidence in context (key words in context)")
    k.add_argument("code", help="a code id, e.g. backlash.state_delegitimization")
    k.add_argument("--out", type=Path, default=paths.PROCESSED,
                   help="processed folder (default: data/processed)")
    k.add_argument("--width", type=int, default=60, help="characters of context either side")
    k.set_defaults(func=_kwic)

    m = sub.add_parser("methods", help="print the methods text generated from the codebook")
    m.add_argument("--codebook", type=Path, default=None)
    m.set_defaults(func=_methods)

    def sheet_opts(sp):
        sp.add_argument("--coders", type=Path, default=paths.CODERS,
                        help="registered coders (default: data/coding/coders.csv)")
        sp.add_argument("--processed", type=Path, default=paths.PROCESSED,
                        help="processed tables (default: data/processed)")

    sh = sub.add_parser("sheet", help="write a blank manual coding sheet for a sample of units")
    sh.add_argument("--coder", required=True, help="the coder's id (registered in --coders)")
    sh.add_argument("--out", type=Path, required=True,
                    help="the sheet to write, e.g. data/coding/paragraphs_alice.csv")
    sh.add_argument("--unit", choices=("paragraph", "document"), default="paragraph")
    sh.add_argument("--n", type=int, default=20, help="units to draw (default 20)")
    sh.add_argument("--seed", type=int, default=20261122, help="seed of the draw")
    sh.add_argument("--stratify", default=None,
                    help="a documents column to stratify the draw by, e.g. outlet")
    sheet_opts(sh)
    sh.set_defaults(func=_sheet)

    ag = sub.add_parser("agreement", help="check coding sheets; Krippendorff's alpha per code")
    ag.add_argument("sheets", type=Path, nargs="*",
                    help="sheets (default: every *.csv in data/coding except coders.csv)")
    sheet_opts(ag)
    ag.set_defaults(func=_agreement)

    a = sub.add_parser("add", help="copy an article into the corpus and record it")
    a.add_argument("file", type=Path, help="the article file (.txt, .html, .jsonl or .csv)")
    corpus_opts(a, out=False)
    a.add_argument("--doc-id", help="id for the article (default: NNN_<first 16 hex of sha256>)")
    for key in METADATA:
        a.add_argument(f"--{key.replace('_', '-')}", dest=key, default="",
                       help=_META_HELP.get(key))
    a.set_defaults(func=_add)

    c = sub.add_parser("checksums", help="record missing sha256 values in the manifest")
    corpus_opts(c, out=False)
    c.set_defaults(func=_checksums)

    s = sub.add_parser("synth", help="write a synthetic corpus for benchmarks (never research)")
    s.add_argument("--out", type=Path, required=True, help="folder to create")
    s.add_argument("--n", type=int, default=100_000, help="number of articles")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--format", choices=("txt", "jsonl"), default="txt")
    s.set_defaults(func=_synth)

    c = sub.add_parser("citation", help="check CITATION.cff and write .zenodo.json from it")
    c.add_argument("--root", type=Path, default=paths.ROOT, help=argparse.SUPPRESS)
    c.set_defaults(func=_citation)

    rl = sub.add_parser("release", help="rebuild from scratch, write the release manifest and "
                        "a deterministic archive in dist/, tag the commit")
    rl.add_argument("--root", type=Path, default=paths.ROOT,
                    help="the checkout to release (default: this repository)")
    rl.set_defaults(func=_release)

    v = sub.add_parser("verify", help="rebuild a release and compare every output with its "
                       "manifest")
    v.add_argument("release", type=Path, help="a release archive (.tar.gz) or folder")
    v.add_argument("--current-env", action="store_true",
                   help="rebuild with this environment instead of a fresh one made from the "
                   "release's lock files (faster; checks the code and data, not the pins)")
    v.add_argument("--python", default=None,
                   help="interpreter for the fresh environment (default: this one)")
    v.set_defaults(func=_verify)
    return p


_META_HELP = {
    "published": "YYYY, YYYY-MM or YYYY-MM-DD",
    "date_basis": "stated, address or inferred",
    "language": "language tag, e.g. en or zh",
}


def _build_command(args):
    _build(args)
    return 0


def _build(args):
    """Run the pipeline stages; returns the codebook they used."""
    from .pipeline import build

    last = [0]

    def progress(done, total):
        # large corpora only, and at most every 5%
        if total >= 2000 and (done - last[0] >= total / 20 or done == total):
            last[0] = done
            print(f"  {done:,}/{total:,} manifest rows", file=sys.stderr, flush=True)

    from .coding import code_corpus
    from .codebook import load_codebook

    from .cases import link_corpus, load_registry

    # bad instruments refuse before anything is written; a codebook the
    # coding stage already accepted under this code needs no second check
    book = load_codebook(args.codebook, known_good=_accepted_codebooks(args.out))
    registry = load_registry(args.cases)
    res = build(args.corpus, args.out, args.rules, args.jobs, args.force, progress)
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if res.up_to_date:
        print(f"{shown(res.out_dir)} is up to date: inputs, rules, code and packages are "
              "unchanged; nothing was written.")
    else:
        _say_built(args, res)
    coded = code_corpus(args.out, book, args.force, jobs=args.jobs)
    if coded.up_to_date:
        print(f"Coding is up to date (codebook {book.version}); nothing was written.")
    else:
        print(f"Coded with codebook {book.version}: {coded.counts['codes']} pieces of evidence, "
              f"{coded.counts['doc_codes']} document-code rows"
              + (f"; wrote {', '.join(coded.written)}" if coded.written else "")
              + (f"; unchanged: {', '.join(coded.unchanged)}" if coded.unchanged else "") + ".")
    linked = link_corpus(args.out, registry, book, args.force)
    if linked is None:
        print(f"Cases are up to date (registry {registry.version}); nothing was written.")
    else:
        written, unchanged, counts = linked
        print(f"Linked sentences to {len(registry.cases)} registered cases: "
              f"{counts['case_mentions']} mentions, {counts['case_events']} case events, "
              f"{counts['unlinked_events']} unlinked events"
              + (f"; wrote {', '.join(written)}" if written else "")
              + (f"; unchanged: {', '.join(unchanged)}" if unchanged else "") + ".")
        if counts["unlinked_events"]:
            print(f"Some outcome events name no registered case: see "
                  f"{shown(args.out / 'unlinked_events.parquet')} and register their cases in "
                  "src/analysis/instruments/cases.yaml.")
    return book


def _accepted_codebooks(processed: Path) -> tuple:
    import json

    from .coding import STAMP
    from .pipeline import code_fingerprint

    try:
        key = json.loads((processed / STAMP).read_text(encoding="utf-8"))["key"]
    except (OSError, ValueError, KeyError):
        return ()
    return (key.get("codebook_sha256"),) if key.get("code_sha256") == code_fingerprint(
        "coding") else ()


def _say_built(args, res):
    c = res.counts
    print(f"Read {c['manifest_rows']} manifest row(s) from {shown(args.corpus)}: "
          f"{c['documents']} document(s), {c['quarantined']} set aside"
          + (f" ({', '.join(f'{k}: {v}' for k, v in c['quarantine_reasons'].items())})"
             if c["quarantined"] else "") + ".")
    print("Line roles: " + ", ".join(f"{k} {v}" for k, v in c["line_roles"].items()) + ".")
    if res.written:
        print(f"Wrote {', '.join(res.written)} in {shown(res.out_dir)}"
              + (f"; unchanged: {', '.join(res.unchanged)}." if res.unchanged else "."))
    else:
        print(f"All outputs in {shown(res.out_dir)} were already identical; nothing rewritten.")
    if c["quarantined"]:
        print(f"See {shown(res.out_dir / 'quarantine.parquet')} for what was set aside and why.")


def _report(args):
    from .report import NotebookFailed, run_report

    if args.coding is not None and not args.coding.is_dir():
        raise InputError(f"--coding: {args.coding} is not a folder; give the folder that holds "
                         "the coding sheets and coders.csv.")
    book = _build(argparse.Namespace(**{**vars(args), "out": args.processed}))
    params = args.parameters or (args.notebooks / "parameters.yaml")
    # the project's sheets code the project's corpus; another corpus brings its own
    coding = args.coding or (paths.CODING if args.corpus.resolve() == paths.RAW.resolve()
                             else None)
    try:
        res = run_report(args.processed, args.out, args.notebooks, params, args.corpus, book,
                         args.force, progress=lambda m: print(m, flush=True),
                         coding_dir=coding)
    except NotebookFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if res.ran:
        print(f"Ran {len(res.ran)} notebook(s): {', '.join(res.ran)}"
              + (f"; up to date: {', '.join(res.current)}" if res.current else "") + ".")
    else:
        print(f"No notebook was stale ({len(res.current)} checked); none ran.")
    changed = res.written + [f"{f} (removed)" for f in res.removed]
    print(f"{shown(args.out)}: " + (f"{len(changed)} file(s) changed." if changed else
                                    "nothing changed.")
          + f" Open {shown(args.out / 'index.html')} in a browser.")
    return 0


def _kwic(args):
    import pandas as pd

    from .coding import kwic
    from .codebook import load_codebook
    from .pipeline import read_table

    book = load_codebook()
    if args.code not in book.ids:
        raise InputError(f"{args.code!r} is not a code id of codebook {book.version}; the ids "
                         f"are listed by `analysis methods`.")
    if not (args.out / "codes.parquet").exists():
        raise InputError(f"{args.out}: no codes.parquet; run `analysis build` first.")
    table = kwic(read_table("codes", args.out), read_table("segments", args.out), args.code,
                 args.width)
    with pd.option_context("display.max_rows", None, "display.max_colwidth", args.width + 5,
                           "display.width", 4 * args.width):
        print(f"{args.code}: {len(table)} piece(s) of evidence")
        if len(table):
            print(table[["doc_id", "segment_id", "left", "evidence", "right"]].to_string(
                index=False))
    return 0


def _methods(args):
    from .coding import methods_markdown
    from .codebook import load_codebook

    print(methods_markdown(load_codebook(args.codebook)), end="")
    return 0


def _sheet_inputs(processed: Path):
    from .pipeline import read_table

    if not (processed / "code_labels.parquet").is_file():
        raise InputError(f"{processed}: no processed corpus with codes here; run `make report` "
                         "(or `analysis build`) first.")
    return (read_table("documents", processed), read_table("segments", processed),
            read_table("code_labels", processed))


def _sheet(args):
    from .reliability import blank_sheet, read_coders, sample_units, sheet_codes

    coders = read_coders(args.coders)
    if args.coder not in coders:
        raise InputError(f"--coder: {args.coder!r} is not registered in {args.coders}; add a "
                         "row `coder,description` for them first.")
    if args.out.exists():
        raise InputError(f"{args.out} already exists and may hold codes; choose another name.")
    documents, segments, labels = _sheet_inputs(args.processed)
    units = sample_units(documents, segments, args.unit, args.n, args.seed, args.stratify)
    sheet = blank_sheet(units, sheet_codes(labels), args.coder)
    write_bytes_atomic(args.out, sheet.to_csv(index=False, lineterminator="\n").encode())
    print(f"Wrote {shown(args.out)}: {len(units)} {args.unit}(s) x "
          f"{sheet['code'].nunique()} codes for {args.coder} (seed {args.seed}"
          + (f", stratified by {args.stratify}" if args.stratify else "") + "). Fill the value "
          "column with 1 or 0 from the codebook's definitions (`analysis methods`).")
    return 0


def _agreement(args):
    import pandas as pd

    from .reliability import alpha_table, read_coders, read_sheets

    sheets = args.sheets or sorted(p for p in paths.CODING.glob("*.csv")
                                   if p.name != paths.CODERS.name)
    if not sheets:
        raise InputError(f"{paths.CODING}: no coding sheets yet; write one with "
                         "`analysis sheet --coder ID --out FILE`.")
    documents, segments, labels = _sheet_inputs(args.processed)
    codes = labels.loc[labels["family"] != "outcome", "code"].tolist()
    coded = read_sheets(sheets, codes, documents, segments, read_coders(args.coders))
    table = alpha_table(coded)
    print(f"{len(coded)} coded value(s) from {len(sheets)} sheet(s), "
          f"{coded['coder'].nunique()} coder(s).")
    with pd.option_context("display.max_rows", None, "display.width", 120):
        print(table.to_string(index=False, na_rep="-", float_format="{:.3f}".format))
    return 0


def _add(args):
    src = args.file
    corpus = args.corpus
    if not src.is_file():
        raise InputError(f"{src}: no such file; give the path of the article to add.")
    manifest = corpus / "manifest.csv"
    entries = read_manifest(corpus) if manifest.exists() else []
    sha = sha256_file(src)
    meta = {k: getattr(args, k).strip() for k in METADATA}
    problems = [f"--{f.replace('_', '-')}: {m}." for f, m in check_metadata(meta)]
    for e in entries:
        if (e.sha256 or sha256_file(corpus / e.file)) == sha:
            problems.append(f"{src}: the corpus already holds this article as {e.doc_id!r} "
                            f"({e.file}, manifest line {e.line}); nothing added.")
    doc_id = args.doc_id or f"{len(entries):03d}_{sha[:16]}"
    if not DOC_ID_RE.fullmatch(doc_id):
        problems.append(f"--doc-id: {doc_id!r} is not a valid id; use letters, digits, '_', "
                        "'.' or '-', starting with a letter or digit.")
    if any(e.doc_id == doc_id for e in entries):
        problems.append(f"--doc-id: {doc_id!r} is already in {manifest}; choose another id.")
    inside = src.resolve().parent == corpus.resolve()
    name = src.name if inside else f"{doc_id}{src.suffix.lower()}"
    dest = corpus / name
    if not inside and dest.exists():
        problems.append(f"{dest} already exists; choose another --doc-id.")
    if problems:
        raise InputError(problems)
    corpus.mkdir(parents=True, exist_ok=True)
    if not inside:
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dest)
    row = {"doc_id": doc_id, "file": name, "sha256": sha, **meta}
    _append_manifest(manifest, row)
    print(f"Added {src} as {doc_id!r} ({dest}, sha256 {sha[:12]}...).")
    return 0


def _read_rows(manifest: Path):
    text = manifest.read_bytes().decode("utf-8-sig") if manifest.exists() else ""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip() for h in rows[0]] if rows else ["doc_id", "file", "sha256"]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    return header, [dict(zip(header, r)) for r in body]


def _write_rows(manifest: Path, header, rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    write_bytes_atomic(manifest, out.getvalue().encode("utf-8"))


def _append_manifest(manifest: Path, row: dict):
    """Append a row, widening the header with any column the row fills."""
    header, rows = _read_rows(manifest)
    header += [c for c in COLUMNS if row.get(c) and c not in header]
    _write_rows(manifest, header, rows + [row])


def _checksums(args):
    entries = read_manifest(args.corpus)
    manifest = args.corpus / "manifest.csv"
    header, rows = _read_rows(manifest)
    if "sha256" not in header:
        header.append("sha256")
    filled = 0
    for e, r in zip(entries, rows):
        if not r.get("sha256"):
            r["sha256"] = sha256_file(args.corpus / e.file)
            filled += 1
    if filled:
        _write_rows(manifest, header, rows)
    print(f"Recorded {filled} checksum(s) in {manifest}; existing ones were left as they were.")
    return 0


def _synth(args):
    from .synthetic import write_corpus

    out = args.out.resolve()
    if out == paths.RAW or paths.RAW in out.parents or (out / "manifest.csv").exists():
        raise InputError(f"{args.out}: synthetic articles never go into a research corpus "
                         "(data/raw, or a folder that has a manifest.csv); choose a new folder, "
                         "e.g. build/synthetic.")
    info = write_corpus(args.out, args.n, args.seed, args.format)
    print(f"Wrote {info['articles']:,} synthetic articles ({info['bytes'] / 1e6:.1f} MB) "
          f"to {args.out}.")
    return 0


def _citation(args):
    from .release import ZENODO, read_citation, zenodo_json

    read_citation(args.root)
    changed = write_bytes_atomic(args.root / ZENODO, zenodo_json(args.root).encode("utf-8"))
    print(f"CITATION.cff is valid CFF 1.2.0; {ZENODO} "
          + ("written." if changed else "already matches it."))
    return 0


def _release(args):
    from .release import make_release

    make_release(args.root, say=lambda m: print(m, flush=True))
    return 0


def _verify(args):
    from .release import verify

    return 1 if verify(args.release, fresh=not args.current_env,
                       say=lambda m: print(m, flush=True), python=args.python) else 0


if __name__ == "__main__":
    sys.exit(main())
