"""The ``analysis`` command line.

Bad input ends the run with exit status 2 and a message naming the file, the
line or field, and the fix; nothing is written in that case.
"""

import argparse
import errno
import sys
from pathlib import Path

import pandas as pd

from . import __version__
from .coding.codebook import load_codebook
from .coding.kwic import kwic
from .coding.methods import methods_markdown
from .core import paths
from .core.errors import InputError
from .core.fileio import csv_bytes, shown, write_bytes_atomic
from .core.parallel import use_dask
from .core.parquet import read_table
from .corpus.manifest import METADATA, add_article, record_checksums
from .corpus.synthetic import write_corpus
from .release.archive import make_release, verify
from .release.citation import placeholders, read_citation
from .report.execution import NotebookFailed
from .validation.agreement import alpha_table
from .validation.event_sheets import (EVENTS_DIR, NONE, blank_event_sheet, is_event_sheet,
                                      presence, read_event_sheets, side_alpha)
from .validation.sheets import (EVALUATION, blank_sheet, coding_sets, read_coders, read_sheets,
                                sample_units, sheet_codes, sheet_documents)
from .workflow import run_all, run_pipeline


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
    except OSError as e:
        print(f"error: {os_error_message(e)}", file=sys.stderr)
        return 3


ALLOW_EMPTY = ("let a corpus with no usable document replace outputs that have some "
               "(refused otherwise)")
DASK = ("run the heavy stages on the Dask scheduler at ADDRESS (tcp://host:8786), or on a "
        "local Dask cluster with `local`; the outputs are the same bytes as without it")

# what to do about an OS error, by its errno
_OS_FIXES = {
    errno.EACCES: "the run may not write or read there: fix the permissions, or choose "
                  "another folder (--out, --processed)",
    errno.EROFS: "the filesystem is read-only: choose another folder (--out, --processed)",
    errno.ENOSPC: "the disk is full: free some space (a run needs room for a second copy "
                  "of its outputs while it writes them) and run again",
    errno.EDQUOT: "your disk quota is used up: free some space and run again",
    errno.ENOTDIR: "a file stands where a folder is needed: move it, or choose another "
                   "folder",
    errno.EEXIST: "a file stands where a folder is needed: move it, or choose another "
                  "folder",
    errno.EISDIR: "a folder stands where a file is needed: move it, or choose another path",
    errno.ENOENT: "it disappeared during the run (moved or deleted by another program?): "
                  "restore it and run again",
}


def os_error_message(e: OSError) -> str:
    """An OS error as the path, what went wrong and the fix."""
    where = e.filename if e.filename is not None else "(no path)"
    fix = _OS_FIXES.get(e.errno, "check the path and run again")
    return (f"{where}: {e.strerror or e}; {fix}. No output was half-written: each is written "
            "in full beside its place before it is moved in.")


