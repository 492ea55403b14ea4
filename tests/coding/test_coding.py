"""The coder on real tables: evidence offsets, determinism, comments kept
apart, zero rows, the seeds' codes, key words in context and methods text."""

import pyarrow as pa
import pyarrow.parquet as pq

from analysis.core import paths
from analysis.coding.codebook import load_codebook
from analysis.coding.coder import code_segments
from analysis.coding.kwic import kwic
from analysis.coding.methods import methods_markdown
from conftest import ARTICLE, run_cli, table, write_corpus

BOOK = load_codebook()
W = "000_8b4f6d6c62240631", "001_edab2e6d0a5b9686", "002_5d940f0a5119fa01"


def test_evidence_is_exactly_the_raw_text_at_its_offsets(seed_build):
    codes = table(seed_build, "codes")
    assert len(codes) > 50
    for doc_id, g in codes.groupby("doc_id"):
        raw = (paths.RAW / f"{doc_id}.txt").read_bytes().decode("utf-8")
        for s, e, ev in zip(g.start, g.end, g.evidence):
            assert raw[s:e] == ev
    assert set(codes.source) == {"dictionary"}


def test_coding_is_deterministic(seed_build):
    segments = pq.read_table(seed_build / "segments.parquet")
    a, b = code_segments(segments, BOOK), code_segments(segments, BOOK)
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    stored = pq.read_table(seed_build / "codes.parquet")
    assert a[0].equals(stored)


def test_doc_codes_has_every_code_for_every_document_zeros_included(seed_build):
    dc = table(seed_build, "doc_codes")
    ids = [c.id for c in BOOK.codes if c.family != "outcome"]  # outcome events: per sentence
    assert len(dc) == 3 * len(ids)
    assert list(dc.code[: len(ids)]) == ids
    assert (~dc.present).sum() > 0 and (dc.n_segments[~dc.present] == 0).all()
    frames = dc[dc.code == "frame.responsibility"].set_index("doc_id")
    questions = dc[dc.code.str.startswith("frame.responsibility.")]
    for doc_id, g in questions.groupby("doc_id"):
        # S&V: the share of questions answered yes
        assert frames.loc[doc_id, "share_of_questions"] == g.present.mean()
    assert questions.share_of_questions.isna().all()
    docs = table(seed_build, "documents").set_index("doc_id")
    n_paras = dc.doc_id.map(docs.n_paragraphs)
    assert (dc.share_of_paragraphs == dc.n_segments / n_paras).all()


def test_comments_never_change_a_documents_codes(tmp_path):
    body = "A Title\n\nThe court heard the case on Monday.\n"
    comment_section = ("\nOne thought on \u201cA Title\n\n  1. State media called it a witch "
                       "hunt!\n\nLeave a Reply\n\nConnecting to %s")
    plain = write_corpus(tmp_path / "a", {"x.txt": body.encode()})
    with_comment = write_corpus(tmp_path / "b", {"x.txt": (body + comment_section).encode()})
    run_cli("build", "--corpus", plain, "--processed", tmp_path / "oa", check=0)
    run_cli("build", "--corpus", with_comment, "--processed", tmp_path / "ob", check=0)
    a, b = table(tmp_path / "oa", "doc_codes"), table(tmp_path / "ob", "doc_codes")
    assert a.equals(b)
    codes = table(tmp_path / "ob", "codes")
    hunt = codes[codes.code == "backlash.state_delegitimization"]
    assert list(hunt.role) == ["comment"] and list(hunt.segment_id) == ["c1"]


def test_seed_articles_carry_the_codes_they_plainly_carry(seed_build):
    dc = table(seed_build, "doc_codes").set_index(["doc_id", "code"])

    def present(doc, code):
        return bool(dc.loc[(doc, code), "present"])

    tone, blog, wapo = W
    for code in ("issue.legal_process", "backlash.false_accusation", "backlash.legal_retaliation",
                 "backlash.social_sanction", "backlash.gender_antagonism", "frame.conflict",
                 "frame.economic"):
        assert present(tone, code), (tone, code)
    for code in ("issue.state_control", "backlash.censorship", "backlash.legal_retaliation",
                 "issue.movement_advocacy", "frame.responsibility"):
        assert present(blog, code), (blog, code)
    for code in ("backlash.state_delegitimization", "backlash.offline_intimidation",
                 "backlash.professional_retaliation", "backlash.online_abuse",
                 "backlash.victim_credibility", "issue.gender_norms",
                 "issue.institutional_accountability"):
        assert present(wapo, code), (wapo, code)
    # and plainly absent ones
    for doc, code in ((tone, "backlash.state_delegitimization"), (tone, "backlash.censorship"),
                      (blog, "backlash.offline_intimidation"), (wapo, "backlash.censorship"),
                      (blog, "backlash.professional_retaliation")):
        assert not present(doc, code), (doc, code)


