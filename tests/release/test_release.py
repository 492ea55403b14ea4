"""Citable, frozen releases: CITATION.cff is valid CFF and .zenodo.json is made
from it; `analysis release` archives exactly the tracked files and the rebuilt
outputs, lists every one in its manifest, refuses what it must and writes the
same archive bytes for the same files; `analysis verify` rebuilds a release
from its raw data and finds an output that differs."""

import hashlib
import io
import json
import os
import subprocess
import tarfile

import pyarrow.parquet as pq
import pytest

from analysis import __version__
from analysis.core import paths
from analysis.core.errors import InputError
from analysis.release.archive import MANIFEST, NAME, write_archive
from analysis.release.citation import PLACEHOLDER, read_citation, zenodo_json
from conftest import run_cli

IDENTITY = {"GIT_AUTHOR_NAME": "Release Test", "GIT_AUTHOR_EMAIL": "release@example.org",
            "GIT_COMMITTER_NAME": "Release Test", "GIT_COMMITTER_EMAIL": "release@example.org"}
TOP = f"{NAME}-{__version__}"
# an article the corpus build sets aside (quarantines): the release must still verify
EMPTY_ARTICLE = "data/raw/999_empty.txt"
# files the researcher keeps in the checkout but git ignores: never released
IGNORED = ("data/raw/private_notes.txt", "notebooks/.ipynb_checkpoints/01_corpus-checkpoint.ipynb")


def test_citation_cff_is_valid_cff_and_cites_this_version():
    _, cff = read_citation(paths.ROOT)  # cffconvert's schema validation
    assert cff["cff-version"] == "1.2.0" and str(cff["version"]) == __version__
    for field in ("title", "authors", "date-released", "license", "repository-code",
                  "preferred-citation"):
        assert cff.get(field), field
    assert str(cff["preferred-citation"]["version"]) == __version__


def test_zenodo_json_is_generated_from_citation_cff_and_disagreement_is_caught(tmp_path):
    assert (paths.ROOT / ".zenodo.json").read_text(encoding="utf-8") == zenodo_json(paths.ROOT)
    cff = (paths.ROOT / "CITATION.cff").read_text(encoding="utf-8")
    (tmp_path / "CITATION.cff").write_text(cff.replace("version: 0.1.0", "version: 0.1.1", 1))
    assert '"version": "0.1.1"' in zenodo_json(tmp_path)
    (tmp_path / "CITATION.cff").write_text(cff + "colour: blue\n")
    proc = run_cli("citation", "--root", tmp_path, check=2)
    assert "not valid Citation File Format 1.2.0" in proc.stderr and "colour" in proc.stderr


def clone(tmp_path, name="clone"):
    dest = tmp_path / name
    subprocess.run(["git", "clone", "-q", str(paths.ROOT), str(dest)], check=True)
    return dest


def commit(root, message):
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", message], check=True,
                   env={**os.environ, **IDENTITY})


def test_release_refuses_a_dirty_tree_and_placeholder_authors(tmp_path):
    root = clone(tmp_path)
    (root / "notes.txt").write_text("work in progress\n")
    proc = run_cli("release", "--root", root, check=2)
    assert "the working tree has uncommitted changes" in proc.stderr
    assert "notes.txt" in proc.stderr
    assert f"still hold placeholders ('{PLACEHOLDER}')" in proc.stderr
    assert not (root / "dist").exists() and not list((root / "reports").glob("*.html"))


