"""The flow, in one place: corpus -> clean -> segment -> code -> cases, then
notebooks -> report.

``run_pipeline`` runs the three stages that write ``data/processed``, each
skipping its work when its stamp says nothing changed; ``run_all`` runs the
pipeline and then the notebooks into the report. The command line
(``analysis build``, ``analysis report``) calls these and nothing else, and a
release rebuilds through the same command line. Neither prints: what a
stage did is told through ``say`` (for the user) and ``warn`` (for problems
the user should fix), so a notebook, a test or a cluster job can call them
too.
"""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from .cases.registry import Registry, load_registry
from .cases.stage import link_corpus
from .coding.codebook import load_codebook
from .coding.schema import Codebook
from .coding.stage import accepted_codebooks, code_corpus
from .core import paths
from .core.errors import InputError
from .core.fileio import remembered_checksums, shown
from .core.locks import folder_lock, folder_locks
from .core.progress import Progress
from .core.stages import StageResult
from .corpus.build import MANIFEST_KEPT, build
from .report.run import ReportResult, run_report


@dataclass
class PipelineResult:
    """What each stage of the pipeline did, and the instruments it used."""

    book: Codebook
    registry: Registry
    build: StageResult
    coding: StageResult
    linking: StageResult


# Checksums of the corpus files and of the outputs, remembered by size and
# times (``core.fileio.ChecksumCache``): a run with nothing changed reads no
# file again. Deleting it (or `make clean`) costs one full hashing run.
CHECKSUMS = ".checksums.parquet"
# what a run keeps in the processed folder to save work next time, not outputs:
# the checksums, and the checked manifest (``corpus.manifest.read_manifest``)
CACHES = (CHECKSUMS, MANIFEST_KEPT)


def _quiet(message: str) -> None:
    pass


def run_pipeline(corpus_dir=None, processed_dir=None, rules=None, codebook=None, cases=None,
                 jobs=None, force=False, say=_quiet, warn=_quiet,
                 allow_empty=False) -> PipelineResult:
    """Build, code and link ``corpus_dir`` into ``processed_dir``.

    The instruments are checked before anything is written: a bad codebook or
    registry raises InputError and leaves every output as it was. The output
    folder is locked for the run (InputError when another run holds it).
    ``allow_empty`` lets a corpus with no usable document replace outputs
    that have some."""
    processed = Path(processed_dir or paths.PROCESSED)
    # the cache is saved after the lock is let go of, so that a refused run
    # still removes the folder it made
    with remembered_checksums(processed / CHECKSUMS), \
            folder_lock(processed, "the processed tables"):
        return _pipeline(corpus_dir, processed, rules, codebook, cases, jobs, force, say, warn,
                         allow_empty)


def _pipeline(corpus_dir, processed, rules, codebook, cases, jobs, force, say, warn,
              allow_empty) -> PipelineResult:
    corpus = Path(corpus_dir or paths.RAW)
    # a codebook the coding stage already accepted under this code needs no second check
    book = load_codebook(codebook, known_good=accepted_codebooks(processed))
    registry = load_registry(cases)
    built = build(corpus, processed, rules, jobs, force,
                  Progress("Cleaning articles", "rows"), allow_empty)
    for w in built.warnings:
        warn(f"warning: {w}")
    if built.up_to_date:
        say(f"{shown(processed)} is up to date: inputs, rules, code and packages are "
            "unchanged; nothing was written.")
    else:
        _say_built(corpus, built, say)
    coded = code_corpus(processed, book, force, jobs=jobs,
                        progress=Progress("Coding paragraphs", "segments"))
    if coded.up_to_date:
        say(f"Coding is up to date (codebook {book.version}); nothing was written.")
    else:
        say(f"Coded with codebook {book.version}: {coded.counts['codes']:,} pieces of "
            f"evidence, {coded.counts['doc_codes']:,} document-code rows" + _files(coded)
            + ".")
    uncoded = pq.read_table(processed / "uncoded.parquet", columns=["language"])
    if uncoded.num_rows:
        langs = Counter(uncoded["language"].to_pylist())
        seen = ", ".join(f"{k} ({v})" for k, v in sorted(langs.items()))
        warn(f"warning: {uncoded.num_rows} document(s) not coded: the codebook covers "
             f"{', '.join(book.languages)}, not {seen}; they are listed in "
             f"{shown(processed / 'uncoded.parquet')}. Add indicators in their language to "
             "the codebook, or correct the manifest's language column.")
    linked = link_corpus(processed, registry, book, force,
                         progress=Progress("Linking cases", "segments"), jobs=jobs)
    if linked.up_to_date:
        say(f"Cases are up to date (registry {registry.version}); nothing was written.")
    else:
        c = linked.counts
        say(f"Linked sentences to {len(registry.cases)} registered cases: "
            f"{c['case_mentions']:,} mentions, {c['case_events']:,} case events, "
            f"{c['unlinked_events']:,} unlinked events" + _files(linked) + ".")
        if c["unlinked_events"]:
            say(f"Some outcome events name no registered case: see "
                f"{shown(processed / 'unlinked_events.parquet')} and register their cases in "
                "src/analysis/instruments/cases.yaml.")
    return PipelineResult(book, registry, built, coded, linked)


