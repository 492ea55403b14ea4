"""The report's tables and figures as functions: selection by outlet and
date, counts the figures rest on, and deterministic figure files."""

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis import plots
from analysis.results import backlash, corpus, framing, measures, outcomes, selection
from analysis.core.errors import InputError

DOCS = pd.DataFrame({"doc_id": ["a", "b", "c", "d"],
                     "outlet": ["X", "X", "Y", None],
                     "published": ["2021", "2021-09", "2023-12-01", None]})


def test_a_partial_date_is_selected_when_any_of_its_days_is_in_range():
    picked, notes = selection.select_documents(DOCS, date_from="2021-09-15", date_to="2022-01-01")
    assert picked["doc_id"].tolist() == ["a", "b"]  # 2021 and 2021-09 overlap; 2023 does not
    assert notes == ["1 undated and 1 out-of-range document(s) left out"]
    picked, _ = selection.select_documents(DOCS, outlets=["Y"])
    assert picked["doc_id"].tolist() == ["c"]
    picked, notes = selection.select_documents(DOCS)
    assert len(picked) == 4 and notes == []  # no filter keeps undated documents


def test_bad_filters_are_refused_with_the_parameter_and_the_fix():
    with pytest.raises(InputError) as e:
        selection.select_documents(DOCS, outlets=["Z"], date_from="2021/01/01")
    assert "parameter date_from: '2021/01/01' is not an ISO date; write YYYY-MM-DD." in str(e.value)
    assert "parameter outlets: 'Z' is not an outlet of this corpus; the outlets are 'X', 'Y'." \
        in str(e.value)


LABELS = pd.DataFrame({"code": ["frame.c", "frame.c.C1", "frame.c.C2", "issue.x", "backlash.t"],
                       "family": ["generic_frame"] * 3 + ["issue_frame", "backlash"],
                       "label": ["Conflict frame", "C1", "C2", "X", "T"],
                       "parent": [None, "frame.c", "frame.c", None, None]})
CODES = pd.DataFrame({"doc_id": ["a", "a", "a", "b", "b"],
                      "segment_id": ["p1", "p1", "p2", "p1", "c1"],
                      "role": ["body", "body", "body", "body", "comment"],
                      "code": ["frame.c.C1", "backlash.t", "frame.c.C2", "issue.x", "backlash.t"]})


def test_a_unit_carrying_a_frame_question_carries_the_frame_and_comments_never_count():
    carried = measures.unit_codes(CODES, LABELS, "paragraph")
    assert carried.values.tolist() == [
        ["a", "p1", "backlash.t"], ["a", "p1", "frame.c"], ["a", "p1", "frame.c.C1"],
        ["a", "p2", "frame.c"], ["a", "p2", "frame.c.C2"], ["b", "p1", "issue.x"]]
    both = measures.cooccurrence(carried, ["frame.c", "backlash.t"], ["frame.c", "backlash.t"])
    assert both.values.tolist() == [[2, 1], [1, 1]]  # the diagonal: units with the code
    docs = measures.unit_codes(CODES, LABELS, "document")
    shares = measures.share_of_units(docs, ["frame.c", "backlash.t"], 2)["share"].tolist()
    assert shares == [0.5, 0.5]
    with pytest.raises(InputError, match="parameter unit: 'sentence' is not a unit"):
        measures.unit_codes(CODES, LABELS, "sentence")


def test_the_kwic_sample_is_the_same_for_the_same_seed_and_keeps_reading_order():
    rows = pd.DataFrame({"code": ["t"] * 30 + ["u"] * 2, "n": range(32)})
    a, b = backlash.kwic_sample(rows, 5, 7), backlash.kwic_sample(rows, 5, 7)
    assert a.equals(b) and len(a) == 7
    assert a["n"].tolist() == sorted(a["n"]) and a["n"].tolist()[-2:] == [30, 31]
    assert not a.equals(backlash.kwic_sample(rows, 5, 8))


def test_the_kwic_sample_drawn_chunk_by_chunk_is_the_sample_of_the_whole_table():
    rows = pd.DataFrame({"code": ["t", "u", "t"] * 40, "n": range(120)})
    whole = backlash.kwic_sample(rows, 4, 11)
    sample = rows.iloc[:0]
    for lo in range(0, 120, 25):
        sample = backlash.kwic_sample(pd.concat([sample, rows.iloc[lo:lo + 25]]), 4, 11)
    assert sample.equals(whole) and len(whole) == 8


def test_counts_of_chunks_of_whole_documents_add_up_to_those_of_them_all():
    carried = measures.unit_codes(CODES, LABELS, "paragraph")
    codes = ["frame.c", "backlash.t", "issue.x"]
    pairs = sum(measures.cooccurrence(carried[carried["doc_id"] == doc], codes, codes)
                for doc in ("a", "b"))
    assert pairs.equals(measures.cooccurrence(carried, codes, codes))
    assert measures.shares(pairs, codes, 4)["units"].tolist() == [2, 1, 1]
    doc_codes = pd.DataFrame({"doc_id": ["a", "a", "b"], "code": ["backlash.t", "issue.x",
                                                                   "issue.x"],
                              "present": [True, False, True]})
    assert measures.documents_carrying(doc_codes, codes).tolist() == [0, 1, 1]


