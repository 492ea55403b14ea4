"""Chinese sentences, dates, case names and words. Every sentence here was
written for these tests."""

import pytest

from analysis.cases.dates import resolve
from analysis.cases.registry import load_registry
from analysis.core import paths
from analysis.corpus.cleaning import load_rules
from analysis.corpus.segmenting import sentence_spans
from analysis.validation.words import words
from conftest import run_cli, table, write_corpus

RULES = load_rules(paths.CLEANING_RULES)


def test_chinese_sentences_end_at_chinese_punctuation_with_their_quotes():
    text = ("她说：“我不会放弃。”法院驳回了起诉；她表示将上诉……律师称「证据充分！」"
            "真的吗?他没有回答。The court met on Monday. It ruled.")
    got = [text[a:b] for a, b in sentence_spans(text, 0, len(text), RULES)]
    assert got == ["她说：“我不会放弃。”", "法院驳回了起诉；", "她表示将上诉……",
                   "律师称「证据充分！」", "真的吗?", "他没有回答。",
                   "The court met on Monday.", "It ruled."]


@pytest.mark.parametrize("text, published, expected", [
    ("法院于2021年9月14日开庭。", None, ("2021-09-14", "day", False)),
    ("２０２１年９月１４日，法院开庭。", None, ("2021-09-14", "day", False)),
    ("9月14号，法院开庭。", "2023-11-09", ("2023-09-14", "day", True)),
    ("12月3日，法院宣判。", "2023-11-09", ("2022-12-03", "day", True)),  # the last 3 December
    ("2021年9月，她提起诉讼。", None, ("2021-09", "month", False)),
    ("她在9月提起诉讼。", "2023-11-09", ("2023-09", "month", True)),
    ("2018年，她发文指控。", None, ("2018", "year", False)),
    ("上周二，警方发布通报。", "2023-11-09", ("2023-10-31", "day", True)),  # a Thursday
    ("周二，警方发布通报。", "2023-11-09", ("2023-11-07", "day", True)),
    ("星期日，她接受了采访。", "2023-11-09", ("2023-11-05", "day", True)),
    ("昨天，她发文回应。", "2023-11-09", ("2023-11-08", "day", True)),
    ("上周，她发文回应。", "2023-11-09", ("2023-11-02", "week", True)),
    ("上个月，她发文回应。", "2023-01-09", ("2022-12", "month", True)),
    ("去年，她发文回应。", "2023-11", ("2022", "year", True)),
    ("昨天，她发文回应。", "2023-11", ("2023-11", "month", True)),  # only the month is known
    ("去年，她发文回应。", None, (None, None, True)),
])
def test_chinese_dates_resolve_with_precision_and_approximate_flags(text, published, expected):
    when = resolve(text, published)
    assert (when.date, when.precision, when.approximate) == expected


@pytest.mark.parametrize("text", ["他要求对方赔偿2000元。", "这是80年代的事。", "13月的事"])
def test_money_decades_and_impossible_months_are_not_dates(text):
    when = resolve(text, "2023-11-09")
    assert when is None or when.date is None


def test_every_registered_case_has_chinese_names():
    registry = load_registry()
    for case in registry.cases:
        names = list(case.aliases) + [a for p in case.parties for a in p.aliases]
        assert any("\u4e00" <= ch <= "\u9fff" for n in names for ch in n), case.case_id


def test_chinese_names_link_sentences_to_their_cases(tmp_path):
    article = ("弦子案二审宣判\n\n"
               "弦子诉朱军一案今天在北京二审宣判。\n\n"
               "另据報道，吳亦凡因強姦罪被判處有期徒刑。吴某凡的律师表示将上诉。\n\n"
               "阿里女员工周某此前实名举报王某文。\n\n"
               "如何看待这些案件，何时才有定论，各方看法不一。\n")
    corpus = write_corpus(tmp_path / "c", {"zh.txt": article.encode()},
                          {"zh.txt": {"published": "2022-08-11"}})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    raw = (corpus / "zh.txt").read_text(encoding="utf-8")
    m = table(tmp_path / "o", "case_mentions")
    named = m[m.reason == "alias"]
    assert set(zip(named.evidence, named.case_id)) == {
        ("弦子", "zhou_xiaoxuan_zhu_jun_2018"), ("朱军", "zhou_xiaoxuan_zhu_jun_2018"),
        ("吳亦凡", "kris_wu_2021"), ("吴某凡", "kris_wu_2021"),
        ("阿里女员工", "alibaba_2021"), ("周某", "alibaba_2021"), ("王某文", "alibaba_2021")}
    for row in named.itertuples():
        assert raw[row.start:row.end] == row.evidence
    # 何 alone begins 如何 and 何时: no case is linked by it
    last = m[m.segment_id.str.startswith("p4")]
    assert not len(last)


def test_chinese_text_is_cut_into_words_for_the_baseline_and_topics():
    assert words("法院驳回了弦子的上诉。The Court ruled.") == [
        "法院", "驳回", "了", "弦子", "的", "上诉", "the", "court", "ruled"]
    assert words("法院駁回了上訴") == words("法院驳回了上诉")  # traditional read as simplified
