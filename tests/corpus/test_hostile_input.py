"""A hostile or careless corpus: nothing outside the corpus folder is read,
no record is lost, no text is silently garbled. Every case goes through the
command line and checks the message, the quarantine and what was written."""

import csv
import hashlib
import os

from conftest import ARTICLE, run_cli, table, write_corpus

SECRET = "TOP-SECRET-MARKER-41c7 root:x:0:0"


def _outputs_contain(folder, marker: str) -> bool:
    return any(marker.encode() in p.read_bytes() for p in folder.rglob("*") if p.is_file())


def _manifest_rows(corpus, rows):
    """Append rows {doc_id, file} to a corpus's manifest (no checksum)."""
    with open(corpus / "manifest.csv", "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        header = (corpus / "manifest.csv").read_text().splitlines()[0].split(",")
        for row in rows:
            w.writerow([row.get(c, "") for c in header])


def test_links_fifos_and_linked_folders_are_set_aside_unread(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.txt").write_text(f"{SECRET}\n\nA second paragraph of the secret file.\n")
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    os.symlink(outside / "passwd.txt", corpus / "link.txt")
    os.symlink(outside, corpus / "linkdir")
    os.mkfifo(corpus / "pipe.txt")
    os.symlink(outside / "passwd.txt", corpus / "stray-link.txt")  # not listed
    _manifest_rows(corpus, [{"doc_id": "link", "file": "link.txt"},
                            {"doc_id": "indir", "file": "linkdir/passwd.txt"},
                            {"doc_id": "pipe", "file": "pipe.txt"}])

    out = tmp_path / "o"
    proc = run_cli("build", "--corpus", corpus, "--out", out, check=0)
    assert "1 document(s), 4 set aside (not_regular_file: 4)" in proc.stdout
    q = table(out, "quarantine").set_index("file")
    assert sorted(q.index) == ["link.txt", "linkdir/passwd.txt", "pipe.txt", "stray-link.txt"]
    assert set(q.reason) == {"not_regular_file"}
    assert q.loc["link.txt", "detail"].startswith(
        "link.txt: a symbolic link, not a regular file; it was not read")
    assert "symbolic link to a folder" in q.loc["linkdir/passwd.txt", "detail"]
    assert "FIFO" in q.loc["pipe.txt", "detail"]
    assert "Put a copy of the article itself in its place" in q.loc["pipe.txt", "detail"]
    assert list(table(out, "documents").doc_id) == ["a"]
    assert not _outputs_contain(out, "TOP-SECRET-MARKER")
    assert not _outputs_contain(out, str(outside))


def test_a_linked_manifest_or_cleaning_rules_file_is_refused(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    (tmp_path / "rules.yaml").write_text("profiles: {}\n")
    os.symlink(tmp_path / "rules.yaml", corpus / "cleaning.yaml")
    proc = run_cli("build", "--corpus", corpus, "--out", tmp_path / "o", check=2)
    assert "cleaning.yaml: is a symbolic link, not a regular file" in proc.stderr
    assert not (tmp_path / "o").exists()

    (corpus / "cleaning.yaml").unlink()
    (corpus / "manifest.csv").rename(tmp_path / "manifest.csv")
    os.symlink(tmp_path / "manifest.csv", corpus / "manifest.csv")
    proc = run_cli("build", "--corpus", corpus, "--out", tmp_path / "o", check=2)
    assert "manifest.csv: is a symbolic link; the manifest must be a regular file" in proc.stderr


def test_checksums_command_does_not_read_through_links(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()}, checksums=False)
    (tmp_path / "secret.txt").write_text(SECRET)
    os.symlink(tmp_path / "secret.txt", corpus / "link.txt")
    _manifest_rows(corpus, [{"doc_id": "link", "file": "link.txt"}])
    run_cli("checksums", "--corpus", corpus, check=0)
    manifest = (corpus / "manifest.csv").read_text()
    assert hashlib.sha256(ARTICLE.encode()).hexdigest() in manifest
    assert hashlib.sha256(SECRET.encode()).hexdigest() not in manifest
