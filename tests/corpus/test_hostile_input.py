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
    proc = run_cli("build", "--corpus", corpus, "--processed", out, check=0)
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
    proc = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=2)
    assert "cleaning.yaml: is a symbolic link, not a regular file" in proc.stderr
    assert not (tmp_path / "o").exists()

    (corpus / "cleaning.yaml").unlink()
    (corpus / "manifest.csv").rename(tmp_path / "manifest.csv")
    os.symlink(tmp_path / "manifest.csv", corpus / "manifest.csv")
    proc = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=2)
    assert "manifest.csv: is a symbolic link; the manifest must be a regular file" in proc.stderr


def test_adding_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    proc = run_cli("add", tmp_path / "pipe.txt", "--corpus", tmp_path / "c", check=2)
    assert "pipe.txt: is a FIFO (named pipe), not a regular file" in proc.stderr
    assert not (tmp_path / "c").exists()


def test_checksums_command_does_not_read_through_links(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()}, checksums=False)
    (tmp_path / "secret.txt").write_text(SECRET)
    os.symlink(tmp_path / "secret.txt", corpus / "link.txt")
    _manifest_rows(corpus, [{"doc_id": "link", "file": "link.txt"}])
    run_cli("checksums", "--corpus", corpus, check=0)
    manifest = (corpus / "manifest.csv").read_text()
    assert hashlib.sha256(ARTICLE.encode()).hexdigest() in manifest
    assert hashlib.sha256(SECRET.encode()).hexdigest() not in manifest


def test_a_bad_csv_record_is_set_aside_and_reading_resumes_with_fields_of_any_size(tmp_path):
    long_text = "The court heard the case again. " * 7000  # 224,000 characters
    rows = ['id,outlet,text',
            'r1,Daily,"A first article. It is quoted, with a comma."',
            'r2,Daily,"She said "no" to the offer."',            # unescaped quote
            'r3,Daily,A plain article without quotes.',
            'r4,Daily,"An opening quote that never closes.',    # unbalanced
            'r5,Daily,Another plain article.',
            'r6,Daily,"A quoted article."',
            f'r7,Daily,"{long_text}"',
            'r8,Daily,"A quoted article over',
            'two lines."',
            'r9,Daily,The last article.']
    corpus = write_corpus(tmp_path / "c", {"col.csv": ("\n".join(rows) + "\n").encode()})
    out = tmp_path / "o"
    proc = run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    docs, q = table(out, "documents"), table(out, "quarantine")
    assert list(docs.doc_id) == [f"col.r{i}" for i in (1, 3, 5, 6, 7, 8, 9)]
    assert list(q.record) == [3, 5] and set(q.reason) == {"bad_record"}
    assert len(docs) + len(q) == 9  # every record in is a document or set aside
    assert q.detail[0].startswith("col.csv, line 3: malformed CSV (',' expected after '\"')")
    assert "found 2 line(s) further on" in q.detail[1]
    assert "reading resumed on the next line" in q.detail[1]
    assert docs.set_index("doc_id").loc["col.r7", "n_body_chars"] == len(long_text.strip())
    assert "7 document(s), 2 set aside (bad_record: 2)" in proc.stdout


def test_encodings_are_not_silently_guessed(tmp_path):
    utf8_bad = ("The court\u2019s ruling was appealed.\n\nHer lawyer said the appeal would "
                "be heard next spring.\n").encode()
    utf8_bad = utf8_bad.replace(b"next", b"n\xffext")
    corpus = write_corpus(tmp_path / "c", {
        "bad-byte.txt": utf8_bad,
        "latin1.txt": "A na\u00efve reading.\n\nThe second paragraph of a short note.\n"
                      .encode("latin-1"),
        "russian.txt": "Суд отклонил иск.\n\nИстец подаст апелляцию.\n".encode("koi8-r"),
        "japanese.txt": "東京地裁は訴えを退けた。\n\n弁護士は控訴する方針だ。\n".encode("shift_jis"),
    }, {"japanese.txt": {"language": "ja"}})
    out = tmp_path / "o"
    proc = run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    docs = table(out, "documents").set_index("doc_id")
    q = table(out, "quarantine").set_index("doc_id")
    assert len(docs) + len(q) == 4
    assert docs.loc["bad-byte", "encoding"] == "utf-8"  # not re-guessed as a legacy charset
    assert docs.loc["bad-byte", "body"].endswith("be heard n\ufffdext spring.")
    assert docs.loc["bad-byte", "encoding_note"].startswith(
        f"UTF-8 with 1 invalid byte sequence(s) (the first at byte {utf8_bad.index(255)})")
    assert docs.loc["latin1", "encoding"] == "cp1252"
    assert docs.loc["latin1", "body"].startswith("A na\u00efve reading.")
    assert "detected as cp1252 (confidence 1.00)" in docs.loc["latin1", "encoding_note"]
    assert docs.loc["japanese", "encoding"] == "cp932"
    assert q.loc["russian", "reason"] == "undecodable"
    assert "name its encoding in the manifest's encoding column" in q.loc["russian", "detail"]
    assert "3 file(s) were decoded without certainty" in proc.stderr + proc.stdout
    # declaring the encoding removes the doubt
    seed = write_corpus(tmp_path / "d", {"russian.txt": "Суд отклонил иск.\n".encode("koi8-r")},
                        {"russian.txt": {"encoding": "koi8-r"}})
    run_cli("build", "--corpus", seed, "--processed", tmp_path / "p", check=0)
    docs = table(tmp_path / "p", "documents")
    assert docs.loc[0, "body"] == "Суд отклонил иск." and docs.encoding_note.isna().all()
