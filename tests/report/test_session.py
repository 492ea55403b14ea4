"""What a notebook's session promises: corpus text in a sentence of
interpretation shows as text, never as markup or maths."""

from analysis.report.session import escape_markdown


def test_corpus_text_in_a_sentence_is_escaped_for_markdown_html_and_maths():
    assert escape_markdown("<b>Sixth Tone</b>") == r"&lt;b&gt;Sixth Tone&lt;/b&gt;"
    assert escape_markdown("*bold* [link](x) #tag") == r"\*bold\* \[link\]\(x\) \#tag"
    # JupyterLab and nbconvert typeset $...$ as maths; an escaped $ shows as itself
    assert escape_markdown("a $5 fine and $6 costs") == r"a \$5 fine and \$6 costs"


def test_chunks_of_whole_documents_hold_every_selected_row_once_and_add_up(seed_build, tmp_path):
    import pandas as pd

    from analysis.report.session import Session
    from analysis.results import corpus, measures

    nb = Session(seed_build, tmp_path / "out")
    assert nb.n_documents == 3
    whole = nb.table("segments", columns=["doc_id", "segment_id", "unit"],
                     filters=[("unit", "=", "paragraph")])
    # one document per chunk, two tables side by side
    chunks = list(nb.chunks(("segments", ["doc_id", "segment_id", "unit"],
                             [("unit", "=", "paragraph")]),
                            ("lines", ["doc_id", "line_no", "role", "rule", "start", "end"]),
                            docs=1))
    assert len(chunks) == 3
    for paragraphs, lines in chunks:
        assert paragraphs["doc_id"].nunique() == 1
        assert set(lines["doc_id"]) == set(paragraphs["doc_id"])
        assert list(paragraphs.columns) == ["doc_id", "segment_id", "unit"]
    assert pd.concat([p for p, _ in chunks], ignore_index=True).equals(whole)
    lines = nb.table("lines")
    assert corpus.added_audits([corpus.cleaning_audit(x) for _, x in chunks]).equals(
        corpus.cleaning_audit(lines))
    assert corpus.joined_roles([corpus.roles_by_document(x) for _, x in chunks]).equals(
        corpus.roles_by_document(lines))
    labels = nb.read("code_labels")
    codes = measures.codes_of(labels, "backlash") + measures.codes_of(labels, "issue_frame")
    pairs = sum(measures.cooccurrence(measures.unit_codes(part, labels), codes, codes)
                for part in nb.chunks(("codes", ["doc_id", "segment_id", "role", "code"]),
                                      docs=1))
    assert pairs.equals(measures.cooccurrence(
        measures.unit_codes(nb.table("codes"), labels), codes, codes))
    # two samples by position in one pass, each in the order its positions came
    first, second = nb.pick("segments", [[2, 0], [1]], ["doc_id", "segment_id", "unit"],
                            [("unit", "=", "paragraph")])
    assert first.equals(whole.iloc[[2, 0]].reset_index(drop=True))
    assert second.equals(whole.iloc[[1]].reset_index(drop=True))
    # a selection: the other outlets' rows never come
    outlet = nb.documents["outlet"].iloc[0]
    one = Session(seed_build, tmp_path / "out", outlets=outlet)
    got = pd.concat(list(one.chunks("segments")), ignore_index=True)
    assert set(got["doc_id"]) == set(one.documents["doc_id"]) and got["doc_id"].nunique() < 3


def test_a_table_out_of_the_documents_order_is_refused_not_split(seed_build, tmp_path,
                                                                 monkeypatch):
    import shutil

    import pyarrow.parquet as pq
    import pytest

    from analysis.core.errors import InputError
    from analysis.report import session
    from analysis.report.session import Session

    # rows out of order within one batch read are sorted out; across batches not
    monkeypatch.setattr(session, "BATCH_ROWS", 5)
    processed = tmp_path / "processed"
    shutil.copytree(seed_build, processed)
    lines = pq.read_table(processed / "lines.parquet")
    pq.write_table(lines.take(list(range(lines.num_rows))[::-1]), processed / "lines.parquet")
    nb = Session(processed, tmp_path / "out")
    with pytest.raises(InputError, match="lines.parquet: rows of document .* come after"):
        list(nb.chunks("lines", docs=1))


def test_a_table_written_part_by_part_is_the_table_written_whole(seed_build, tmp_path):
    import pandas as pd

    from analysis.report import session

    nb = session.Session(seed_build, tmp_path / "out")
    rows = session.LARGE_TABLE_ROWS + 7
    big = pd.DataFrame({"code": ["a", "b"] * (rows // 2) + ["a"] * (rows % 2), "n": range(rows)})
    whole = nb.save_table(big, "whole", "A table.", "n = all").read_bytes()
    with nb.writing_table("parts", "A table.", lambda k: f"n = {k:,}") as table:
        for lo in range(0, rows, 9_999):
            table.add(big.iloc[lo:lo + 9_999])
    assert (tmp_path / "out" / "tables" / "parts.parquet").read_bytes() == whole
    info = (tmp_path / "out" / "tables" / "parts.json").read_text()
    assert f'"n = {rows:,}"' in info and f'"rows": {rows}' in info
    # a failed block writes nothing and leaves no temporary file
    try:
        with nb.writing_table("failed", "A table.", "n") as table:
            table.add(big)
            raise RuntimeError("stop")
    except RuntimeError:
        pass
    assert sorted(p.name for p in (tmp_path / "out" / "tables").iterdir()) == [
        "parts.json", "parts.parquet", "whole.json", "whole.parquet"]


def test_chunks_follow_the_documents_table_order_not_the_ids(tmp_path):
    """A manifest in no particular order: the tables are written in its order,
    and the chunks read them so (the selection itself is sorted by id)."""
    import pandas as pd

    from analysis.report.session import Session
    from conftest import ARTICLE, run_cli, write_corpus

    corpus = write_corpus(tmp_path / "corpus", {
        f"{name}.txt": ARTICLE.replace("A Headline", f"Headline {name}").encode()
        for name in ("zeta", "alpha", "mid")})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "processed", check=0)
    nb = Session(tmp_path / "processed", tmp_path / "out")
    assert list(nb.documents["doc_id"]) == ["alpha", "mid", "zeta"]
    assert list(nb.doc_ids) == ["zeta", "alpha", "mid"]
    parts = list(nb.chunks("segments", docs=1))
    assert [p["doc_id"].unique().tolist() for p in parts] == [["zeta"], ["alpha"], ["mid"]]
    assert pd.concat(parts, ignore_index=True).equals(nb.table("segments"))