def test_release_refuses_a_tracked_symbolic_link_before_rebuilding(tmp_path):
    root = clone(tmp_path)
    (root / "data" / "raw" / "passwd.txt").symlink_to("/etc/passwd")
    commit(root, "Link a file from outside the repository")
    proc = run_cli("release", "--root", root, check=2)
    assert ("data/raw/passwd.txt is tracked as a symbolic link, not a regular file"
            in proc.stderr)
    assert "replace it with the file it points to, or remove it (`git rm`)" in proc.stderr
    assert not (root / "dist").exists() and not list((root / "reports").glob("*.html"))


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A clone whose owner filled in the citation, released once. Its corpus
    has an article the build sets aside, and the checkout holds ignored files
    (private notes in data/raw, a notebook checkpoint) that must stay out."""
    tmp = tmp_path_factory.mktemp("released")
    root = clone(tmp)
    cff = root / "CITATION.cff"
    text = cff.read_text(encoding="utf-8")
    text = text.replace("AUTHORS (to be filled in by the project owner)", "Test, Author")
    text = text.replace("https://example.org/REPOSITORY-ADDRESS-TO-BE-FILLED-IN",
                        "https://example.org/metoo-news")
    cff.write_text(text, encoding="utf-8")
    run_cli("citation", "--root", root, check=0)
    (root / EMPTY_ARTICLE).write_bytes(b"")
    with open(root / "data" / "raw" / "manifest.csv", "a", encoding="utf-8") as f:
        f.write(f"999_empty,999_empty.txt,{hashlib.sha256(b'').hexdigest()},Test Outlet,"
                "news report,,,,en,,an empty file\n")
    commit(root, "Fill in the citation; an article the build sets aside")
    with open(root / ".git" / "info" / "exclude", "a", encoding="utf-8") as f:
        f.write(f"{IGNORED[0]}\n")
    for rel in IGNORED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("not for release\n")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in IDENTITY.items():
            mp.setenv(k, v)
        proc = run_cli("release", "--root", root, check=0)
    return root, proc


def tracked(root):
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                         text=True, check=True).stdout
    return {f for f in out.split("\0") if f}


@pytest.mark.slow
def test_a_release_archives_and_lists_exactly_the_tracked_files_and_outputs(released):
    root, proc = released
    archive = root / "dist" / f"{TOP}.tar.gz"
    assert "Tagged" in proc.stdout
    assert subprocess.run(["git", "-C", str(root), "tag", "--list", f"v{__version__}"],
                          capture_output=True, text=True).stdout.strip() == f"v{__version__}"
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and all(m.isreg() for m in members)
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    manifest = json.loads((root / "dist" / MANIFEST).read_text())
    assert manifest["version"] == __version__ and manifest["codebook_version"] == "1.0.0"
    # the manifest covers every member, code and top-level files included
    files = manifest["files"]
    assert names == sorted(f"{TOP}/{f}" for f in [*files, MANIFEST])
    derived = {f for f in files if f.startswith(("data/processed/", "reports/"))}
    assert set(files) - derived == tracked(root) - derived
    for f in ("Makefile", "README.md", "CITATION.cff", "src/analysis/cli.py",
              "notebooks/01_corpus.ipynb", "requirements.lock", EMPTY_ARTICLE,
              "reports/index.html", "data/processed/codes.parquet"):
        assert f in files, f
    assert files["src/analysis/cli.py"] == hashlib.sha256(
        (root / "src/analysis/cli.py").read_bytes()).hexdigest()
    # ignored files stay out, and out of the outputs (the build sets aside a
    # file it finds in data/raw that the manifest does not list)
    assert not set(IGNORED) & set(files)
    with tarfile.open(archive) as tar:
        quarantine = pq.read_table(io.BytesIO(tar.extractfile(
            f"{TOP}/data/processed/quarantine.parquet").read())).to_pandas()
    assert quarantine["file"].tolist() == ["999_empty.txt"]
    # the same version cannot be released twice
    again = run_cli("release", "--root", root, check=2)
    assert f"version {__version__} is already released (tag v{__version__})" in again.stderr


def test_the_same_files_give_the_same_archive_bytes(tmp_path):
    """Packing is deterministic: member order, file times and owners do not
    reach the archive (with the rebuild checked by verify above, the same
    release gives the same archive)."""
    root = tmp_path / "tree"
    (root / "data").mkdir(parents=True)
    (root / "data" / "b.csv").write_text("x\n1\n")
    (root / "a.txt").write_text("text\n")
    first, second = tmp_path / "one" / "r-1.0.0.tar.gz", tmp_path / "two" / "r-1.0.0.tar.gz"
    write_archive(root, ["data/b.csv", "a.txt"], first, 1_700_000_000)
    os.utime(root / "a.txt", (1, 1))
    write_archive(root, ["a.txt", "data/b.csv", "a.txt"], second, 1_700_000_000)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        assert tar.getnames() == ["r-1.0.0/a.txt", "r-1.0.0/data/b.csv"]
        assert {m.mtime for m in tar.getmembers()} == {1_700_000_000}


def test_an_archive_never_reads_through_a_symbolic_link(tmp_path):
    root = tmp_path / "tree"
    (root / "data").mkdir(parents=True)
    (root / "a.txt").write_text("text\n")
    (root / "data" / "secret.txt").symlink_to("/etc/passwd")
    (root / "linked").symlink_to(root / "data")
    for member in ("data/secret.txt", "linked/a.txt"):
        with pytest.raises(InputError, match=f"{member} is not a regular file .* replace the "
                           "link with the file it points to, or remove it"):
            write_archive(root, ["a.txt", member], tmp_path / "r-1.0.0.tar.gz", 1_700_000_000)
    assert not (tmp_path / "r-1.0.0.tar.gz").exists()


@pytest.mark.slow
def test_a_release_with_a_quarantined_article_is_verified_by_a_rebuild(released, tmp_path):
    """A reader's copy with one output changed: verify names it, and its
    rebuild from data/raw gives every file the manifest lists, byte for byte."""
    root, _ = released
    with tarfile.open(root / "dist" / f"{TOP}.tar.gz") as tar:
        tar.extractall(tmp_path / "copy", filter="data")
    copy = tmp_path / "copy" / TOP
    ledger = copy / "reports" / "tables" / "case_ledger.csv"
    ledger.write_text(ledger.read_text().replace("alibaba_2021", "alibaba_2020", 1))
    files = json.loads((root / "dist" / MANIFEST).read_text())["files"]
    proc = run_cli("verify", copy, "--current-env", check=1)
    assert "as shipped: reports/tables/case_ledger.csv differs" in proc.stdout
    assert f"rebuilt: all {len(files)} files match" in proc.stdout
    assert "NOT REPRODUCED: 1 difference(s)" in proc.stdout