def _parser():
    p = argparse.ArgumentParser(prog="analysis", description=(
        "Clean, code and report on a corpus of articles on China's #MeToo movement."))
    p.add_argument("--version", action="version", version=f"analysis {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")

    def command(name, help_text, description, *examples):
        """A subcommand whose --help says what it does and shows examples."""
        return sub.add_parser(name, help=help_text, description=description,
                              epilog="examples:\n" + "\n".join(f"  {e}" for e in examples),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    def processed_opt(sp):  # one name, one meaning, one help text
        sp.add_argument("--processed", type=Path, default=paths.PROCESSED,
                        help="folder of the processed tables (default: data/processed)")

    def corpus_opts(sp, out=True):
        sp.add_argument("--corpus", type=Path, default=paths.RAW,
                        help="corpus folder with manifest.csv (default: data/raw)")
        if out:
            processed_opt(sp)

    b = command("build", "run the pipeline: read, clean, segment, code, link cases",
                "Read the corpus (manifest.csv and its files), set aside what cannot be used "
                "(quarantine.parquet), clean and segment the articles, code them with the "
                "codebook and link them to the registered cases, into Parquet tables. Only "
                "stale stages run.",
                "analysis build",
                "analysis build --corpus my_corpus/ --processed my_processed/ --jobs 4",
                "analysis build --corpus my_corpus/ --dask tcp://scheduler:8786")
    corpus_opts(b)
    b.add_argument("--rules", type=Path, default=None,
                   help="cleaning rules (default: the packaged instruments/cleaning.yaml)")
    b.add_argument("--jobs", type=int, default=None,
                   help="worker processes (default: every core; used when there is more than "
                        "one chunk of work)")
    b.add_argument("--dask", metavar="ADDRESS", default=None, help=DASK)
    b.add_argument("--codebook", type=Path, default=None,
                   help="codebook (default: the packaged instruments/codebook.yaml)")
    b.add_argument("--cases", type=Path, default=None,
                   help="case registry (default: the packaged instruments/cases.yaml)")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    b.add_argument("--allow-empty", action="store_true", help=ALLOW_EMPTY)
    b.set_defaults(func=_build)

    r = command("report", "run the pipeline and the notebooks; write the report",
                "Build the processed tables when stale, run the notebooks that are stale in a "
                "Jupyter kernel with papermill, and write the report (index.html, figures, "
                "tables, executed notebooks, provenance.json). `make report` runs this.",
                "analysis report",
                "analysis report --parameters my_parameters.yaml --out my_report/",
                "analysis report --corpus my_corpus/ --processed my_processed/ "
                "--out my_report/ --coding my_coding/")
    r.add_argument("--corpus", type=Path, default=paths.RAW,
                   help="corpus folder with manifest.csv (default: data/raw)")
    processed_opt(r)
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
    r.add_argument("--jobs", type=int, default=None,
                   help="worker processes for the pipeline (default: every core)")
    r.add_argument("--dask", metavar="ADDRESS", default=None, help=DASK)
    r.add_argument("--force", action="store_true",
                   help="rerun every stage and notebook even when nothing changed")
    r.add_argument("--allow-empty", action="store_true", help=ALLOW_EMPTY)
    r.set_defaults(func=_report)

    k = command("kwic", "show a code's evidence in context (key words in context)",
                "Print every piece of evidence the coder found for one code, with the words "
                "around it, to read what a code measures.",
                "analysis kwic backlash.state_delegitimization",
                "analysis kwic frame.conflict --width 100 --processed my_processed/")
    k.add_argument("code", help="a code id, e.g. backlash.state_delegitimization")
    processed_opt(k)
    k.add_argument("--width", type=int, default=60, help="characters of context either side")
    k.set_defaults(func=_kwic)

    m = command("methods", "print the methods text generated from the codebook",
                "Print, as Markdown, the coding scheme the report's methods section shows: "
                "every code with its definition, indicators in each language and examples.",
                "analysis methods", "analysis methods --codebook my_codebook.yaml > methods.md")
    m.add_argument("--codebook", type=Path, default=None)
    m.set_defaults(func=_methods)

    def sheet_opts(sp):
        sp.add_argument("--coders", type=Path, default=paths.CODERS,
                        help="registered coders (default: data/coding/coders.csv)")
        processed_opt(sp)

    sh = command("sheet", "write a blank manual coding sheet for a sample of units",
                 "Draw paragraphs (or documents) with a fixed seed and write a sheet for a "
                 "coder to fill in from the codebook's definitions: codes (1/0 per code), or "
                 "with --events the outcome events (case, type, side, date). "
                 "data/coding/README.md has the format.",
                 "analysis sheet --coder coder_a --n 20 --stratify outlet "
                 "--out data/coding/paragraphs_coder_a.csv",
                 "analysis sheet --evaluation --coder coder_b --out "
                 "data/coding/evaluation/blind_b.csv",
                 "analysis sheet --events --coder coder_a --n 40 --out "
                 "data/coding/events/events_coder_a.csv")
    sh.add_argument("--coder", required=True, help="the coder's id (registered in --coders)")
    sh.add_argument("--out", type=Path, required=True,
                    help="the sheet to write, e.g. data/coding/paragraphs_alice.csv")
    sh.add_argument("--unit", choices=("paragraph", "document"), default="paragraph")
    sh.add_argument("--n", type=int, default=20, help="units to draw (default 20)")
    sh.add_argument("--seed", type=int, default=20261122, help="seed of the draw")
    sh.add_argument("--stratify", default=None,
                    help="a documents column to stratify the draw by, e.g. outlet")
    sh.add_argument("--events", action="store_true",
                    help="write an outcome-event sheet (case, event type, side, date per "
                    "paragraph) instead of a code sheet; --out must be in --coding's events/ "
                    "subfolder")
    sh.add_argument("--evaluation", action="store_true",
                    help="draw an evaluation sheet: only documents no development sheet in "
                    "--coding names (of the same kind); --out must be in the evaluation/ "
                    "subfolder")
    sh.add_argument("--coding", type=Path, default=paths.CODING,
                    help="coding folder whose development sheets --evaluation leaves out "
                    "(default: data/coding)")
    sheet_opts(sh)
    sh.set_defaults(func=_sheet)

    ag = command("agreement", "check coding sheets; Krippendorff's alpha per code",
                 "Check the manual coding sheets (every problem named by file, line and "
                 "column) and print Krippendorff's alpha (nominal) between the coders, per code "
                 "and per event type.",
                 "analysis agreement", "analysis agreement data/coding/paragraphs_coder_a.csv "
                 "data/coding/paragraphs_coder_b.csv")
    ag.add_argument("sheets", type=Path, nargs="*",
                    help="sheets, code or event sheets (default: every *.csv in data/coding "
                    "except coders.csv, in data/coding/evaluation, data/coding/events and "
                    "data/coding/events/evaluation)")
    sheet_opts(ag)
    ag.set_defaults(func=_agreement)

    a = command("add", "copy an article into the corpus and record it",
                "Copy one article file into the corpus folder and add its row to "
                "manifest.csv, with its checksum and the metadata given.",
                "analysis add article.html --outlet \"Sixth Tone\" --published 2021-09-14 "
                "--language en")
    a.add_argument("file", type=Path, help="the article file (.txt, .html, .jsonl or .csv)")
    corpus_opts(a, out=False)
    a.add_argument("--doc-id", help="id for the article (default: NNN_<first 16 hex of sha256>)")
    for key in METADATA:
        a.add_argument(f"--{key.replace('_', '-')}", dest=key, default="",
                       help=_META_HELP.get(key))
    a.set_defaults(func=_add)

    c = command("checksums", "record missing sha256 values in the manifest",
                "Fill in the sha256 column of manifest.csv where it is empty (a row with a "
                "checksum that no longer matches its file is refused by the build, never "
                "rewritten).",
                "analysis checksums", "analysis checksums --corpus my_corpus/")
    corpus_opts(c, out=False)
    c.set_defaults(func=_checksums)

    s = command("synth", "write a synthetic corpus for benchmarks (never research)",
                "Write a generated corpus of articles made of stock sentences, with its "
                "manifest, to time the pipeline at scale. Its text means nothing.",
                "analysis synth --out build/synthetic --n 100000",
                "analysis synth --out build/synthetic --n 1000 --format jsonl --seed 1")
    s.add_argument("--out", type=Path, required=True, help="the corpus folder to create")
    s.add_argument("--n", type=int, default=100_000, help="number of articles")
    s.add_argument("--seed", type=int, default=0, help="seed of the generator (default 0)")
    s.add_argument("--format", choices=("txt", "jsonl"), default="txt",
                   help="one file per article (txt) or one JSONL file (default: txt)")
    s.set_defaults(func=_synth)

    c = command("citation", "check CITATION.cff",
                "Check CITATION.cff against Citation File Format 1.2.0 and list the fields "
                "still holding a placeholder. It is the one citation file: GitHub shows it, "
                "and Zenodo takes a release's metadata from it.",
                "analysis citation")
    c.add_argument("--root", type=Path, default=paths.ROOT, help=argparse.SUPPRESS)
    c.set_defaults(func=_citation)

    rl = command("release", "rebuild from scratch, write the release manifest and a "
                 "deterministic archive in dist/, tag the commit",
                 "Refuse a dirty tree or an unfilled citation, rebuild the report from the "
                 "tracked files alone, write RELEASE_MANIFEST.json and a deterministic archive "
                 "in dist/, and tag the commit vX.Y.Z. `make release` runs this.",
                 "analysis release")
    rl.add_argument("--root", type=Path, default=paths.ROOT,
                    help="the checkout to release (default: this repository)")
    rl.set_defaults(func=_release)

    v = command("verify", "check a release against its manifest, then rebuild it and "
                "compare every output",
                "Check a release archive (or folder) file by file against its manifest, then "
                "rebuild it in a fresh environment made from its own locks and compare every "
                "output's checksum.",
                "analysis verify dist/china-metoo-news-0.1.0.tar.gz --sha256 HEX",
                "analysis verify dist/china-metoo-news-0.1.0.tar.gz --current-env")
    v.add_argument("release", type=Path, help="a release archive (.tar.gz) or folder")
    v.add_argument("--sha256", metavar="HEX", default=None,
                   help="the archive's published SHA-256, checked before it is unpacked")
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


def _say(message: str) -> None:
    print(message, flush=True)


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _build(args):
    use_dask(args.dask)
    run_pipeline(args.corpus, args.processed, args.rules, args.codebook, args.cases, args.jobs,
                 args.force, say=_say, warn=_warn, allow_empty=args.allow_empty)
    return 0


def _report(args):
    use_dask(args.dask)
    try:
        res = run_all(args.corpus, args.processed, args.out, args.notebooks, args.parameters,
                      args.coding, args.codebook, args.cases, args.jobs, args.force,
                      say=_say, warn=_warn, allow_empty=args.allow_empty)
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
    book = load_codebook()
    if args.code not in book.ids:
        raise InputError(f"{args.code!r} is not a code id of codebook {book.version}; the ids "
                         f"are listed by `analysis methods`.")
    if not (args.processed / "codes.parquet").exists():
        raise InputError(f"{args.processed}: no codes.parquet; run `analysis build` first.")
    table = kwic(read_table("codes", args.processed), read_table("segments", args.processed),
                 args.code, args.width)
    with pd.option_context("display.max_rows", None, "display.max_colwidth", args.width + 5,
                           "display.width", 4 * args.width):
        print(f"{args.code}: {len(table)} piece(s) of evidence")
        if len(table):
            print(table[["doc_id", "segment_id", "left", "evidence", "right"]].to_string(
                index=False))
    return 0


def _methods(args):
    print(methods_markdown(load_codebook(args.codebook)), end="")
    return 0


def _sheet_inputs(processed: Path):
    if not (processed / "code_labels.parquet").is_file():
        raise InputError(f"{processed}: no processed corpus with codes here; run `make report` "
                         "(or `analysis build`) first.")
    return (read_table("documents", processed), read_table("segments", processed),
            read_table("code_labels", processed))


def _sheet(args):
    coders = read_coders(args.coders)
    if args.coder not in coders:
        raise InputError(f"--coder: {args.coder!r} is not registered in {args.coders}; add a "
                         "row `coder,description` for them first.")
    if args.out.exists():
        raise InputError(f"{args.out} already exists and may hold codes; choose another name.")
    if args.events and args.unit != "paragraph":
        raise InputError("--unit: events are coded per body paragraph; leave --unit out with "
                         "--events.")
    folder = args.coding / EVENTS_DIR if args.events else args.coding
    where = folder / EVALUATION if args.evaluation else folder
    if args.events or args.evaluation:
        kind = (("an evaluation " if args.evaluation else "a development ")
                + ("event sheet" if args.events else "sheet"))
        if args.out.resolve().parent != where.resolve():
            raise InputError(f"--out: {kind} goes in {where}/ (e.g. {where / args.out.name}), "
                             f"where the report reads it as {kind}.")
    exclude = set()
    if args.evaluation:
        exclude = sheet_documents(coding_sets(folder, paths.CODERS.name).get("development", []))
    documents, segments, labels = _sheet_inputs(args.processed)
    units = sample_units(documents, segments, args.unit, args.n, args.seed, args.stratify,
                         exclude)
    drawn = (f"{len(units)} {args.unit}(s)", f"seed {args.seed}"
             + (f", stratified by {args.stratify}" if args.stratify else ""))
    if args.events:
        sheet = blank_event_sheet(units, args.coder)
        write_bytes_atomic(args.out, csv_bytes(sheet))
        print(f"Wrote {shown(args.out)}: an event sheet of {drawn[0]} for {args.coder} "
              f"({drawn[1]}). For each paragraph write its events (event, case_id, side, date; "
              f"one row per event, copying doc_id and segment_id) or {NONE} "
              "(data/coding/README.md).")
    else:
        sheet = blank_sheet(units, sheet_codes(labels), args.coder)
        write_bytes_atomic(args.out, csv_bytes(sheet))
        print(f"Wrote {shown(args.out)}: {drawn[0]} x {sheet['code'].nunique()} codes for "
              f"{args.coder} ({drawn[1]}). Fill the value column with 1 or 0 from the "
              "codebook's definitions (`analysis methods`).")
    if args.evaluation:
        kept = (~documents["doc_id"].isin(list(exclude))).sum()
        print(f"Evaluation units, drawn from the {kept} documents no development sheet names. "
              "Code them blind, without looking at the automated codes, and leave the codebook "
              f"(version {load_codebook().version}) and the case registry as they are until "
              "the report has measured them.")
    return 0


def _agreement(args):
    sheets = args.sheets or [p for folder in (paths.CODING, paths.CODING / EVENTS_DIR)
                             for files in coding_sets(folder, paths.CODERS.name).values()
                             for p in files]
    if not sheets:
        raise InputError(f"{paths.CODING}: no coding sheets yet; write one with "
                         "`analysis sheet --coder ID --out FILE`.")
    documents, segments, labels = _sheet_inputs(args.processed)
    coders = read_coders(args.coders)
    kinds = {True: [], False: []}
    for path in sheets:
        kinds[is_event_sheet(path)].append(path)
    def show():
        return pd.option_context("display.max_rows", None, "display.width", 120)

    if kinds[False]:
        codes = labels.loc[labels["family"] != "outcome", "code"].tolist()
        coded = read_sheets(kinds[False], codes, documents, segments, coders)
        print(f"{len(coded)} coded value(s) from {len(kinds[False])} sheet(s), "
              f"{coded['coder'].nunique()} coder(s).")
        with show():
            print(alpha_table(coded).to_string(index=False, na_rep="-",
                                               float_format="{:.3f}".format))
    if kinds[True]:
        events = labels.loc[labels["family"] == "outcome", "code"].tolist()
        cases = read_table("cases", args.processed)["case_id"]
        coded = read_event_sheets(kinds[True], events, cases, documents, segments,
                                  coders).assign(set="development")
        print(f"\n{int((coded['event'] != NONE).sum())} event(s) in "
              f"{coded[['doc_id', 'segment_id']].drop_duplicates().shape[0]} paragraph(s) from "
              f"{len(kinds[True])} event sheet(s), {coded['coder'].nunique()} coder(s). "
              "Alpha of the event types' presence, then of the side:")
        with show():
            print(alpha_table(presence(coded, events)).to_string(
                index=False, na_rep="-", float_format="{:.3f}".format))
            print(side_alpha(coded, events).to_string(
                index=False, na_rep="-", float_format="{:.3f}".format))
    return 0


def _add(args):
    meta = {k: getattr(args, k).strip() for k in METADATA}
    added = add_article(args.file, args.corpus, args.doc_id, meta)
    print(f"Added {args.file} as {added.doc_id!r} ({added.path}, sha256 {added.sha256[:12]}...).")
    return 0


def _checksums(args):
    filled = record_checksums(args.corpus)
    print(f"Recorded {filled} checksum(s) in {args.corpus / 'manifest.csv'}; existing ones were "
          "left as they were.")
    return 0


def _synth(args):
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
    cff = read_citation(args.root)
    unfilled = placeholders(cff)
    print("CITATION.cff is valid Citation File Format 1.2.0"
          + (f"; still to fill in before a release: {', '.join(unfilled)}." if unfilled
             else "; every field is filled in.")
          + " GitHub shows it and Zenodo reads a release's metadata from it.")
    return 0


def _release(args):
    make_release(args.root, say=lambda m: print(m, flush=True))
    return 0


def _verify(args):
    return 1 if verify(args.release, fresh=not args.current_env,
                       say=lambda m: print(m, flush=True), python=args.python,
                       sha256=args.sha256) else 0


if __name__ == "__main__":
    sys.exit(main())
