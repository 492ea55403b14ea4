"""Citable, frozen releases: CITATION.cff is valid CFF, the one citation file
(GitHub and Zenodo read it); `analysis release` archives exactly the tracked files and the rebuilt
outputs, lists every one in its manifest, refuses what it must and writes the
same archive bytes for the same files; `analysis verify` checks a release
before running any of it, refuses an altered, unsafe or malformed one with a
message, and rebuilds a sound one from its raw data."""

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile

import pyarrow.parquet as pq
import pytest

from analysis import __version__
from analysis.coding.codebook import load_codebook
from analysis.core import paths
from analysis.core.errors import InputError
from analysis.release import archive as release_archive
from analysis.release.archive import MANIFEST, NAME, write_archive
from analysis.release.citation import placeholders, read_citation
from analysis.workflow import CACHES
from conftest import run_cli

IDENTITY = {"GIT_AUTHOR_NAME": "Release Test", "GIT_AUTHOR_EMAIL": "release@example.org",
            "GIT_COMMITTER_NAME": "Release Test", "GIT_COMMITTER_EMAIL": "release@example.org"}
TOP = f"{NAME}-{__version__}"
# an article the corpus build sets aside (quarantines): the release must still verify
EMPTY_ARTICLE = "data/raw/999_empty.txt"
# files the researcher keeps in the checkout but git ignores: never released
IGNORED = ("data/raw/private_notes.txt", "notebooks/.ipynb_checkpoints/01_corpus-checkpoint.ipynb")


def test_citation_cff_is_valid_cff_and_cites_this_version():
    cff = read_citation(paths.ROOT)
    assert cff["cff-version"] == "1.2.0" and str(cff["version"]) == __version__
    for field in ("title", "authors", "date-released", "license", "repository-code",
                  "preferred-citation"):
        assert cff.get(field), field
    assert str(cff["preferred-citation"]["version"]) == __version__
    assert not (paths.ROOT / ".zenodo.json").exists()  # Zenodo reads CITATION.cff itself


def test_a_citation_that_breaks_the_format_is_refused_field_by_field(tmp_path):
    cff = (paths.ROOT / "CITATION.cff").read_text(encoding="utf-8")
    bad = (cff.replace('date-released: "2026-11-22"', 'date-released: "22 Nov 2026"', 1)
           + "colour: blue\n")
    (tmp_path / "CITATION.cff").write_text(bad, encoding="utf-8")
    proc = run_cli("citation", "--root", tmp_path, check=2)
    for message in ("field colour is not a Citation File Format 1.2.0 field",
                    "field date-released is '22 Nov 2026'; write the day as \"YYYY-MM-DD\""):
        assert f"{tmp_path / 'CITATION.cff'}: {message}" in proc.stderr, message
    (tmp_path / "CITATION.cff").write_text(cff.replace("authors:", "writers:", 1),
                                           encoding="utf-8")
    proc = run_cli("citation", "--root", tmp_path, check=2)
    assert "field authors is missing" in proc.stderr
    # the checkout's own file is valid, and says what is still to fill in
    proc = run_cli("citation", check=0)
    assert "still to fill in before a release: authors[0].name, repository-code" in proc.stdout


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
    assert ("CITATION.cff: authors[0].name, repository-code, "
            "preferred-citation.authors[0].name, preferred-citation.repository-code still "
            "hold(s) a placeholder; fill them in.") in proc.stderr
    assert not (root / "dist").exists() and not list((root / "reports").glob("*.html"))


def test_every_way_of_writing_a_placeholder_is_caught_with_its_field():
    cff = {"title": "A study", "authors": [{"name": "Ann Author"}, {"name": "TODO"}],
           "repository-code": "https://example.org/x", "abstract": "To-Be-Filled_In later",
           "keywords": ["todolist", "framing"]}
    assert placeholders(cff) == ["authors[1].name", "repository-code", "abstract"]
    assert placeholders({"title": "Filled in by the owner", "doi": "10.5281/zenodo.1"}) == []


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
                        "https://gitlab.com/test-author/metoo-news")
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
    assert manifest["version"] == __version__
    assert manifest["codebook_version"] == load_codebook().version
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
    # and so do the working files the rebuild leaves in data/processed
    assert not {f"data/processed/{c}" for c in CACHES} & set(files)
    with tarfile.open(archive) as tar:
        quarantine = pq.read_table(io.BytesIO(tar.extractfile(
            f"{TOP}/data/processed/quarantine.parquet").read())).to_pandas()
    assert quarantine["file"].tolist() == ["999_empty.txt"]
    # the same version cannot be released twice
    again = run_cli("release", "--root", root, check=2)
    assert f"version {__version__} is already released (tag v{__version__})" in again.stderr