def test_kwic_shows_evidence_in_its_context(seed_build):
    k = kwic(table(seed_build, "codes"), table(seed_build, "segments"),
             "backlash.offline_intimidation", width=30)
    assert len(k) == 1
    row = k.iloc[0]
    assert row.evidence == "pushed"
    assert row.left == "...and forcibly kissing her, was"  # 30 characters, cut marked
    assert row.right.startswith("by antagonistic bystanders")
    proc = run_cli("kwic", "backlash.offline_intimidation", "--processed", seed_build, check=0)
    assert "1 piece(s) of evidence" in proc.stdout and "antagonistic bystanders" in proc.stdout
    bad = run_cli("kwic", "backlash.nonsense", "--processed", seed_build)
    assert bad.returncode == 2 and "is not a code id of codebook" in bad.stderr


def test_methods_text_is_generated_from_the_codebook():
    text = methods_markdown(BOOK)
    assert f"codebook version {BOOK.version}" in text
    for code in BOOK.codes:
        assert f"`{code.id}`" in text
    assert '"witch hunt*"' in text and "Semetko & Valkenburg" in text
    assert run_cli("methods", check=0).stdout == text


def test_a_codebook_change_recodes_and_nothing_else(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    out = tmp_path / "out"
    run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    again = run_cli("build", "--corpus", corpus, "--processed", out, check=0).stdout
    assert "Coding is up to date" in again and "nothing was written" in again
    changed = tmp_path / "codebook.yaml"
    text = paths.CODEBOOK.read_text()
    changed.write_text(text.replace('"testif*", "countersu*"]', '"testif*", "countersu*", "paragraph"]', 1))
    proc = run_cli("build", "--corpus", corpus, "--processed", out, "--codebook", changed, check=0)
    assert "is up to date" in proc.stdout  # the corpus stage did not rerun
    assert "Coded with codebook" in proc.stdout and "wrote codes.parquet" in proc.stdout
    codes = table(out, "codes")
    assert "paragraph" in set(codes.evidence.str.lower())


def test_evidence_offsets_hold_where_normalising_changes_lengths(tmp_path):
    # double spaces, a soft hyphen, a zero-width space, a decomposed é, a line break
    para = ("The caf\u0065\u0301 owner  was falsely\u00ad accused;  state\u200b media called it a "
            "witch\nhunt.  Police  found no evidence.")
    text = f"A Title\n\n{para}\n\nA second paragraph.\n"  # blank lines: wrapped lines join
    corpus = write_corpus(tmp_path / "c", {"a.txt": text.encode()})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    raw = (corpus / "a.txt").read_text(encoding="utf-8")
    codes = table(tmp_path / "o", "codes")
    found = dict(zip(codes.code, codes.evidence))
    assert found["backlash.state_delegitimization"] == "witch\nhunt"
    assert found["issue.legal_process"] == "Police"
    for s, e, ev in zip(codes.start, codes.end, codes.evidence):
        assert raw[s:e] == ev


def test_worker_processes_and_batch_sizes_give_the_same_codes(tmp_path):
    from analysis.coding.stage import code_corpus

    run_cli("synth", "--out", tmp_path / "syn", "--n", 120, "--seed", 7, check=0)
    run_cli("build", "--corpus", tmp_path / "syn", "--processed", tmp_path / "o", check=0)
    reference = {f: (tmp_path / "o" / f).read_bytes() for f in ("codes.parquet",
                                                                "doc_codes.parquet")}
    for jobs, batch_rows in ((1, 500), (2, 500), (2, 3000)):
        code_corpus(tmp_path / "o", BOOK, force=True, batch_rows=batch_rows, jobs=jobs)
        for f, data in reference.items():
            got = pq.read_table(tmp_path / "o" / f)
            assert got.equals(pq.read_table(pa.BufferReader(data))), (jobs, batch_rows, f)


def test_a_document_coded_in_pieces_gives_the_bytes_of_one_coded_at_once(tmp_path, monkeypatch):
    # a huge document is coded in pieces as it is read; tiny batches and
    # pieces make every seed article one
    from analysis.coding import stage

    out = tmp_path / "o"
    run_cli("build", "--corpus", paths.RAW, "--processed", out, check=0)
    monkeypatch.setattr(stage, "HOLD_ROWS", None)
    stage.code_corpus(out, BOOK, force=True, batch_rows=16, jobs=1)
    whole = {f: (out / f).read_bytes() for f in ("codes.parquet", "doc_codes.parquet")}
    monkeypatch.setattr(stage, "HOLD_ROWS", 16)
    for jobs in (1, 2):
        stage.code_corpus(out, BOOK, force=True, batch_rows=16, jobs=jobs)
        for f, data in whole.items():
            assert (out / f).read_bytes() == data, (jobs, f)


def test_uncoded_documents_are_those_in_languages_the_codebook_does_not_cover(tmp_path):
    from analysis.coding.stage import uncoded_documents

    languages = ["en", None, "fr", "", "zh-Hant", "EN-gb", "de", "und", "fr", "zh_CN"]
    pq.write_table(pa.table({"doc_id": [f"d{i}" for i in range(len(languages))],
                             "language": pa.array(languages, pa.string())}),
                   tmp_path / "documents.parquet")
    out = uncoded_documents(tmp_path / "documents.parquet", load_codebook())
    # in the documents' order; no language, und and en/zh in any form are coded
    assert out["doc_id"].to_pylist() == ["d2", "d6", "d8"]
    assert out["language"].to_pylist() == ["fr", "de", "fr"]
    assert all("not one the codebook covers" in r for r in out["reason"].to_pylist())
