"""The build as users run it: deterministic, incremental, atomic, and the
corpus commands (add, checksums)."""

import csv
import hashlib

import pandas as pd

from analysis.core import paths
from analysis.corpus.build import CHUNK, TABLES
from conftest import ARTICLE, run_cli, snapshot, table, write_corpus


def test_two_builds_of_the_same_corpus_are_byte_identical(tmp_path):
    run_cli("build", "--processed", tmp_path / "a", check=0)
    run_cli("build", "--corpus", paths.RAW, "--processed", tmp_path / "b", check=0)
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert sorted(a) == sorted([f"{t}.parquet" for t in TABLES] + [
        "build.json", "codes.parquet", "doc_codes.parquet", "code_labels.parquet", "coding.json",
        "uncoded.parquet", "cases.parquet",
        "case_mentions.parquet", "case_events.parquet", "unlinked_events.parquet",
        "case_ledger.parquet", "linking.json"])
    assert {k: v[0] for k, v in a.items()} == {k: v[0] for k, v in b.items()}


def test_worker_processes_give_the_same_bytes_as_one_process(tmp_path):
    n = CHUNK * 2 + 7  # enough rows for several chunks, so the pool is used
    run_cli("synth", "--out", tmp_path / "syn", "--n", n, "--seed", 3, check=0)
    run_cli("build", "--corpus", tmp_path / "syn", "--processed", tmp_path / "one", "--jobs", 1, check=0)
    run_cli("build", "--corpus", tmp_path / "syn", "--processed", tmp_path / "two", "--jobs", 2, check=0)
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert {k: v[0] for k, v in one.items()} == {k: v[0] for k, v in two.items()}
    docs = table(tmp_path / "two", "documents")
    assert len(docs) == n and docs.title.str.startswith("[SYNTHETIC]").all()
    assert (docs.outlet == "SYNTHETIC").all()


def test_a_second_build_with_nothing_changed_writes_nothing(seed_corpus, tmp_path):
    out = tmp_path / "out"
    run_cli("build", "--corpus", seed_corpus, "--processed", out, check=0)
    before = snapshot(out)
    proc = run_cli("build", "--corpus", seed_corpus, "--processed", out, check=0)
    assert "is up to date" in proc.stdout and "nothing was written" in proc.stdout
    assert snapshot(out) == before  # same bytes and same modification times


def test_a_changed_input_rebuilds_but_leaves_identical_files_untouched(seed_corpus, tmp_path):
    out = tmp_path / "out"
    run_cli("build", "--corpus", seed_corpus, "--processed", out, check=0)
    before = snapshot(out)
    (seed_corpus / "stray.txt").write_text("not registered")  # changes only the quarantine
    proc = run_cli("build", "--corpus", seed_corpus, "--processed", out, check=0)
    after = snapshot(out)
    assert "Wrote quarantine.parquet, build.json" in proc.stdout
    for name in ("documents.parquet", "lines.parquet", "segments.parquet"):
        assert after[name] == before[name]
    assert after["quarantine.parquet"] != before["quarantine.parquet"]


def test_a_deleted_output_is_rebuilt(seed_corpus, tmp_path):
    out = tmp_path / "out"
    run_cli("build", "--corpus", seed_corpus, "--processed", out, check=0)
    good = (out / "segments.parquet").read_bytes()
    (out / "segments.parquet").unlink()
    proc = run_cli("build", "--corpus", seed_corpus, "--processed", out, check=0)
    assert "Wrote segments.parquet" in proc.stdout
    assert (out / "segments.parquet").read_bytes() == good