def test_figures_are_written_as_the_same_bytes_every_time_without_dates(tmp_path):
    counts = pd.Series([3, 1], index=["Outlet A", "Outlet B"])
    for run in ("one", "two"):
        fig = plots.bars(counts, "Documents by outlet", "n = 4 documents", "Documents")
        plots.save_figure(fig, "f", tmp_path / run)
    for fmt in ("png", "svg"):
        assert (tmp_path / "one" / f"f.{fmt}").read_bytes() == (
            tmp_path / "two" / f"f.{fmt}").read_bytes()
    assert "<dc:date>" not in (tmp_path / "one" / "f.svg").read_text()
    # every figure shows its n, under its title
    fig = plots.bars(counts, "Documents by outlet", "n = 4 documents", "Documents")
    assert fig.axes[0].get_title(loc="left") == "n = 4 documents"


def test_an_empty_selection_gives_a_figure_that_says_so():
    fig = plots.heatmap(pd.DataFrame(), "Nothing", "n = 0 documents")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["No values in the selected documents"]
    fig = plots.event_timeline(pd.DataFrame(columns=["case_id", "when"]), "T", "n = 0")
    assert [t.get_text() for t in fig.axes[0].texts] == ["No dated case events in the selected "
                                                         "documents"]


def test_dollar_signs_in_labels_are_text_not_maths(tmp_path):
    # an outlet name from the corpus; as maths text it would not even parse
    counts = pd.Series({r"Cash $\frac{ Weekly $ news": 2, "$5 Daily": 1})
    fig = plots.bars(counts, "Documents by outlet", "n = 3 documents", "Documents")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    files = plots.save_figure(fig, "outlets", tmp_path, ("png", "svg"))
    assert [p.name for p in files] == ["outlets.png", "outlets.svg"]
    assert labels == [r"Cash $\frac{ Weekly $ news", "$5 Daily"]


def test_frame_scores_are_the_share_of_questions_with_the_articles_length_beside_them():
    labels = pd.DataFrame({"code": ["frame.conflict", "frame.conflict.C1", "issue.legal_process"],
                           "family": ["generic_frame", "generic_frame", "issue_frame"],
                           "parent": [None, "frame.conflict", None]})
    doc_codes = pd.DataFrame({
        "doc_id": ["b", "b", "b", "a", "a", "a"], "code": labels["code"].tolist() * 2,
        "present": [True, True, True, False, False, True], "n_segments": [1, 1, 2, 0, 0, 3],
        "share_of_paragraphs": [0.25, 0.25, 0.5, 0.0, 0.0, 1.0],
        "share_of_questions": [0.25, None, None, 0.0, None, None]})
    scores = framing.frame_scores(doc_codes, labels)
    assert scores.to_dict() == {"frame.conflict": {"a": 0.0, "b": 0.25}}
    docs = pd.DataFrame({"doc_id": ["a", "b"], "n_paragraphs": [3, 4],
                         "n_body_chars": [900, 1500]})
    table = framing.with_length(scores, docs)
    assert table.loc["b"].tolist() == [0.25, 4, 1500]
    assert list(table.columns) == ["frame.conflict", "body paragraphs", "body characters"]


def test_counts_get_whole_number_ticks_and_years_without_documents_stay_on_the_axis():
    docs = pd.DataFrame({"doc_id": ["a", "b", "c", "d"],
                         "published": ["2019-05-01", "2019", "2022-01-09", None]})
    by_year = corpus.documents_by_year(docs)
    assert by_year.to_dict("list") == {"year": ["2019", "2020", "2021", "2022", "(not given)"],
                                       "documents": [2, 0, 0, 1, 1]}
    fig = plots.bars(by_year.set_index("year")["documents"], "Years", "n = 4", "Documents")
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    assert len(ticks) and all(float(t).is_integer() for t in ticks)
    plt.close(fig)


def test_a_role_has_one_colour_whatever_roles_a_corpus_has():
    def colours(table):
        fig = plots.stacked_bars(table, "Roles", "n = 1", "Characters",
                                 colours=plots.ROLE_COLOURS)
        found = {c.get_label(): c.patches[0].get_facecolor() for c in fig.axes[0].containers}
        plt.close(fig)
        return found
    one = colours(pd.DataFrame({"title": [10], "body": [90], "comment": [5]}, index=["a"]))
    two = colours(pd.DataFrame({"body": [80], "boilerplate": [20]}, index=["b"]))
    assert one["body"] == two["body"]
    assert one["body"] != one["title"]


def test_binary_data_get_two_colours_and_a_legend_not_a_colour_scale():
    table = pd.DataFrame({"Legal process": [1, 0], "Gender norms": [0, 1]}, index=["d1", "d2"])
    fig = plots.heatmap(table, "Present", "n = 2", vmax=1, label="present (1)", binary=True)
    assert len(fig.axes) == 1  # no colour bar axes
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["present (1)", "absent (0)"]
    plt.close(fig)