def test_the_same_files_give_the_same_archive_bytes(tmp_path):
    """Packing is deterministic: member order, file times and owners do not
    reach the archive (with the rebuild checked by verify below, the same
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


# -- verify -------------------------------------------------------------------------

@pytest.mark.slow
def test_a_release_with_a_quarantined_article_verifies_against_its_checksum(released):
    root, _ = released
    archive = root / "dist" / f"{TOP}.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    proc = run_cli("verify", archive, "--sha256", digest.upper(), "--current-env", check=0)
    files = json.loads((root / "dist" / MANIFEST).read_text())["files"]
    assert f"sha256 {digest} matches --sha256" in proc.stdout
    assert f"as shipped: all {len(files)} files match" in proc.stdout
    assert f"rebuilt: all {len(files)} files match" in proc.stdout
    assert f"Reproduced: every one of the {len(files)} files matches" in proc.stdout


@pytest.fixture
def unpacked(released, tmp_path):
    """A reader's copy of the release, unpacked, that a test may change."""
    root, _ = released
    with tarfile.open(root / "dist" / f"{TOP}.tar.gz") as tar:
        tar.extractall(tmp_path / "copy", filter="data")
    return tmp_path / "copy" / TOP


@pytest.fixture
def nothing_may_run(monkeypatch):
    """Fail the test if verify makes an environment or runs the release."""
    def forbidden(*args, **kwargs):
        pytest.fail("verify ran part of a release it should have refused")
    monkeypatch.setattr(release_archive, "_fresh_environment", forbidden)
    monkeypatch.setattr(release_archive, "_run_report", forbidden)


def marker_code(marker):
    return f"\nopen({str(marker)!r}, 'w').close()\n"


@pytest.mark.slow
def test_verify_refuses_an_added_top_level_file_before_running_anything(unpacked, tmp_path):
    # run from the release folder, the report would import this instead of PyYAML
    marker = tmp_path / "ran"
    (unpacked / "yaml.py").write_text(marker_code(marker))
    for fresh in ([], ["--current-env"]):
        proc = run_cli("verify", unpacked, *fresh, check=2)
        assert f"{unpacked} is not the release its manifest describes, so nothing of it was " \
               "run" in proc.stderr
        assert "as shipped: yaml.py is not in the manifest" in proc.stderr
        assert "Get the release again" in proc.stderr
    assert not marker.exists()


@pytest.mark.slow
def test_verify_refuses_changed_code_outputs_and_missing_files_before_running(
        unpacked, tmp_path, nothing_may_run):
    marker = tmp_path / "ran"
    init = unpacked / "src" / "analysis" / "__init__.py"
    init.write_text(init.read_text() + marker_code(marker))
    ledger = unpacked / "reports" / "tables" / "case_ledger.csv"
    ledger.write_text(ledger.read_text().replace("alibaba_2021", "alibaba_2020", 1))
    (unpacked / "data" / "raw" / "999_empty.txt").unlink()
    proc = run_cli("verify", unpacked, check=2)
    assert "as shipped: src/analysis/__init__.py differs (sha256 " in proc.stderr
    assert "as shipped: reports/tables/case_ledger.csv differs" in proc.stderr
    assert "as shipped: data/raw/999_empty.txt is missing" in proc.stderr
    assert not marker.exists() and "Rebuilt" not in proc.stdout


@pytest.mark.slow
def test_verify_refuses_a_symbolic_link_in_a_release_folder(unpacked, nothing_may_run):
    (unpacked / "data" / "raw" / "000_8b4f6d6c62240631.txt").unlink()
    (unpacked / "data" / "raw" / "000_8b4f6d6c62240631.txt").symlink_to("/etc/passwd")
    proc = run_cli("verify", unpacked, "--current-env", check=2)
    assert "data/raw/000_8b4f6d6c62240631.txt is not a regular file" in proc.stderr
    assert "replace the link with the file it points to, or remove it" in proc.stderr


@pytest.mark.slow
def test_verify_refuses_an_archive_that_is_not_the_published_one(released, nothing_may_run):
    root, _ = released
    archive = root / "dist" / f"{TOP}.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    proc = run_cli("verify", archive, "--sha256", "0" * 64, check=2)
    assert f"its sha256 is {digest}, but {'0' * 64} was expected (--sha256)" in proc.stderr
    assert "download it again" in proc.stderr


@pytest.mark.slow
def test_verify_names_every_output_a_rebuild_does_not_reproduce(released, monkeypatch):
    root, _ = released
    monkeypatch.setattr(release_archive, "_run_report", lambda *args: 0.0)  # writes nothing
    proc = run_cli("verify", root / "dist" / f"{TOP}.tar.gz", "--current-env", check=1)
    assert "as shipped: all " in proc.stdout
    assert "rebuilt: reports/index.html is missing" in proc.stdout
    assert "rebuilt: data/processed/codes.parquet is missing" in proc.stdout
    assert "rebuilt: data/raw/" not in proc.stdout
    assert "NOT REPRODUCED: " in proc.stdout


