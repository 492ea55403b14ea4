"""Bad input that must stop a build: clear message, exit status 2, and earlier
outputs left exactly as they were."""

import pytest

from analysis.core.errors import InputError
from analysis.workflow import CACHES
from conftest import ARTICLE, run_cli, snapshot, write_corpus


def _refused(corpus, out):
    proc = run_cli("build", "--corpus", corpus, "--processed", out)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr


def test_missing_file_is_refused_naming_the_row_and_fix(seed_corpus, tmp_path):
    (seed_corpus / "001_edab2e6d0a5b9686.txt").unlink()
    err = _refused(seed_corpus, tmp_path / "out")
    assert "manifest.csv, line 3, field 'file'" in err
    assert "001_edab2e6d0a5b9686.txt does not exist" in err
    assert "restore the file, or remove this row" in err
    assert not (tmp_path / "out" / "documents.parquet").exists()


def test_edited_raw_file_is_refused_with_both_checksums(seed_corpus, tmp_path):
    f = seed_corpus / "000_8b4f6d6c62240631.txt"
    f.write_bytes(f.read_bytes().replace(b"Chengdu", b"Chongqing", 1))
    err = _refused(seed_corpus, tmp_path / "out")
    assert "000_8b4f6d6c62240631.txt: checksum mismatch" in err
    assert "manifest.csv line 2 records sha256 0fa6bdef" in err
    assert "Raw data must stay as collected: restore the original file" in err


def test_duplicate_doc_id_is_refused_naming_both_lines(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode(), "b.txt": b"Other text.\n"})
    text = (corpus / "manifest.csv").read_text().replace("\nb,b.txt", "\na,b.txt")
    (corpus / "manifest.csv").write_text(text)
    err = _refused(corpus, tmp_path / "out")
    assert "line 3, field 'doc_id': duplicate doc_id 'a' (first on line 2)" in err


def test_missing_manifest_says_how_to_create_one(tmp_path):
    (tmp_path / "c").mkdir()
    err = _refused(tmp_path / "c", tmp_path / "out")
    assert "manifest.csv: no manifest" in err
    assert "analysis add FILE" in err


