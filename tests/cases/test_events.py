"""Outcome events: linking to cases, whom they favour, dates, unlinked events,
and the ledger."""

import pytest

from analysis.cases.dates import resolve
from analysis.cases.registry import load_registry
from conftest import run_cli, table, write_corpus

W = "000_8b4f6d6c62240631", "001_edab2e6d0a5b9686", "002_5d940f0a5119fa01"


def _event(events, case, segment, event):
    rows = events[(events.case_id == case) & (events.segment_id == segment)
                  & (events.event == event)]
    assert len(rows), (case, segment, event)
    return rows.iloc[0]


def test_seed_cases_have_their_main_events_with_the_side_they_favour(seed_build):
    ev = table(seed_build, "case_events")
    ruled = _event(ev, "chengdu_metro_2023", "p6.s1", "outcome.court_ruling")
    assert ruled.favours == "accuser" and ruled.target == "accusers"  # "the two women"
    suit = _event(ev, "chengdu_metro_2023", "p5.s2", "outcome.civil_suit")
    assert (suit.actor, suit.date, suit.date_precision) == ("he", "2023-08", "month")
    assert suit.date_approximate and suit.date_text == "In August"
    assert _event(ev, "he_qian_deng_fei_2018", "p2.s8", "outcome.court_ruling").favours == "accused"
    assert _event(ev, "he_qian_deng_fei_2018", "p2.s9", "outcome.court_ruling").date == "2021-01"
    dropped = _event(ev, "alibaba_2021", "p2.s2", "outcome.prosecution")
    assert dropped.favours == "accused" and dropped.date == "2021-09-07"  # "Last week"
    assert dropped.date_precision == "week"
    assert _event(ev, "alibaba_2021", "p2.s1", "outcome.employment").favours == "accuser"
    # "was fired and detained by police": passive, so against the party named before
    detained = _event(ev, "alibaba_2021", "p2.s1", "outcome.police_action")
    assert detained.favours == "accuser" and "passive" in detained.favours_rule
    leak = _event(ev, "alibaba_2021", "p10.s1", "outcome.employment")
    assert (leak.target, leak.favours) == ("leakers", "accused")
    assert "kris_wu_2021" not in set(ev.case_id)
    # an event in a sentence naming two cases goes to the case whose party it names
    apologies = ev[(ev.segment_id == "p11.s1") & (ev.event == "outcome.apology")]
    assert list(apologies.case_id) == ["guangzhou_metro_2023"]


def test_event_evidence_is_exact_raw_text(seed_build):
    from analysis.core import paths

    ev = table(seed_build, "case_events")
    for doc_id, g in ev.groupby("doc_id"):
        raw = (paths.RAW / f"{doc_id}.txt").read_text(encoding="utf-8")
        assert all(raw[s:e] == t for s, e, t in zip(g.start, g.end, g.evidence))


def test_the_ledger_has_a_row_per_case_with_traceable_cells(seed_build):
    ledger = table(seed_build, "case_ledger").set_index("case_id")
    assert list(ledger.index) == [c.case_id for c in load_registry().cases]
    assert ledger.loc["kris_wu_2021", "n_events"] == 0
    chengdu = ledger.loc["chengdu_metro_2023"]
    # the appeal he is considering, told after the ruling in the same month:
    # the order is flagged, the ruling named
    assert chengdu.civil == ("appeal (favours neutral, 2023-12); order uncertain: court ruling "
                             "(favours accuser) may be later")
    assert chengdu.civil_evidence.startswith(f"{W[0]} p9.s1:")
    alibaba = ledger.loc["alibaba_2021"]
    # the manager fired in August; the undated firing of the leakers may be later
    assert alibaba.employment == ("employment (favours accuser, 2021-08); order uncertain: "
                                  "employment (favours accused) may be later")
    # the dropped prosecution, not the detention a later clause mentions
    assert alibaba.criminal == "prosecution (favours accused, 2021-09-07)"
    assert ledger.loc["he_qian_deng_fei_2018", "balance"] < 0


def test_an_unregistered_case_gives_unlinked_events_and_a_hint_not_an_error(tmp_path):
    text = ("A Title\n\nA teacher in Nanjing was fired after students accused him. "
            "He denied the allegations. Later he sued the school.\n")
    corpus = write_corpus(tmp_path / "c", {"a.txt": text.encode()},
                          {"a.txt": {"published": "2024-05-02"}})
    proc = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    assert "unlinked events" in proc.stdout and "register their cases" in proc.stdout
    unlinked = table(tmp_path / "o", "unlinked_events")
    assert {"outcome.employment", "outcome.denial", "outcome.civil_suit"} <= set(unlinked.event)
    assert all("add the case and its parties' names" in h for h in unlinked.hint)
    assert not len(table(tmp_path / "o", "case_events"))


@pytest.mark.parametrize("text, published, expected", [
    ("On Tuesday, following his release", "2021-09-14", ("2021-09-14", "day", True)),
    ("In a video posted Wednesday", "2023-12-14", ("2023-12-13", "day", True)),
    ("Last week, prosecutors dropped", "2021-09-14", ("2021-09-07", "week", True)),
    ("in early August when", "2021-09-14", ("2021-08", "month", True)),
    ("during a trip in December", "2021-09-14", ("2020-12", "month", True)),  # the last December
    ("on June 11, two women", "2023-12", ("2023-06-11", "day", True)),
    ("handed down Tuesday", "2023-12", ("2023-12", "month", True)),  # only the month is known
    ("on Sept. 14, 2021, she", None, ("2021-09-14", "day", False)),
    ("In 2018 she spoke out", None, ("2018", "year", False)),
    ("In a video posted Wednesday", None, (None, None, True)),
])
def test_relative_dates_resolve_against_the_article_date(text, published, expected):
    when = resolve(text, published)
    assert (when.date, when.precision, when.approximate) == expected
