"""Event coding sheets: the sheet command, every refusal of a bad sheet by
file, line and column, and the event finder's agreement with hand-coded
events per type (found, case, side, date), worked by hand."""

import pandas as pd
import pytest

from analysis.core.parquet import read_table
from analysis.validation import agreement, event_sheets
from analysis.validation.sheets import read_coders
from conftest import run_cli

HEADER = "unit,doc_id,segment_id,coder,case_id,event,side,date,note\n"
DOC = "000_8b4f6d6c62240631"


@pytest.fixture
def coders(tmp_path):
    path = tmp_path / "coders.csv"
    path.write_text("coder,description\nann,first coder\nbo,second coder\n")
    return path


def test_an_event_sheet_has_one_row_per_drawn_paragraph_and_goes_in_events(
        seed_build, coders, tmp_path):
    coding = tmp_path / "coding"
    (coding / "events").mkdir(parents=True)
    args = ["sheet", "--events", "--coder", "ann", "--coders", coders, "--processed",
            seed_build, "--n", 8, "--coding", coding]
    proc = run_cli(*args, "--out", coding / "events" / "a.csv", check=0)
    assert "an event sheet of 8 paragraph(s) for ann" in proc.stdout
    sheet = pd.read_csv(coding / "events" / "a.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == ["unit", "doc_id", "segment_id", "coder", "case_id", "event",
                                   "side", "date", "note", "text"]
    assert len(sheet) == 8 and not sheet.duplicated(["doc_id", "segment_id"]).any()
    assert set(sheet["event"]) == {""} and set(sheet["unit"]) == {"paragraph"}
    assert sheet["text"].str.len().min() > 0
    # read back unfilled: nothing coded yet, nothing refused
    coded = event_sheets.read_event_sheets(
        [coding / "events" / "a.csv"], ["outcome.appeal"], ["zhou_xiaoxuan_zhu_jun_2018"],
        read_table("documents", seed_build), read_table("segments", seed_build),
        read_coders(coders))
    assert coded.empty
    # written beside the code sheets it would be read as one: refused, with the place
    proc = run_cli(*args, "--out", coding / "b.csv", check=2)
    assert f"--out: a development event sheet goes in {coding / 'events'}/" in proc.stderr
    proc = run_cli(*args, "--evaluation", "--out", coding / "events" / "c.csv", check=2)
    assert (f"--out: an evaluation event sheet goes in {coding / 'events' / 'evaluation'}/"
            in proc.stderr)
    proc = run_cli(*args, "--unit", "document", "--out", coding / "events" / "d.csv", check=2)
    assert "events are coded per body paragraph" in proc.stderr


def test_a_bad_event_sheet_is_refused_with_every_problem_by_line_and_column(
        seed_build, coders, tmp_path):
    sheet = tmp_path / "events.csv"
    case = "chengdu_metro_2023"
    sheet.write_text(
        HEADER
        + f"paragraph,{DOC},p2,ann,{case},outcome.court_ruling,accuser,2023-09,\n"  # fine
        + f"paragraph,{DOC},p2,ann,{case},outcome.verdict,accuser,,\n"              # line 3
        + f"paragraph,{DOC},p2,ann,no_such_case,outcome.appeal,neutral,,\n"         # line 4
        + f"paragraph,{DOC},p2,ann,{case},outcome.appeal,winner,,\n"                # line 5
        + f"paragraph,{DOC},p2,ann,{case},outcome.appeal,neutral,2023-02-30,\n"     # line 6
        + f"paragraph,{DOC},p2,ann,{case},outcome.court_ruling,accuser,,\n"         # line 7
        + f"paragraph,{DOC},p3,ann,{case},none,,,\n"                                # line 8
        + f"paragraph,{DOC},p2,ann,,none,,,\n"                                      # line 9
        + f"document,{DOC},,ann,{case},outcome.appeal,neutral,,\n"                  # line 10
        + f"paragraph,{DOC},p4,ann,{case},,accused,,\n"                             # line 11
        + f"paragraph,{DOC},p4,ann,{case},outcome.appeal,neutral,Aug 2022,\n")      # line 12
    proc = run_cli("agreement", sheet, "--coders", coders, "--processed", seed_build, check=2)
    for message in (
            "line 3, column event: 'outcome.verdict' is not an outcome event type",
            "line 4, column case_id: 'no_such_case' is not a registered case",
            "line 5, column side: 'winner' is not a side; write accuser, accused, neutral, "
            "unresolved.",
            "line 6, column date: '2023-02-30' is not a date; write YYYY, YYYY-MM or "
            "YYYY-MM-DD",
            "line 7: ann wrote this event for this paragraph already (events.csv, line 2)",
            "line 8: a none row has no case, side or date",
            "line 10, column unit: 'document'; events are coded per body paragraph",
            "line 11, column event: empty, but the row has a case, side or date",
            "line 12, column date: 'Aug 2022' is not a date"):
        assert f"{sheet}, {message}" in proc.stderr, message
    assert (f"events.csv, line 9: ann wrote none for {DOC} p2 and also an event for it; "
            "delete the none row.") in proc.stderr
    sheet.write_text("unit,doc_id,segment_id,coder,case_id,event,side,colour\n")
    proc = run_cli("agreement", sheet, "--coders", coders, "--processed", seed_build, check=2)
    assert f"{sheet}: missing column(s) date; unknown column(s) colour" in proc.stderr