def test_the_co_occurrence_diagonal_is_kept_off_the_colour_scale():
    table = pd.DataFrame([[40, 3], [3, 25]], index=["A", "B"], columns=["A", "B"])
    fig = plots.heatmap(table, "Both", "n = 50", label="paragraphs", diagonal=True)
    image = fig.axes[0].get_images()[0]
    assert image.get_clim() == (0, 3)  # the scale is the off-diagonal cells'
    assert image.get_array().mask.tolist() == [[True, False], [False, True]]
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["25", "3", "3", "40"]  # the diagonal's values are still written
    plt.close(fig)


def test_an_event_dated_to_a_year_is_drawn_over_the_year_not_on_1_january():
    events = pd.DataFrame({"case_id": ["c1", "c1"], "event": ["outcome.appeal"] * 2,
                           "favours": ["accuser", "accused"], "date": ["2021", "2022-03-04"],
                           "date_precision": ["year", "day"],
                           "date_approximate": [False, False], "doc_id": ["d", "d"],
                           "segment_id": ["p1.s1", "p2.s1"], "evidence": ["x", "y"]})
    dated = outcomes.timeline(events, pd.DataFrame({"case_id": ["c1"], "title": ["C"]}))
    assert dated["until"].dt.strftime("%Y-%m-%d").tolist() == ["2021-12-31", "2022-03-04"]
    fig = plots.event_timeline(dated, "T", "n = 2")
    ax = fig.axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections
                             if hasattr(c, "get_offsets") and len(c.get_offsets())
                             and c.__class__.__name__ == "PathCollection"])
    days = sorted(mdates.num2date(x).strftime("%Y-%m-%d") for x, _ in points)
    assert days == ["2021-07-02", "2022-03-04"]  # the middle of 2021; the day itself
    spans = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
    (start, _), (end, _) = spans[0].get_segments()[0]
    assert (mdates.num2date(start).date().isoformat(),
            mdates.num2date(end).date().isoformat()) == ("2021-01-01", "2022-01-01")
    plt.close(fig)


def test_counts_in_an_n_get_thousands_separators_on_the_figure():
    from analysis.core.formatting import thousands

    assert thousands("n = 12500 paragraphs in 1234 documents, 3 outlets") == (
        "n = 12,500 paragraphs in 1,234 documents, 3 outlets")
    fig = plots.bars(pd.Series([3, 1], index=["a", "b"]), "T", "n = 1048576 documents", "Docs")
    assert fig.axes[0].get_title(loc="left") == "n = 1,048,576 documents"
    plt.close(fig)


def test_outlet_means_added_up_in_chunks_equal_those_of_the_whole_table(monkeypatch):
    """A per-document table that comes in chunks gives the figure rows of the
    whole table: the documents themselves up to the limit, else the mean per
    outlet of the largest outlets, without the chunks being kept."""
    import numpy as np

    from analysis.results import corpus as corpus_results
    from analysis.results.selection import OutletMeans, per_document_or_outlet

    monkeypatch.setattr(OutletMeans, "COMPACT", 4)  # sums added into one every 4 chunks
    rng = np.random.default_rng(7)
    n = 500
    ids = [f"d{i:04d}" for i in range(n)]
    outlets = rng.choice(["Alpha", "Beta", "Gamma", "Delta", "Echo", None], n)
    docs = pd.DataFrame({"doc_id": ids, "outlet": outlets})
    roles = pd.DataFrame({"body": rng.integers(0, 5000, n), "boilerplate": rng.integers(0, 900, n),
                          "caption": rng.integers(0, 90, n)}, index=pd.Index(ids, name="doc_id"))
    roles.columns.name = "role"
    scores = pd.DataFrame(rng.random((n, 3)).round(3), index=roles.index,
                          columns=["frame.a", "frame.b", "frame.c"])
    # a chunk without one role's lines has no column for it
    parts = [roles.iloc[lo:lo + 37] for lo in range(0, n, 37)]
    parts[2] = parts[2].drop(columns="caption")
    for limit in (3, 40, 10_000):
        want_roles = per_document_or_outlet(corpus_results.joined_roles(parts), docs, limit)
        want_scores = per_document_or_outlet(scores, docs, limit)
        got_roles = OutletMeans(docs, limit, combine=corpus_results.joined_roles)
        got_scores = OutletMeans(docs, limit)
        for part in parts:
            got_roles.add(part)
            got_scores.add(scores.loc[part.index])
        table, per = got_roles.result()
        assert per == want_roles[1] == ("document" if limit >= n else "outlet")
        pd.testing.assert_frame_equal(table, want_roles[0])  # whole numbers: exactly
        table, per = got_scores.result()
        assert per == want_scores[1]
        pd.testing.assert_frame_equal(table, want_scores[0], check_exact=False, rtol=1e-12)
    assert len(OutletMeans(docs, 3).held) == 0