@pytest.mark.slow
def test_verify_refuses_an_interpreter_that_cannot_make_an_environment(unpacked, tmp_path):
    proc = run_cli("verify", unpacked, "--python", tmp_path / "no-python", check=2)
    assert f"--python {tmp_path / 'no-python'}: cannot create a virtual environment with it " \
           "([Errno 2] No such file or directory" in proc.stderr


def test_verify_refuses_a_bad_checksum_argument_and_a_missing_target(tmp_path):
    proc = run_cli("verify", tmp_path, "--sha256", "0" * 64, check=2)
    assert f"--sha256 checks an archive file, but {tmp_path} is a folder" in proc.stderr
    proc = run_cli("verify", tmp_path / "r.tar.gz", "--sha256", "abc123", check=2)
    assert "--sha256 'abc123' is not a SHA-256 checksum; give the 64 hexadecimal" in proc.stderr
    proc = run_cli("verify", tmp_path / "nowhere", check=2)
    assert f"{tmp_path / 'nowhere'}: no such archive or folder" in proc.stderr


def tar_of(path, members):
    """A .tar.gz at ``path`` of (TarInfo, bytes or None) pairs, as given."""
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def member(name, type=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = type, linkname
    return info


MANIFEST_MEMBER = (member(f"r-1.0.0/{MANIFEST}"), b"{}")
UNSAFE = {
    "../evil": ((member("../evil"), b"x"), "would be extracted to"),
    "absolute": (None, "has an absolute path"),
    "link to /etc/passwd": ((member("r-1.0.0/passwd", tarfile.SYMTYPE, "/etc/passwd"), None),
                            "'r-1.0.0/passwd' is a link to an absolute path"),
    "link leading out": ((member("r-1.0.0/up", tarfile.SYMTYPE, "../../../evil"), None),
                         "'r-1.0.0/up' would link to"),
    "link inside": ((member("r-1.0.0/copy", tarfile.SYMTYPE, MANIFEST), None),
                    "'r-1.0.0/copy' is a symbolic link; a release holds regular files only"),
    "hard link": ((member("r-1.0.0/hard", tarfile.LNKTYPE, f"r-1.0.0/{MANIFEST}"), None),
                  "'r-1.0.0/hard' is a hard link"),
    "device": ((member("r-1.0.0/null", tarfile.CHRTYPE), None), "'r-1.0.0/null' is a special file"),
}


@pytest.mark.parametrize("case", UNSAFE)
def test_verify_refuses_an_unsafe_archive_and_writes_nothing(case, tmp_path, monkeypatch):
    bad, message = UNSAFE[case]
    if bad is None:
        bad = (member(str(tmp_path / "absolute_evil")), b"x")
    archive = tar_of(tmp_path / "r-1.0.0.tar.gz", [MANIFEST_MEMBER, bad])
    work = tmp_path / "tmp" / "deeper"  # verify's temporary folder, with room to escape into
    work.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    proc = run_cli("verify", archive, "--current-env", check=2)
    assert message in proc.stderr
    assert f"{archive}: nothing was unpacked; a release made by `analysis release` holds " \
           "none of these" in proc.stderr
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == ["r-1.0.0.tar.gz", "tmp", "tmp/deeper"]


def test_verify_refuses_what_is_not_a_release_archive(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive\n")
    proc = run_cli("verify", junk, check=2)
    assert f"{junk}: not a readable .tar.gz archive (" in proc.stderr
    two = tar_of(tmp_path / "two.tar.gz", [(member("a/x.txt"), b"x"), (member("b/y.txt"), b"y")])
    proc = run_cli("verify", two, check=2)
    assert f"{two}: not a release archive: a release holds one folder ({NAME}-X.Y.Z), this " \
           "one holds a, b at its top" in proc.stderr
    bare = tar_of(tmp_path / "bare.tar.gz", [(member("r-1.0.0/a.txt"), b"x")])
    proc = run_cli("verify", bare, check=2)
    assert f"{bare}: no {MANIFEST} inside" in proc.stderr


@pytest.mark.parametrize("text, message", [
    ('{"name": "x", "files": ', "is not valid JSON (Expecting value: line 1 column 24"),
    ("[1, 2]", "is not a release manifest: it is not a JSON object"),
    ('{"name": "x", "version": 1, "files": {"a.txt": 12, "b.txt": "' + "0" * 64 + '"}}',
     "is not a release manifest: 'version' is missing or not text; 'commit' is missing or not text; 'codebook_version' "
     "is missing or not text; 'files' gives 1 path(s) a value that is not a SHA-256 checksum: "
     "a.txt. The release is damaged"),
])
def test_verify_refuses_a_malformed_manifest(text, message, tmp_path):
    folder = tmp_path / "r-1.0.0"
    folder.mkdir()
    (folder / MANIFEST).write_text(text)
    proc = run_cli("verify", folder, check=2)
    assert f"{folder}: {MANIFEST} {message}" in proc.stderr