def coded(*rows, set_name="development"):
    """Event sheet rows (doc, paragraph, coder, case, event, side, date)."""
    return pd.DataFrame([{"set": set_name, "sheet": "s.csv", "line": i + 2, "unit": "paragraph",
                          "doc_id": d, "segment_id": s, "coder": c, "case_id": k, "event": e,
                          "side": side, "date": date, "note": ""}
                         for i, (d, s, c, k, e, side, date) in enumerate(rows)])


def finder(*rows):
    """Finder events (doc, sentence, case, event, favours, date)."""
    return pd.DataFrame([(d, s, k, e, f, date, "ind", "ev") for d, s, k, e, f, date in rows],
                        columns=["doc_id", "segment_id", "case_id", "event", "favours", "date",
                                 "indicator", "evidence"])


TYPES = ["outcome.appeal", "outcome.allegation", "outcome.police_action"]


def test_the_finder_against_hand_coded_events_worked_by_hand():
    sheet = coded(("d", "p1", "ann", "A", "outcome.appeal", "accuser", "2022-08"),
                  ("d", "p1", "ann", "A", "outcome.police_action", "accused", "2021"),
                  ("d", "p2", "ann", "", "none", "", ""),
                  ("d", "p3", "ann", "B", "outcome.allegation", "neutral", ""))
    events = finder(("d", "p1.s2", "A", "outcome.appeal", "accuser", "2022-08-11"),  # all right
                    ("d", "p1.s1", "B", "outcome.police_action", "accused", None),   # wrong case
                    ("d", "p2.s1", "A", "outcome.appeal", "neutral", None))          # extra
    unlinked = finder(("d", "p3.s1", None, "outcome.allegation", None, None))  # found, no case
    table = event_sheets.event_agreement(sheet, events, unlinked.drop(columns=["case_id",
                                                                             "favours", "date"]),
                                         TYPES, n_boot=0).set_index("code")
    # presence per paragraph and type: 3 paragraphs x 3 types
    assert table.loc["(pooled)", "units"] == 9
    assert table.loc["outcome.appeal", ["tp", "fp", "fn"]].tolist() == [1, 1, 0]
    assert table.loc["outcome.allegation", ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    assert table.loc["outcome.police_action", ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    # of the three hand-coded events, all three types found; cases right on the appeal only
    assert table.loc["(pooled)", event_sheets.MATCH].tolist() == [3, 1, 1, 1, 1]
    assert table.loc["outcome.police_action", ["events", "case_right"]].tolist() == [1, 0]
    status = event_sheets.status(table.reset_index())
    assert status["set"] == "development" and status["paragraphs"] == 3
    assert status["short"] == "not validated; development fit only"
    assert "F1 0.86" in status["phrase"] and "side right on 1.00" in status["phrase"]


def test_a_date_agrees_at_the_coarser_precision_and_a_side_must_match():
    sheet = coded(("d", "p1", "ann", "A", "outcome.appeal", "accuser", "2022"),
                  ("d", "p2", "ann", "A", "outcome.appeal", "accuser", "2022-09"),
                  ("d", "p3", "ann", "A", "outcome.appeal", "accuser", "2022-09"))
    events = finder(("d", "p1.s1", "A", "outcome.appeal", "accuser", "2022-08-11"),
                    ("d", "p2.s1", "A", "outcome.appeal", "accuser", "2022-08"),
                    ("d", "p3.s1", "A", "outcome.appeal", "unresolved", "2022-09"))
    table = event_sheets.event_agreement(sheet, events, finder(), TYPES,
                                         n_boot=0).set_index("code")
    # p1 agrees (2022 holds 2022-08-11), p2 does not, p3 has the wrong side
    assert table.loc["outcome.appeal", event_sheets.MATCH].tolist() == [3, 3, 2, 2, 1]


def test_evaluation_and_development_events_are_scored_apart_and_the_status_says_which():
    dev = coded(("d1", "p1", "ann", "A", "outcome.appeal", "neutral", ""))
    held = coded(("d2", "p1", "ann", "A", "outcome.appeal", "neutral", ""),
                 ("d2", "p2", "ann", "", "none", "", ""), set_name="evaluation")
    events = finder(("d1", "p1.s1", "A", "outcome.appeal", "neutral", None))
    table = event_sheets.event_agreement(pd.concat([dev, held]), events, finder(),
                                         TYPES, n_boot=0)
    assert list(table["set"].unique()) == ["evaluation", "development"]
    pooled = table[table["code"] == "(pooled)"].set_index("set")
    assert pooled.loc["evaluation", ["tp", "fn"]].tolist() == [0, 1]
    assert pooled.loc["development", ["tp", "fn"]].tolist() == [1, 0]
    status = event_sheets.status(table)
    assert status["short"] == "validated on 2 held-out paragraphs"
    assert event_sheets.status(table.iloc[:0])["short"] == "not validated"


def test_coders_agree_on_presence_and_side_per_event_type():
    sheet = coded(("d", "p1", "ann", "A", "outcome.appeal", "accuser", ""),
                  ("d", "p1", "bo", "A", "outcome.appeal", "accuser", ""),
                  ("d", "p2", "ann", "A", "outcome.appeal", "accused", ""),
                  ("d", "p2", "bo", "A", "outcome.appeal", "neutral", ""),
                  ("d", "p3", "ann", "A", "outcome.allegation", "neutral", ""),
                  ("d", "p3", "bo", "", "none", "", ""))
    presence = event_sheets.presence(sheet, TYPES)
    assert len(presence) == 3 * 2 * 3  # paragraphs x coders x types
    table = agreement.alpha_table(presence).set_index("code")
    assert table.loc["outcome.appeal", "alpha"] == 1.0  # both wrote an appeal in p1 and p2
    assert table.loc["outcome.allegation", "verdict"] == "unreliable"
    side = event_sheets.side_alpha(sheet, TYPES).set_index("code")
    assert side.loc["outcome.appeal", "units"] == 2
    assert side.loc["outcome.appeal", "alpha"] == pytest.approx(agreement.alpha(pd.DataFrame(
        {"unit_key": ["p1", "p1", "p2", "p2"], "coder": ["ann", "bo", "ann", "bo"],
         "value": [0, 0, 1, 2]})))
    assert "outcome.allegation" in side.index and side.loc["outcome.allegation", "units"] == 0


def test_agreement_reads_code_and_event_sheets_and_reports_alpha_per_event_type(
        seed_build, coders, tmp_path):
    case = "chengdu_metro_2023"
    events = tmp_path / "events.csv"
    events.write_text(
        HEADER
        + f"paragraph,{DOC},p2,ann,{case},outcome.court_ruling,accuser,,\n"
        + f"paragraph,{DOC},p2,bo,{case},outcome.court_ruling,accuser,2023-09,\n"
        + f"paragraph,{DOC},p3,ann,,none,,,\n"
        + f"paragraph,{DOC},p3,bo,{case},outcome.appeal,neutral,,\n")
    codes = tmp_path / "codes.csv"
    codes.write_text("unit,doc_id,segment_id,coder,code,value,note\n"
                     f"paragraph,{DOC},p1,ann,backlash.censorship,1,\n")
    proc = run_cli("agreement", codes, events, "--coders", coders, "--processed", seed_build,
                   check=0)
    assert "1 coded value(s) from 1 sheet(s), 1 coder(s)." in proc.stdout
    assert "3 event(s) in 2 paragraph(s) from 1 event sheet(s), 2 coder(s)." in proc.stdout
    tables = {}
    for words in map(str.split, proc.stdout.splitlines()):
        if words[:1] == ["paragraph"] and words[1].startswith("outcome."):
            tables.setdefault(words[1], []).append(words)
    # presence: both coders coded p2 and p3 (2 pairable paragraphs); only one wrote the appeal
    presence, side = tables["outcome.court_ruling"]
    assert presence[2:4] == ["2", "2"] and presence[-2:] == ["1.000", "reliable"]
    assert tables["outcome.appeal"][0][-1] == "unreliable"
    # side: one (paragraph, case, ruling) written by both, on the same side: no variation
    assert side[2:] == ["1", "2", "-", "undefined"]
