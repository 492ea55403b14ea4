"""Manual coding sheets and Krippendorff's alpha: published worked examples,
the sheet command, and every refusal of a bad sheet, by file, line and column."""

import numpy as np
import pandas as pd
import pytest

from analysis.core.parquet import read_table
from analysis.validation.agreement import alpha, alpha_table, verdict
from analysis.validation.sheets import coding_sets, held_out_problems, read_coders, read_sheets
from conftest import run_cli, write_corpus


def long_form(matrix):
    """Coders x units (None = not coded) as rows (unit_key, coder, value)."""
    return pd.DataFrame([{"unit_key": f"u{j}", "coder": f"c{i}", "value": v}
                         for i, row in enumerate(matrix) for j, v in enumerate(row)
                         if v is not None])


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the
# example with four observers, twelve units and missing values: nominal alpha 0.743.
FOUR_CODERS = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
               [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
               [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
               [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
# the same paper, two observers coding ten units as 0/1: alpha 0.095
TWO_CODERS_BINARY = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
                     [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


def test_alpha_reproduces_krippendorffs_published_worked_examples():
    assert round(alpha(long_form(FOUR_CODERS)), 3) == 0.743
    assert round(alpha(long_form(TWO_CODERS_BINARY)), 3) == 0.095


def test_units_coded_by_one_coder_do_not_count_and_undefined_alpha_says_so():
    # unit u11 is coded by one observer only; it is unpairable and changes nothing
    assert alpha(long_form(FOUR_CODERS)) == alpha(long_form(
        [row[:11] + [None] for row in FOUR_CODERS]))
    assert alpha(long_form([[1, 1, 1], [1, 1, 1]])) is None  # no variation: undefined
    assert alpha(long_form([[1, None], [None, 0]])) is None  # no unit coded twice
    assert [verdict(a) for a in (0.8, 0.7999, 0.667, 0.5, None)] == [
        "reliable", "tentative", "tentative", "unreliable", "undefined"]


def test_the_alpha_table_gives_n_and_verdict_per_code_and_pooled():
    rows = []
    for code, matrix in (("backlash.censorship", TWO_CODERS_BINARY),
                         ("issue.gender_norms", [[1, 0, 1, 0], [1, 0, 1, 0]])):
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                rows.append({"unit": "paragraph", "doc_id": "d", "segment_id": f"p{j + 1}",
                             "coder": f"c{i}", "code": code, "value": v})
    table = alpha_table(pd.DataFrame(rows)).set_index("code")
    assert table.loc["backlash.censorship", "units"] == 10
    assert table.loc["backlash.censorship", "verdict"] == "unreliable"
    assert table.loc["issue.gender_norms", "alpha"] == 1.0
    assert table.loc["issue.gender_norms", "verdict"] == "reliable"
    assert table.loc["(pooled)", "units"] == 14 and table.loc["(pooled)", "coders"] == 2


@pytest.fixture
def coders(tmp_path):
    path = tmp_path / "coders.csv"
    path.write_text("coder,description\nann,first coder\nbo,second coder\n")
    return path


def test_a_blank_sheet_is_a_reproducible_stratified_sample(seed_build, coders, tmp_path):
    args = ["sheet", "--coder", "ann", "--coders", coders, "--processed", seed_build,
            "--n", 6, "--stratify", "outlet"]
    run_cli(*args, "--out", tmp_path / "a.csv", check=0)
    run_cli(*args, "--out", tmp_path / "b.csv", check=0)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    sheet = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    units = sheet.drop_duplicates(["doc_id", "segment_id"])
    assert len(units) == 6 and units["doc_id"].nunique() == 3  # every outlet drawn
    assert set(sheet["value"]) == {""} and set(sheet["coder"]) == {"ann"}
    assert "frame.conflict.C1" in set(sheet["code"]) and "outcome.denial" not in set(
        sheet["code"])
    proc = run_cli(*args, "--out", tmp_path / "a.csv", check=2)
    assert "already exists and may hold codes; choose another name" in proc.stderr
    proc = run_cli("sheet", "--coder", "zed", "--coders", coders, "--processed", seed_build,
                   "--out", tmp_path / "c.csv", check=2)
    assert "--coder: 'zed' is not registered in" in proc.stderr


def test_a_bad_sheet_is_refused_with_every_problem_by_line_and_column(seed_build, coders,
                                                                       tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "unit,doc_id,segment_id,coder,code,value,note\n"
        "paragraph,000_8b4f6d6c62240631,p1,ann,backlash.censorship,1,\n"      # fine
        "sentence,000_8b4f6d6c62240631,p1,ann,backlash.censorship,1,\n"       # line 3
        "paragraph,000_8b4f6d6c62240631,p99,ann,backlash.censorship,1,\n"     # line 4
        "paragraph,000_8b4f6d6c62240631,p2,zed,backlash.censorship,1,\n"      # line 5
        "paragraph,000_8b4f6d6c62240631,p2,ann,backlash.shouting,1,\n"        # line 6
        "paragraph,000_8b4f6d6c62240631,p2,ann,backlash.censorship,yes,\n"    # line 7
        "paragraph,000_8b4f6d6c62240631,p1,ann,backlash.censorship,0,\n"      # line 8
        "document,nope,,ann,backlash.censorship,1,\n")                        # line 9
    proc = run_cli("agreement", sheet, "--coders", coders, "--processed", seed_build, check=2)
    for message in (
            "line 3, column unit: 'sentence' is not a unit; write document or paragraph.",
            "line 4, column segment_id: 'p99' is not a body paragraph of 000_8b4f6d6c62240631",
            "line 5, column coder: 'zed' is not a registered coder",
            "line 6, column code: 'backlash.shouting' is not a code id",
            "line 7, column value: 'yes' is not allowed; write 1 (present), 0 (absent)",
            "line 8: ann coded backlash.censorship for this unit already (sheet.csv, line 2)",
            "line 9, column doc_id: 'nope' is not a document of the processed corpus"):
        assert f"{sheet}, {message}" in proc.stderr, message
    sheet.write_text("unit,doc_id,coder,code,value,colour\n")
    proc = run_cli("agreement", sheet, "--coders", coders, "--processed", seed_build, check=2)
    assert f"{sheet}: missing column(s) segment_id; unknown column(s) colour" in proc.stderr


def test_agreement_reports_alpha_between_coders_from_their_sheets(seed_build, coders,
                                                                   tmp_path):
    rows = ["unit,doc_id,segment_id,coder,code,value,note"]
    values = {"ann": [1, 0, 1, 0, 1], "bo": [1, 0, 1, 1, 1]}
    for coder, vals in values.items():
        rows += [f"paragraph,000_8b4f6d6c62240631,p{i + 1},{coder},backlash.censorship,{v},"
                 for i, v in enumerate(vals)]
    rows.append("paragraph,000_8b4f6d6c62240631,p6,ann,backlash.censorship,,not yet")
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    proc = run_cli("agreement", tmp_path / "s.csv", "--coders", coders, "--processed",
                   seed_build, check=0)
    assert "10 coded value(s) from 1 sheet(s), 2 coder(s)." in proc.stdout
    expected = alpha(long_form([values["ann"], values["bo"]]))
    line = next(ln for ln in proc.stdout.splitlines() if "backlash.censorship" in ln)
    assert line.split() == ["paragraph", "backlash.censorship", "5", "2", f"{expected:.3f}",
                            "unreliable"]
    assert not np.isnan(expected)


def test_a_sheet_neutralises_formulas_from_the_corpus_and_reads_notes_back(coders, tmp_path):
    # a paragraph that a spreadsheet would run as a formula, and one that is a plain minus
    article = ("A Court Report\n\n"
               "=HYPERLINK(\"http://example.org\",\"click\") was posted under the article.\n\n"
               "-- The court dismissed the suit on Tuesday, the lawyer said.\n")
    corpus = write_corpus(tmp_path / "corpus", {"a.txt": article.encode()})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "processed", check=0)
    sheet_path = tmp_path / "sheet.csv"
    run_cli("sheet", "--coder", "ann", "--coders", coders, "--processed",
            tmp_path / "processed", "--n", 5, "--out", sheet_path, check=0)
    sheet = pd.read_csv(sheet_path, dtype=str, keep_default_na=False)
    texts = set(sheet["text"])
    assert "'=HYPERLINK(\"http://example.org\",\"click\") was posted under the article." in texts
    assert "'-- The court dismissed the suit on Tuesday, the lawyer said." in texts
    assert not any(t.startswith(("=", "-", "+", "@")) for t in texts)
    # a coder fills the sheet in a spreadsheet, which keeps the apostrophe before a formula
    sheet["value"] = "0"
    sheet["note"] = "'=not a formula, a note"
    sheet.to_csv(sheet_path, index=False)
    proc = run_cli("agreement", sheet_path, "--coders", coders, "--processed",
                   tmp_path / "processed", check=0)
    assert "coded value(s) from 1 sheet(s), 1 coder(s)" in proc.stdout
    processed = tmp_path / "processed"
    coded = read_sheets([sheet_path], sorted(set(sheet["code"])),
                        read_table("documents", processed), read_table("segments", processed),
                        read_coders(coders))
    assert set(coded["note"]) == {"=not a formula, a note"}


def test_an_evaluation_sheet_draws_only_documents_no_development_sheet_names(
        seed_build, coders, tmp_path):
    coding = tmp_path / "coding"
    (coding / "evaluation").mkdir(parents=True)
    # a development sheet naming two of the three seed documents, one of them not coded yet
    (coding / "dev_ann.csv").write_text(
        "unit,doc_id,segment_id,coder,code,value,note\n"
        "paragraph,000_8b4f6d6c62240631,p1,ann,backlash.censorship,1,\n"
        "paragraph,001_edab2e6d0a5b9686,p2,ann,backlash.censorship,,\n")
    args = ["sheet", "--coder", "ann", "--coders", coders, "--processed", seed_build,
            "--n", 50, "--evaluation", "--coding", coding]
    proc = run_cli(*args, "--out", coding / "evaluation" / "blind_ann.csv", check=0)
    sheet = pd.read_csv(coding / "evaluation" / "blind_ann.csv", dtype=str,
                        keep_default_na=False)
    assert set(sheet["doc_id"]) == {"002_5d940f0a5119fa01"}
    segments = read_table("segments", seed_build)
    body = segments[(segments["unit"] == "paragraph") & (segments["role"] == "body")
                    & (segments["doc_id"] == "002_5d940f0a5119fa01")]
    assert sheet["segment_id"].nunique() == len(body)  # all of its paragraphs, no more
    assert "drawn from the 1 documents no development sheet names" in proc.stdout
    assert "code them blind" in proc.stdout.lower()
    # an evaluation sheet written anywhere else would be read as development
    proc = run_cli(*args, "--out", coding / "blind_bo.csv", check=2)
    assert f"--out: an evaluation sheet goes in {coding / 'evaluation'}/" in proc.stderr
    assert not (coding / "blind_bo.csv").exists()


def test_an_evaluation_unit_from_a_development_document_is_named_with_the_fix():
    coded = pd.DataFrame({
        "set": ["development", "evaluation", "evaluation", "evaluation"],
        "sheet": ["dev.csv", "evaluation/e.csv", "evaluation/e.csv", "evaluation/e.csv"],
        "line": [2, 2, 3, 4], "doc_id": ["d1", "d2", "d1", "d1"]})
    problems = held_out_problems(coded)
    assert problems == [
        "evaluation/e.csv, line 3, column doc_id: d1 is coded in a development sheet too, so "
        "it is not held out; draw evaluation units with `analysis sheet --evaluation` (it "
        "leaves development documents out), or move this sheet out of evaluation/ to count "
        "it as development."]
    assert held_out_problems(coded[coded["doc_id"] != "d1"]) == []


def test_coding_sets_split_a_folder_into_development_and_evaluation(tmp_path):
    (tmp_path / "evaluation").mkdir()
    for name in ("coders.csv", "b.csv", "a.csv", "evaluation/x.csv", "notes.txt"):
        (tmp_path / name).write_text("")
    sets = coding_sets(tmp_path, "coders.csv")
    assert list(sets) == ["evaluation", "development"]
    assert [p.name for p in sets["development"]] == ["a.csv", "b.csv"]
    assert [p.name for p in sets["evaluation"]] == ["x.csv"]
    assert coding_sets(tmp_path / "evaluation", "coders.csv") == {
        "development": [tmp_path / "evaluation" / "x.csv"]}
    assert coding_sets(tmp_path / "none", "coders.csv") == {}