def _files(res: StageResult) -> str:
    return ((f"; wrote {', '.join(res.written)}" if res.written else "")
            + (f"; unchanged: {', '.join(res.unchanged)}" if res.unchanged else ""))


def _say_built(corpus: Path, res: StageResult, say):
    c = res.counts
    say(f"Read {c['manifest_rows']:,} manifest row(s) from {shown(corpus)}: "
        f"{c['documents']:,} document(s), {c['quarantined']:,} set aside"
        + (f" ({', '.join(f'{k}: {v:,}' for k, v in c['quarantine_reasons'].items())})"
           if c["quarantined"] else "") + ".")
    say("Line roles: " + ", ".join(f"{k} {v:,}" for k, v in c["line_roles"].items()) + ".")
    if res.written:
        say(f"Wrote {', '.join(res.written)} in {shown(res.out_dir)}"
            + (f"; unchanged: {', '.join(res.unchanged)}." if res.unchanged else "."))
    else:
        say(f"All outputs in {shown(res.out_dir)} were already identical; nothing rewritten.")
    if c["quarantined"]:
        say(f"See {shown(res.out_dir / 'quarantine.parquet')} for what was set aside and why.")


def run_all(corpus_dir=None, processed_dir=None, out_dir=None, notebooks_dir=None,
            parameters=None, coding_dir=None, codebook=None, cases=None, jobs=None,
            force=False, say=_quiet, warn=_quiet, allow_empty=False) -> ReportResult:
    """The pipeline, then every stale notebook, into the report folder.

    ``coding_dir`` is the folder of manual coding sheets; None means the
    project's own (``data/coding``) for the project's corpus and none for
    another corpus, whose sheets would code other units. Raises InputError
    for bad input and ``report.execution.NotebookFailed`` when a notebook
    fails; either way the last good report stays as it was. Both output
    folders are locked for the whole run."""
    corpus = Path(corpus_dir or paths.RAW)
    processed = Path(processed_dir or paths.PROCESSED)
    out = Path(out_dir or paths.REPORTS)
    notebooks = Path(notebooks_dir or paths.NOTEBOOKS)
    if coding_dir is not None and not Path(coding_dir).is_dir():
        raise InputError(f"--coding: {coding_dir} is not a folder; give the folder that holds "
                         "the coding sheets and coders.csv.")
    with remembered_checksums(processed / CHECKSUMS), \
            folder_locks({processed: "the processed tables", out: "the report"}):
        pipeline = _pipeline(corpus, processed, None, codebook, cases, jobs, force, say, warn,
                             allow_empty)
        coding = coding_dir or (paths.CODING if corpus.resolve() == paths.RAW.resolve() else None)
        return run_report(processed, out, notebooks,
                          parameters or (notebooks / "parameters.yaml"), corpus, pipeline.book,
                          force, progress=say, coding_dir=coding)
