"""Citable, frozen releases: CITATION.cff is valid CFF and .zenodo.json is made
from it; `analysis release` refuses what it must and writes the same archive
bytes for the same files; `analysis verify` rebuilds a release from its raw
data and finds an output that differs."""

import os
import subprocess
import tarfile

import pytest
import yaml

from analysis import __version__
from analysis.core import paths
from analysis.release.archive import MANIFEST, NAME, write_archive
from analysis.release.citation import PLACEHOLDER, read_citation, zenodo_json
from conftest import run_cli

IDENTITY = {"GIT_AUTHOR_NAME": "Release Test", "GIT_AUTHOR_EMAIL": "release@example.org",
            "GIT_COMMITTER_NAME": "Release Test", "GIT_COMMITTER_EMAIL": "release@example.org"}


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


def test_release_refuses_a_dirty_tree_and_placeholder_authors(tmp_path):
    root = clone(tmp_path)
    (root / "notes.txt").write_text("work in progress\n")
    proc = run_cli("release", "--root", root, check=2)
    assert "the working tree has uncommitted changes" in proc.stderr
    assert "notes.txt" in proc.stderr
    assert f"still hold placeholders ('{PLACEHOLDER}')" in proc.stderr
    assert not (root / "dist").exists() and not list((root / "reports").glob("*.html"))


@pytest.fixture
def released(tmp_path, monkeypatch):
    """A clone whose owner filled in the citation, released once."""
    for k, v in IDENTITY.items():
        monkeypatch.setenv(k, v)
    root = clone(tmp_path)
    cff = root / "CITATION.cff"
    text = cff.read_text(encoding="utf-8")
    text = text.replace("AUTHORS (to be filled in by the project owner)", "Test, Author")
    text = text.replace("https://example.org/REPOSITORY-ADDRESS-TO-BE-FILLED-IN",
                        "https://example.org/metoo-news")
    cff.write_text(text, encoding="utf-8")
    run_cli("citation", "--root", root, check=0)
    subprocess.run(["git", "-C", str(root), "commit", "-qam", "Fill in the citation"],
                   check=True)
    proc = run_cli("release", "--root", root, check=0)
    return root, proc


@pytest.mark.slow
def test_a_release_is_archived_tagged_and_verified_by_a_rebuild_from_scratch(released, tmp_path):
    root, proc = released
    archive = root / "dist" / f"{NAME}-{__version__}.tar.gz"
    assert "Tagged" in proc.stdout
    assert subprocess.run(["git", "-C", str(root), "tag", "--list", f"v{__version__}"],
                          capture_output=True, text=True).stdout.strip() == f"v{__version__}"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        members = tar.getmembers()
    top = f"{NAME}-{__version__}"
    assert f"{top}/{MANIFEST}" in names and f"{top}/reports/index.html" in names
    assert f"{top}/data/processed/codes.parquet" in names and f"{top}/CITATION.cff" in names
    assert names == sorted(names)
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    manifest = yaml.safe_load((root / "dist" / MANIFEST).read_text())
    assert manifest["version"] == __version__ and manifest["codebook_version"] == "1.0.0"
    assert "requirements.lock" in manifest["files"]
    assert "src/analysis/instruments/codebook.yaml" in manifest["files"]
    assert any(f.startswith("data/raw/") for f in manifest["files"])
    # the same version cannot be released twice
    again = run_cli("release", "--root", root, check=2)
    assert f"version {__version__} is already released (tag v{__version__})" in again.stderr
    # a reader's copy with one output changed: verify names it, and its rebuild
    # from data/raw gives every file the manifest lists, byte for byte
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "copy", filter="data")
    copy = tmp_path / "copy" / top
    ledger = copy / "reports" / "tables" / "case_ledger.csv"
    ledger.write_text(ledger.read_text().replace("alibaba_2021", "alibaba_2020", 1))
    proc = run_cli("verify", copy, "--current-env", check=1)
    assert "as shipped: reports/tables/case_ledger.csv differs" in proc.stdout
    assert f"rebuilt: all {len(manifest['files'])} files match" in proc.stdout
    assert "NOT REPRODUCED: 1 difference(s)" in proc.stdout


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
