"""The dictionary coder against human coding: consensus, precision, recall, F1
and alpha with their n, the disagreement list, the supervised baseline's
cross-validation (reproducible, and honest about too few examples), and the
topic model."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from analysis.core.parquet import read_table
from analysis.core.paths import CODERS, CODING
from analysis.validation import agreement, baseline, topics
from analysis.validation.sheets import read_coders, read_sheets, sheet_codes


def rows(*items):
    """Sheet rows from (unit, doc_id, segment_id, coder, code, value[, note])."""
    return pd.DataFrame([dict(zip(["unit", "doc_id", "segment_id", "coder", "code", "value",
                                   "note"], (*i, "")[:7])) for i in items])


def hits(*items):
    """Dictionary codes from (doc_id, segment_id, code, evidence)."""
    return pd.DataFrame([{"doc_id": d, "segment_id": s, "role": "body", "code": c,
                          "indicator": "ind", "evidence": e} for d, s, c, e in items])


def test_the_consensus_is_the_majority_and_a_tie_stays_unresolved():
    coded = rows(*[("paragraph", "d", "p1", c, "x", v) for c, v in (("a", 1), ("b", 1),
                                                                      ("c", 0))],
                 *[("paragraph", "d", "p2", c, "x", v) for c, v in (("a", 1), ("b", 0))],
                 ("paragraph", "d", "p3", "a", "x", 0))
    cons = agreement.consensus(coded).set_index("segment_id")
    assert cons.loc["p1", "value"] == 1 and not cons.loc["p1", "unanimous"]
    assert np.isnan(cons.loc["p2", "value"])
    assert cons.loc["p3", "value"] == 0 and cons.loc["p3", "coders"] == 1


def test_a_document_carries_what_any_of_its_paragraphs_carries():
    units = pd.DataFrame({"unit": ["paragraph", "paragraph", "document", "document"],
                          "doc_id": ["d", "d", "d", "e"], "segment_id": ["p1", "p2", "", ""],
                          "code": ["x"] * 4})
    codes = pd.concat([hits(("d", "p2", "x", "word")),
                       hits(("e", "c1", "x", "in a comment")).assign(role="comment")])
    assert agreement.dictionary_values(units, codes).tolist() == [0, 1, 1, 0]


def test_agreement_counts_precision_recall_f1_and_alpha_with_n():
    # six paragraphs; humans code p1-p3, the dictionary p2-p4: tp 2, fp 1, fn 1
    human = rows(*[("paragraph", "d", f"p{i}", "a", "x", int(i <= 3)) for i in range(1, 7)],
                 *[("paragraph", "d", f"p{i}", "a", "y", 0) for i in range(1, 7)])
    cons = agreement.consensus(human)
    codes = hits(*[("d", f"p{i}", "x", "w") for i in (2, 3, 4)])
    table = agreement.agreement(cons, agreement.dictionary_values(cons, codes), ["x", "y"])
    x = table.set_index("code").loc["x"]
    assert (x["units"], x["human"], x["dictionary"], x["tp"], x["fp"], x["fn"]) == (6, 3, 3, 2,
                                                                                  1, 1)
    assert x["precision"] == pytest.approx(2 / 3) and x["recall"] == pytest.approx(2 / 3)
    assert x["f1"] == pytest.approx(2 / 3)
    # binary alpha by hand: 12 pairable values, 6 of each; the coincidence
    # matrix has o_01 = 2, so alpha = 1 - (n - 1) * o_01 / (n_0 * n_1)
    assert x["alpha"] == pytest.approx(1 - 11 * 2 / (6 * 6))
    y = table.set_index("code").loc["y"]
    # nobody coded y: precision and recall are undefined, not 0 or 1
    assert np.isnan(y["precision"]) and np.isnan(y["recall"]) and np.isnan(y["f1"])
    assert y["verdict"] == "undefined"
    pooled = table.set_index("code").loc["(pooled)"]
    assert (pooled["units"], pooled["tp"], pooled["fp"], pooled["fn"]) == (12, 2, 1, 1)


def test_agreement_by_set_keeps_evaluation_and_development_apart():
    # development: p1-p4, the dictionary agrees on all; evaluation: q1-q4, it misses q1
    dev = rows(*[("paragraph", "d", f"p{i}", "a", "x", int(i <= 2)) for i in range(1, 5)])
    ev = rows(*[("paragraph", "e", f"q{i}", "b", "x", int(i <= 2)) for i in range(1, 5)])
    coded = pd.concat([dev.assign(set="development"), ev.assign(set="evaluation")],
                      ignore_index=True)
    codes = hits(("d", "p1", "x", "w"), ("d", "p2", "x", "w"), ("e", "q2", "x", "w"))
    table = agreement.by_set(coded, codes, ["x"], seed=1, n_boot=200)
    assert list(table.columns[:3]) == ["set", "unit", "code"]
    assert list(table["set"].unique()) == ["evaluation", "development"]  # the result first
    x = table[table["code"] == "x"].set_index("set")
    assert (x.loc["evaluation", "units"], x.loc["evaluation", "tp"],
            x.loc["evaluation", "fn"]) == (4, 1, 1)
    assert x.loc["evaluation", "f1"] == pytest.approx(2 / 3)
    assert (x.loc["development", "tp"], x.loc["development", "fn"]) == (2, 0)
    assert x.loc["development", "f1"] == 1.0
    # each set computed alone: the same figures as the set's own consensus
    alone = agreement.agreement(agreement.consensus(ev), agreement.dictionary_values(
        agreement.consensus(ev), codes), ["x"], 1, 200)
    assert table[table["set"] == "evaluation"].drop(columns="set").reset_index(
        drop=True).equals(alone)
    # no sheets: no rows, the same columns
    empty = agreement.by_set(coded.iloc[:0], codes, ["x"])
    assert empty.empty and list(empty.columns) == list(table.columns)


def test_every_disagreement_is_listed_with_its_evidence_and_the_coders_note():
    human = rows(("paragraph", "d", "p1", "a", "x", 1, "she names the harasser"),
                 ("paragraph", "d", "p2", "a", "x", 0), ("paragraph", "d", "p3", "a", "x", 1),
                 ("document", "d", "", "a", "x", 1))
    cons = agreement.consensus(human)
    codes = hits(("d", "p2", "x", "sued"), ("d", "p3", "x", "court"))
    texts = pd.DataFrame({"doc_id": ["d"] * 4, "segment_id": ["p1", "p2", "p3", ""],
                          "text": ["one " * 100, "two", "three", "Title"]})
    out = agreement.disagreements(cons, agreement.dictionary_values(cons, codes), codes,
                                  human, texts)
    assert out[["segment_id", "kind", "human", "dictionary"]].values.tolist() == [
        ["p1", "missed", 1, 0], ["p2", "extra", 0, 1]]
    assert out.loc[0, "human_note"] == "a: she names the harasser"
    assert out.loc[1, "evidence"] == "ind: sued"
    assert out.loc[0, "text"].endswith("…") and len(out.loc[0, "text"]) <= agreement.EXCERPT


@pytest.fixture(scope="module")
def seed_coding(seed_build):
    """The seed paragraphs, their codes and the project's hand-coded sheet (coder_a)."""
    documents, segments = read_table("documents", seed_build), read_table("segments",
                                                                             seed_build)
    labels = read_table("code_labels", seed_build)
    coded = read_sheets(sorted(p for p in CODING.glob("*.csv") if p.name != CODERS.name),
                        sheet_codes(labels), documents, segments, read_coders(CODERS))
    body = segments[(segments["unit"] == "paragraph") & (segments["role"] == "body")]
    return coded, body[["doc_id", "segment_id", "text"]], read_table("codes", seed_build)


