"""Helpers shared by the tests: real corpora in temporary folders, and the
`analysis` command line run as a user runs it.

``run_cli`` runs the command line in this process: the same argument parsing
and dispatch as the installed `analysis` command, without paying a fresh
interpreter and its imports for every call. ``run_installed`` runs the real
executable in a subprocess, for the few tests that check the entry point
itself (and for the session's seed build).
"""

import contextlib
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analysis.cli import main
from analysis.core import paths
from analysis.workflow import CACHES

ANALYSIS = Path(sys.executable).with_name("analysis")
COLUMNS = ["doc_id", "file", "sha256", "outlet", "kind", "url", "published", "date_basis",
           "language", "encoding", "notes"]


def run_cli(*args, cwd=None, check=None):
    """Run `analysis ARGS` in this process; returns a CompletedProcess with
    the exit status and what the command printed (text). An argparse refusal
    exits with status 2 as the installed command does."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
    finally:
        os.chdir(here)
    proc = subprocess.CompletedProcess(["analysis", *map(str, args)], code, out.getvalue(),
                                       err.getvalue())
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


def run_installed(*args, cwd=None, check=None, env=None):
    """Run the installed `analysis` executable in a subprocess (text mode)."""
    proc = subprocess.run([str(ANALYSIS), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env)
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


def write_corpus(folder: Path, articles: dict, meta: dict | None = None, checksums=True):
    """Write article files {name: bytes} and a manifest (doc_id = file stem)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = meta or {}
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for name, data in articles.items():
            (folder / name).write_bytes(data)
            row = {"doc_id": Path(name).stem, "file": name,
                   "sha256": hashlib.sha256(data).hexdigest() if checksums else "",
                   **meta.get(name, {})}
            w.writerow([row.get(c, "") for c in COLUMNS])
    return folder


def table(out: Path, name: str):
    return pq.read_table(out / f"{name}.parquet").to_pandas()


def snapshot(folder: Path) -> dict:
    """{file name: (bytes, mtime_ns)} of everything in a folder but the
    checksum cache and the kept manifest (which remember inputs, not outputs)."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())
            if p.is_file() and p.name not in CACHES}


@pytest.fixture
def seed_corpus(tmp_path) -> Path:
    """A copy of the project's seed corpus (data/raw) that a test may change."""
    dest = tmp_path / "corpus"
    shutil.copytree(paths.RAW, dest)
    return dest


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory) -> Path:
    """The seed corpus built once for the tests that only read the outputs."""
    out = tmp_path_factory.mktemp("seed_out")
    # through the installed executable: the entry point users run
    run_installed("build", "--corpus", paths.RAW, "--processed", out, check=0)
    return out


ARTICLE = ("A Headline Without a Full Stop\n\n"
           "The first paragraph reports that a court dismissed the suit. It was filed in May.\n\n"
           "The second paragraph quotes a lawyer. \u201cWe will appeal,\u201d she said.\n")
