"""Helpers shared by the tests: real corpora in temporary folders, and the
`analysis` command line run as a user runs it."""

import csv
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analysis.core import paths

ANALYSIS = Path(sys.executable).with_name("analysis")
COLUMNS = ["doc_id", "file", "sha256", "outlet", "kind", "url", "published", "date_basis",
           "language", "encoding", "notes"]


def run_cli(*args, cwd=None, check=None):
    """Run `analysis ARGS`; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([str(ANALYSIS), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)
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
    """{file name: (bytes, mtime_ns)} of everything in a folder."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())
            if p.is_file()}


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
    run_cli("build", "--corpus", paths.RAW, "--out", out, check=0)
    return out


ARTICLE = ("A Headline Without a Full Stop\n\n"
           "The first paragraph reports that a court dismissed the suit. It was filed in May.\n\n"
           "The second paragraph quotes a lawyer. \u201cWe will appeal,\u201d she said.\n")