def test_the_classifiers_cross_validation_is_reproducible(seed_coding):
    coded, body, _ = seed_coding
    cons = agreement.consensus(coded)
    c1 = cons[(cons["unit"] == "paragraph") & (cons["code"] == "frame.conflict.C1")]
    text = body.set_index(["doc_id", "segment_id"])["text"]
    texts = [text[(d, s)] for d, s in zip(c1["doc_id"], c1["segment_id"])]
    y = c1["value"].astype(int).to_numpy()
    groups = c1["doc_id"].tolist()
    first = baseline.cross_validated(texts, y, groups, seed=20261122, folds=3)
    assert np.array_equal(first, baseline.cross_validated(texts, y, groups, seed=20261122,
                                                          folds=3))
    assert len(first) == len(y) == 30 and set(first) <= {0, 1}


def test_the_classifier_learns_a_separable_code():
    rng = np.random.default_rng(1)
    filler = ["court", "police", "said", "women", "case", "online", "metro", "company"]
    texts, y = [], []
    for i in range(40):
        words = list(rng.choice(filler, 6))
        if i % 2:
            words.insert(3, "boycott")
        texts.append(" ".join(words))
        y.append(i % 2)
    pred = baseline.cross_validated(texts, y, [i // 4 for i in range(40)], seed=7)
    assert agreement.scores(np.array(y), pred)["f1"] == 1.0


def test_cross_validation_never_trains_on_a_paragraph_of_the_test_document():
    # Worked by hand: four documents of three paragraphs, each document with
    # words of its own; d1 and d2 carry the code. Cross-validation by
    # paragraph would learn a document's words from its other paragraphs and
    # score perfectly. By document, the held-out document's words were never
    # seen, so its paragraphs are all alike to the classifier (one prediction
    # each), and it cannot score perfectly with the code in two documents.
    texts, y, groups = [], [], []
    for d in range(1, 5):
        for k in range(3):
            own = "xyzw"[d - 1] * 3  # words of letters only: the tokenizer skips digits
            texts.append(f"{own}alpha {own}beta {own}gamma {own}{'klm'[k]}")
            y.append(int(d <= 2))
            groups.append(f"d{d}")
    pred = baseline.cross_validated(texts, y, groups, seed=1, folds=4)
    per_doc = pd.Series(pred).groupby(groups).nunique()
    assert (per_doc == 1).all()
    leaky = cross_val_predict(baseline.classifier(1), texts, y,
                              cv=StratifiedKFold(3, shuffle=True, random_state=1))
    assert agreement.scores(np.array(y), leaky)["f1"] == 1.0
    assert agreement.scores(np.array(y), pred)["f1"] != 1.0


def test_bootstrap_resamples_units_with_their_rows_worked_by_hand():
    # unit A: two rows where the coders agree (1/1, 0/0); unit B: two where
    # they differ (1/0, 0/1). A resample holds A twice, A and B, or B twice:
    # F1 1, 2/4 = 0.5 or 0. Rows drawn one by one would give other values.
    human, machine, units = [1, 0, 1, 0], [1, 0, 0, 1], ["A", "A", "B", "B"]
    f1, a = agreement.bootstrap_draws(human, machine, units, seed=3, n_boot=400)
    assert set(np.round(f1, 6)) == {1.0, 0.5, 0.0}
    # alpha: AA 1 (8 values, no disagreement); AB: N 8, ones 4, d 2 ->
    # 1 - 7 * 2 / 16 = 0.125; BB: d 4 -> 1 - 7 * 4 / 16 = -0.75
    assert set(np.round(a, 6)) == {1.0, 0.125, -0.75}
    ci = agreement.bootstrap(human, machine, units, seed=3, n_boot=400)
    assert (ci["f1_low"], ci["f1_high"]) == (0.0, 1.0)
    assert (ci["alpha_low"], ci["alpha_high"]) == (-0.75, 1.0)
    # one unit: every resample would be that unit, so there is no interval
    assert set(agreement.bootstrap([1, 0], [1, 1], ["A", "A"], seed=3).values()) == {None}


def test_the_two_coder_alpha_formula_is_krippendorffs():
    rng = np.random.default_rng(0)
    h, m = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    _, a = agreement.f1_alpha((h & m).sum(), ((1 - h) & m).sum(), (h & (1 - m)).sum(),
                              (h != m).sum(), (h + m).sum(), 100)
    keys = [str(i) for i in range(50)]
    table = pd.DataFrame({"unit_key": keys * 2, "coder": ["h"] * 50 + ["m"] * 50,
                          "value": np.concatenate([h, m])})
    assert float(a) == pytest.approx(agreement.alpha(table))
    # too few units for most resamples to define a figure: no interval
    assert agreement.bootstrap([1], [1], ["A"], seed=0)["alpha_low"] is None


def test_the_baseline_says_when_a_code_has_too_few_examples(seed_coding):
    coded, body, codes = seed_coding
    cons = agreement.consensus(coded)
    base = baseline.baseline(cons, agreement.dictionary_values(cons, codes), body,
                             ["frame.conflict.C1", "backlash.social_sanction"], seed=3)
    base = base.set_index("code")
    c1, sanction = base.loc["frame.conflict.C1"], base.loc["backlash.social_sanction"]
    assert c1["paragraphs"] == 30 and c1["positives"] >= 5
    assert 0 <= c1["classifier_f1"] <= 1
    assert c1["status"] == "3-fold cross-validation by document (3 documents), seed 3"
    assert np.isnan(sanction["classifier_f1"]) and np.isnan(sanction["classifier_precision"])
    assert sanction["status"].startswith("too few positive paragraphs to learn from")
    # the dictionary's own figures on the same paragraphs are still given
    assert not np.isnan(sanction["dictionary_f1"])


def test_topics_are_deterministic_and_align_with_the_coded_themes(seed_coding):
    _, body, _ = seed_coding
    a_terms, a_weights = topics.topics(body["text"], 4, seed=5)
    b_terms, b_weights = topics.topics(body["text"], 4, seed=5)
    pd.testing.assert_frame_equal(a_terms, b_terms)
    assert np.array_equal(a_weights, b_weights) and a_weights.shape == (len(body), 4)
    assert set(a_terms["topic"]) == {1, 2, 3, 4}
    # too few texts for the topics asked: no model, no error
    assert topics.topics(body["text"].head(2), 4, seed=5)[1] is None
    weights = np.array([[0.9, 0.1], [0.8, 0.0], [0.0, 0.5], [0.0, 0.0]])
    units = pd.DataFrame({"doc_id": ["d"] * 4, "segment_id": ["p1", "p2", "p3", "p4"]})
    carried = pd.DataFrame({"doc_id": ["d", "d", "d"], "unit_id": ["p1", "p3", "p4"],
                            "code": ["x", "x", "y"]})
    align = topics.topic_alignment(weights, units, carried, ["x", "y"])
    assert align.loc[1].tolist() == [0.5, 0.0] and align.loc[2].tolist() == [1.0, 0.0]