def test_build_json_records_inputs_rules_code_and_output_checksums(seed_build):
    import json

    stamp = json.loads((seed_build / "build.json").read_text())
    assert stamp["key"]["rules_version"] and len(stamp["key"]["code_sha256"]) == 64
    assert stamp["key"]["packages"]["pyarrow"]
    for name, info in stamp["outputs"].items():
        data = (seed_build / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"]
    text = (seed_build / "build.json").read_text()
    assert str(paths.ROOT) not in text and "/tmp" not in text  # no machine paths


def test_documents_carry_manifest_metadata_and_counts(seed_build):
    docs = table(seed_build, "documents").set_index("doc_id")
    wapo = docs.loc["002_5d940f0a5119fa01"]
    assert (wapo.outlet, wapo.published, wapo.date_basis) == (
        "The Washington Post", "2021-09-14", "address")
    assert wapo.n_paragraphs == 15 and wapo.n_body_lines == 15
    assert wapo.sha256 == "728145e066f822c20f4de12c9fbfbfe42ee78aa52695c9848f5f329f5a75c5ef"
    assert pd.isna(docs.loc["001_edab2e6d0a5b9686", "url"])  # unknown stays missing, not ""
    assert docs.loc["001_edab2e6d0a5b9686", "n_comment_paragraphs"] == 1


def test_add_copies_the_article_and_appends_a_checked_row(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    new = tmp_path / "incoming.txt"
    new.write_text("Title of a New Piece\n\nIts only paragraph says the appeal was rejected.\n")
    proc = run_cli("add", new, "--corpus", corpus, "--outlet", "Example News",
                   "--published", "2024-03", "--date-basis", "stated", check=0)
    sha = hashlib.sha256(new.read_bytes()).hexdigest()
    doc_id = f"001_{sha[:16]}"
    assert f"as '{doc_id}'" in proc.stdout
    assert (corpus / f"{doc_id}.txt").read_bytes() == new.read_bytes()
    rows = list(csv.DictReader(open(corpus / "manifest.csv", encoding="utf-8")))
    assert rows[-1]["sha256"] == sha and rows[-1]["outlet"] == "Example News"
    assert rows[0]["doc_id"] == "a"  # existing rows kept
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    assert len(table(tmp_path / "o", "documents")) == 2


def test_add_refuses_a_duplicate_article_and_bad_metadata(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    copy = tmp_path / "copy.txt"
    copy.write_text(ARTICLE)
    before = (corpus / "manifest.csv").read_bytes()
    proc = run_cli("add", copy, "--corpus", corpus, "--published", "March 2024")
    assert proc.returncode == 2
    assert "the corpus already holds this article as 'a'" in proc.stderr
    assert "--published: 'March 2024' is not a date" in proc.stderr
    assert (corpus / "manifest.csv").read_bytes() == before


def test_add_creates_a_manifest_for_a_new_corpus(tmp_path):
    new = tmp_path / "first.html"
    new.write_text("<html><body><p>x</p></body></html>")
    run_cli("add", new, "--corpus", tmp_path / "fresh", "--doc-id", "first", check=0)
    rows = list(csv.DictReader(open(tmp_path / "fresh" / "manifest.csv", encoding="utf-8")))
    assert [(r["doc_id"], r["file"]) for r in rows] == [("first", "first.html")]


def test_checksums_fills_only_missing_values(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode(), "b.txt": b"Body.\n"},
                          checksums=False)
    proc = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    assert "2 manifest row(s) have no sha256" in proc.stderr
    run_cli("checksums", "--corpus", corpus, check=0)
    rows = list(csv.DictReader(open(corpus / "manifest.csv", encoding="utf-8")))
    assert rows[1]["sha256"] == hashlib.sha256(b"Body.\n").hexdigest()
    proc = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    assert "no sha256" not in proc.stderr


def test_synthetic_articles_are_never_written_into_a_research_corpus(seed_corpus):
    before = sorted(p.name for p in seed_corpus.iterdir())
    proc = run_cli("synth", "--out", seed_corpus, "--n", 3)
    assert proc.returncode == 2
    assert "synthetic articles never go into a research corpus" in proc.stderr
    assert sorted(p.name for p in seed_corpus.iterdir()) == before


def test_an_article_processed_in_pieces_gives_the_tables_of_one_processed_whole(tmp_path,
                                                                             monkeypatch):
    # A huge article's lines and segments are handed on in pieces and written
    # as they come, in row groups of a fixed number of rows; tiny pieces make
    # every seed article a huge one. The copy of an article must be set aside
    # with all of its pieces.
    import pyarrow.parquet as pq

    from analysis.corpus import build

    seeds = {p.name: p.read_bytes() for p in sorted(paths.RAW.glob("*.txt"))}
    first = next(iter(seeds.values()))
    corpus = write_corpus(tmp_path / "c", {**seeds, "zz_copy.txt": first})
    build.build(corpus, tmp_path / "whole", jobs=1)
    monkeypatch.setattr(build, "PIECE_CHARS", 300)
    monkeypatch.setattr(build, "FLUSH_BYTES", 1)
    build.build(corpus, tmp_path / "pieces", jobs=1)
    for name in TABLES:
        whole = pq.read_table(tmp_path / "whole" / f"{name}.parquet")
        pieces = pq.read_table(tmp_path / "pieces" / f"{name}.parquet")
        assert pieces.equals(whole), name
        # the same bytes: row groups do not depend on how the rows came
        assert ((tmp_path / "pieces" / f"{name}.parquet").read_bytes()
                == (tmp_path / "whole" / f"{name}.parquet").read_bytes()), name
    # row groups of the stated size, whatever the pieces: what a reader holds is bounded
    monkeypatch.setattr(build, "GROUP_ROWS", {"documents": 1, "lines": 7, "segments": 5})
    build.build(corpus, tmp_path / "small", jobs=1)
    for name, n in build.GROUP_ROWS.items():
        meta = pq.ParquetFile(tmp_path / "small" / f"{name}.parquet").metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        assert sizes[:-1] == [n] * (len(sizes) - 1) and 0 < sizes[-1] <= n, name
        assert pq.read_table(tmp_path / "small" / f"{name}.parquet").equals(
            pq.read_table(tmp_path / "whole" / f"{name}.parquet")), name
    q = table(tmp_path / "pieces", "quarantine").set_index("doc_id")
    assert q.loc["zz_copy", "reason"] == "duplicate"
    assert "zz_copy" not in set(table(tmp_path / "pieces", "segments").doc_id)
    docs = table(tmp_path / "pieces", "documents")
    assert len(docs) == len(seeds) and docs.body.notna().all()
