"""Outcome events as events: each defect found on real coverage, on a
sentence written for the test. One corpus is built once for all of them."""

import pandas as pd
import pytest

from analysis.cases.dates import resolve
from analysis.results.outcomes import SIDES, outcomes_by_type
from conftest import run_cli, table, write_corpus

ARTICLES = {
    # two indicators of one ruling in one sentence
    "double.txt": ("A Title\n\nDeng Fei won his case. The court ruled that He Qian and Zuo "
                   "Sicong violated his rights, and they were both ordered to pay damages.\n"),
    # a generic descriptor before the case is named, then after it
    "wife.txt": ("A Title\n\nHis wife wrote a long post on Weibo.\n\n"
                 "The Alibaba manager denied the allegations. His wife apologized to the "
                 "accuser on Friday.\n"),
    # a sentence-initial pronoun that is also a registered surname
    "pronoun.txt": ("A Title\n\nThe man surnamed He sued the two women in August. He said "
                    "the court was wrong. He Qian was not involved.\n"),
    # whom an event favours when the sentence names no party
    "sides.txt": ("A Title\n\nKris Wu was detained by police. The company fired the employee "
                  "last month. The lawyer filed a lawsuit on behalf of the family.\n"),
    # an event in a paragraph that names no case, after one that names a case
    "context.txt": ("A Title\n\nKris Wu faced new questions in Beijing.\n\n"
                    "The singer was later charged with rape.\n"),
}
PUBLISHED = "2021-09-14"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("defects")
    corpus = write_corpus(root / "c", {k: v.encode() for k, v in ARTICLES.items()},
                          {k: {"published": PUBLISHED} for k in ARTICLES})
    run_cli("build", "--corpus", corpus, "--processed", root / "o", check=0)
    return root / "o"


def test_two_indicators_in_one_sentence_are_one_event(built):
    ev = table(built, "case_events")
    ruling = ev[(ev.doc_id == "double") & (ev.event == "outcome.court_ruling")]
    assert len(ruling) == 1
    assert set(ruling.indicators.iloc[0].split(",")) == {"ruled_liable", "ordered"}
    assert ruling.favours.iloc[0] == "accused"
    ledger = table(built, "case_ledger").set_index("case_id")
    assert ledger.loc["he_qian_deng_fei_2018", "favour_accused"] == 1


def test_a_descriptor_links_only_after_its_case_is_named(built):
    m = table(built, "case_mentions")
    wife = m[(m.doc_id == "wife") & (m.party_id == "wang_wife")]
    # the first paragraph's "His wife" comes before any alias: not linked
    assert list(wife.segment_id) == ["p2.s2"]
    assert set(wife.reason) == {"descriptor"} and set(wife.confidence) == {0.6}
    assert not (m[m.reason == "descriptor"].confidence == 1.0).any()


def test_a_supporter_counts_for_the_side_the_registry_gives_it(built):
    ev = table(built, "case_events")
    apology = ev[(ev.doc_id == "wife") & (ev.event == "outcome.apology")].iloc[0]
    # Wang's wife supports the accused: her apology favours the accuser
    assert apology.actor == "wang_wife" and apology.favours == "accuser"
    assert "supporter of the accused" in apology.favours_rule


def test_a_sentence_initial_he_is_a_pronoun_not_the_surname(built):
    m = table(built, "case_mentions")
    doc = m[m.doc_id == "pronoun"]
    surnames = doc[doc.reason == "surname"]
    assert "p1.s2" not in set(surnames.segment_id)  # "He said the court was wrong."
    aliases = doc[doc.reason == "alias"]
    assert {("p1.s3", "he_qian_deng_fei_2018")} <= set(zip(aliases.segment_id,
                                                           aliases.case_id))


def test_unresolved_is_kept_apart_from_neutral(built):
    ev = table(built, "case_events")
    sides = ev[ev.doc_id == "sides"].set_index("event").favours.to_dict()
    assert sides["outcome.police_action"] == "accuser"  # "was detained": passive, Kris Wu
    assert sides["outcome.employment"] == "unresolved"  # whom "the employee" is, is unknown
    assert sides["outcome.civil_suit"] == "neutral"  # filing favours neither side
    by_type = outcomes_by_type(ev, ["outcome.employment", "outcome.civil_suit"])
    assert list(by_type.columns) == list(SIDES) + ["total"]
    assert by_type.loc["outcome.employment", "unresolved"] >= 1
    assert by_type.loc["outcome.civil_suit", "unresolved"] == 0
    ledger = table(built, "case_ledger").set_index("case_id")
    assert ledger.loc["kris_wu_2021", "unresolved"] >= 1


def test_an_event_takes_the_case_of_the_paragraph_before(built):
    ev = table(built, "case_events")
    charged = ev[(ev.doc_id == "context") & (ev.event == "outcome.prosecution")].iloc[0]
    assert charged.case_id == "kris_wu_2021" and charged.link_reason == "previous paragraph"
    assert charged.link_confidence < 0.3


@pytest.mark.parametrize("text, near, expected", [
    # the date nearest the event, not the sentence's first
    ("Police detained him in August, and prosecutors dropped the case on Sept. 6.",
     "dropped", ("2021-09-06", "day")),
    ("Police detained him in August, and prosecutors dropped the case on Sept. 6.",
     "detained", ("2021-08", "month")),
    # a date introducing the sentence belongs to its main clause
    ("On Tuesday, following his release from detention, his wife posted a statement.",
     "detention", (None, None)),
    # money and counts are never years
    ("He agreed to a payment of 2000 yuan to settle the matter.", "payment", (None, None)),
    ("A survey of 2020 employees found the problem widespread.", "survey", (None, None)),
    # the future resolves forward
    ("A ruling is expected in December.", "ruling", ("2021-12", "month")),
    ("The court will hear the appeal on Friday.", "appeal", ("2021-09-17", "day")),
    ("She said she will appeal.", "appeal", (None, None)),
])
def test_event_dates(text, near, expected):
    when = resolve(text, PUBLISHED, text.index(near))
    assert ((when.date, when.precision) if when else (None, None)) == expected


def test_ledger_order_flags_overlapping_dates():
    from analysis.cases.ledger import ledger
    import pyarrow as pa
    from analysis.cases.events import EVENTS

    rows = [dict(case_id="c", doc_id="d", segment_id="p1.s1", event="outcome.prosecution",
                 favours="accused", date="2021", start=0, evidence="dropped"),
            dict(case_id="c", doc_id="d", segment_id="p1.s2", event="outcome.police_action",
                 favours="accuser", date="2021-09-14", start=10, evidence="detained")]
    events = pa.Table.from_pandas(pd.DataFrame(rows).reindex(columns=EVENTS.names),
                                  schema=EVENTS, preserve_index=False)
    cell = ledger(events, {"c": "Case"}, {"d": "2021-10-01"}).to_pylist()[0]["criminal"]
    # 2021-09-14 starts after 2021-01-01, but "2021" may well be later: flagged
    assert cell == ("police action (favours accuser, 2021-09-14); order uncertain: "
                    "prosecution (favours accused) may be later")