def test_malformed_manifests_name_line_and_fix(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    cases = {
        "doc_id,filename\na,a.txt\n": [
            "line 1: unknown column(s) 'filename'", "missing required column(s) file"],
        "doc_id,file,outlet\na,a.txt,X,extra\n": [
            "line 2: 4 fields where the header has 3; quote values that contain commas"],
        "doc_id,file,published\na,a.txt,14/09/2021\n": [
            "line 2, field 'published': '14/09/2021' is not a date; write YYYY, YYYY-MM or "
            "YYYY-MM-DD"],
        "doc_id,file,published\na,a.txt,2021-02-30\n": [
            "'2021-02-30' is not a real calendar date"],
        "doc_id,file,date_basis\na,a.txt,guessed\n": [
            "field 'date_basis': 'guessed' is not one of stated, address, inferred"],
        "doc_id,file,sha256\na,a.txt,abc\n": [
            "field 'sha256': 'abc' is not a SHA-256"],
        "doc_id,file\nbad id,a.txt\n": ["field 'doc_id': 'bad id' is not a valid id"],
        "doc_id,file\na,../a.txt\n": ["field 'file': '../a.txt' must be a path inside the corpus"],
        'doc_id,file,notes\na,a.txt,"unclosed\n': ["line 2: malformed CSV"],
    }
    for manifest, expected in cases.items():
        (corpus / "manifest.csv").write_text(manifest)
        err = _refused(corpus, tmp_path / "out")
        for fragment in expected:
            assert fragment in err, (manifest, err)


def test_every_problem_is_reported_in_one_run(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    (corpus / "manifest.csv").write_text(
        "doc_id,file,published\na,a.txt,2021-13\na,gone.txt,\n")
    err = _refused(corpus, tmp_path / "out")
    assert err.startswith("error: 3 problems:")
    assert "not a real calendar date" in err and "duplicate doc_id" in err
    assert "gone.txt does not exist" in err


def test_a_refused_run_leaves_the_last_good_outputs_intact(seed_corpus, tmp_path):
    out = tmp_path / "out"
    run_cli("build", "--corpus", seed_corpus, "--processed", out, check=0)
    before = snapshot(out)
    f = seed_corpus / "002_5d940f0a5119fa01.txt"
    f.write_bytes(f.read_bytes() + b"\nAn appended line.")
    _refused(seed_corpus, out)
    assert snapshot(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name not in CACHES], \
        "temporary files left"


def test_bad_cleaning_rules_are_refused_naming_the_rule(seed_corpus, tmp_path):
    (seed_corpus / "cleaning.yaml").write_text(
        "profiles:\n"
        "  my_outlet:\n"
        "    detect: {outlets: [Sixth Tone]}\n"
        "    rules:\n"
        "      - {id: broken, role: boilerplate, pattern: '(unclosed'}\n"
        "      - {id: odd_role, role: footer, pattern: 'x'}\n"
        "      - {id: named, role: credit, pattern: '(?P<who>.*)'}\n"
        "      - {id: extra, role: credit, pattern: 'x', colour: red}\n")
    err = _refused(seed_corpus, tmp_path / "out")
    assert "rule 'broken' (profile my_outlet): pattern does not compile" in err
    assert "rule 'odd_role' (profile my_outlet): role 'footer' is not one of title, body" in err
    assert "rule 'named' (profile my_outlet): pattern uses named groups" in err
    assert "rule 'extra' (profile my_outlet): unknown key 'colour'" in err


@pytest.mark.parametrize("collide", [False, True])
def test_repeated_ids_and_files_name_their_first_line_across_blocks(tmp_path, monkeypatch,
                                                                    collide):
    # blocks of two rows: repeats within a block and across blocks, an id
    # first refused as invalid, a missing file listed twice (missing, both
    # times, not a repeat) and problems in line order, each row's in field
    # order; with every value's hash the same, the values themselves decide
    from analysis.corpus import manifest

    monkeypatch.setattr(manifest.Manifest, "BLOCK", 2)
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name in ("x", "y", "z", "w", "q"):
        (corpus / f"{name}.txt").write_text("Some text.\n")
    rows = [("a", "x.txt"), ("b", "y.txt"), ("c", "z.txt"), ("a", "w.txt"), ("d", "x.txt"),
            ("a", "q.txt"), ("-e", "y.txt"), ("f", "gone.txt"), ("g", "gone.txt"),
            ("c", "z.txt"), ("h", "w.txt")]
    (corpus / "manifest.csv").write_text(
        "doc_id,file\n" + "".join(f"{d},{f}\n" for d, f in rows))
    with monkeypatch.context() as m, pytest.raises(InputError) as refused:
        if collide:
            m.setattr("builtins.hash", lambda value: 7)
        manifest.read_manifest(corpus)
    where = f"{corpus / 'manifest.csv'}, line"
    assert [p.split(":")[0].replace(where, "line") for p in refused.value.problems] == [
        "line 5, field 'doc_id'", "line 6, field 'file'", "line 7, field 'doc_id'",
        "line 8, field 'doc_id'", "line 8, field 'file'", "line 9, field 'file'",
        "line 10, field 'file'", "line 11, field 'doc_id'", "line 11, field 'file'",
        "line 12, field 'file'"]
    problems = "\n".join(refused.value.problems).replace(where, "line")
    for line, field, text in [
            (5, "doc_id", "duplicate doc_id 'a' (first on line 2)"),
            (6, "file", "'x.txt' is already listed on line 2"),
            (7, "doc_id", "duplicate doc_id 'a' (first on line 2)"),
            (8, "doc_id", "'-e' is not a valid id"),
            (8, "file", "'y.txt' is already listed on line 3"),
            (9, "file", f"{corpus / 'gone.txt'} does not exist"),
            (10, "file", f"{corpus / 'gone.txt'} does not exist"),
            (11, "doc_id", "duplicate doc_id 'c' (first on line 4)"),
            (11, "file", "'z.txt' is already listed on line 4"),
            (12, "file", "'w.txt' is already listed on line 5")]:
        assert f"line {line}, field '{field}': {text}" in problems, (line, text)
