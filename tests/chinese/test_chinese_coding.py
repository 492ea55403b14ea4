"""Chinese coverage: the codebook's Chinese indicators, negation, substring
traps, traditional characters, exact offsets, and documents in languages the
codebook does not cover. Every sentence here was written for these tests."""

import warnings

import matplotlib
import pytest

from analysis.coding.codebook import load_codebook
from analysis.coding.examples import find_codes
from analysis.coding.methods import methods_markdown
from analysis.core.chinese import fold
from analysis.core.text import join_utf8
from analysis.corpus.language import detect
from conftest import ARTICLE, run_cli, table, write_corpus

BOOK = load_codebook()


def codes(text: str) -> set:
    return {c for c, *_ in find_codes(BOOK, text)}


@pytest.mark.parametrize("text, code", [
    # one code of each family, in simplified and in traditional characters
    ("她在微博上发文指控前上司性侵。", "frame.responsibility.R4"),
    ("她說自己多年來一直活在恐懼之中。", "frame.human_interest.H2"),
    ("双方对判决结果争议很大。", "frame.conflict.C1"),
    ("她的律师表示将向北京市第一中级人民法院提起上诉。", "issue.legal_process"),
    ("相關話題在微博上遭到屏蔽，多個帳號被封。", "issue.state_control"),
    ("她在网上遭到大规模网暴，住址也被人肉搜索。", "backlash.online_abuse"),
    ("官媒文章稱這場運動背後有境外勢力。", "backlash.state_delegitimization"),
    ("检察院决定对该男子不起诉。", "outcome.prosecution"),
    ("他被警方刑事拘留。", "outcome.police_action"),
])
def test_each_code_family_has_chinese_indicators(text, code):
    assert code in codes(text)


def test_a_negated_statement_is_not_coded():
    assert "backlash.online_abuse" in codes("她遭到了网暴。")
    assert "backlash.online_abuse" not in codes("她并没有遭到网暴。")
    assert "backlash.false_accusation" in codes("网友说她是诬告。")
    assert "backlash.false_accusation" not in codes("法院认为此案并非诬告。")
    # a hedge weakens a frame question, not a reported theme
    assert "frame.responsibility.R5" in codes("这个问题亟待解决。")
    assert "frame.responsibility.R5" not in codes("这个问题或许亟待解决。")
    assert "backlash.censorship" in codes("据称她的帖子被删除。")


@pytest.mark.parametrize("text, code", [
    ("《妇女权益保障法》于2022年修订。", "issue.movement_advocacy"),  # 女权 inside 妇女权益
    ("案件已移送检察院审查起诉。", "backlash.censorship"),  # 审查 of prosecutors
    ("案件已移送检察院审查起诉。", "issue.state_control"),
    ("他最近总是接到骚扰电话。", "frame.responsibility.R4"),  # 骚扰 of a sales call
    ("检察院决定不起诉。", "outcome.civil_suit"),  # 起诉 inside 不起诉
    ("如何看待这件事，大家各有看法。", "issue.legal_process"),
    ("他是一名职业运动员。", "issue.movement_advocacy"),  # 运动 of sport
])
def test_chinese_phrases_do_not_fire_inside_unrelated_longer_words(text, code):
    assert code not in codes(text)


def test_traditional_characters_are_read_as_simplified_one_for_one():
    text = "她在網上遭到網暴，帳號被封。"
    assert fold(text) == "她在网上遭到网暴，帐号被封。"
    assert len(fold(text)) == len(text)
    assert fold("The court ruled.") == "The court ruled."
    # the buffer the coder scans: folded, with each text's byte start
    data, starts = join_utf8(["網暴", "a", "訴訟"])
    assert data.decode() == "网暴\0a\0诉讼" and starts == [0, 7, 9]


def test_evidence_offsets_point_at_the_raw_traditional_text(tmp_path):
    body = ("她在網上遭到網暴，  帖子被刪除，帳號被封禁。\n\n"
            "她說自己活在恐懼之中，律師表示將提起上訴。\n")
    article = "法院駁回訴訟　網友熱議\n\n" + body
    corpus = write_corpus(tmp_path / "c", {"tw.txt": article.encode()},
                          {"tw.txt": {"language": "zh-Hant"}})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    raw = (corpus / "tw.txt").read_text(encoding="utf-8")
    found = table(tmp_path / "o", "codes")
    assert {"backlash.online_abuse", "frame.human_interest.H2", "issue.legal_process",
            "backlash.censorship"} <= set(found.code)
    for row in found.itertuples():
        assert raw[row.start:row.end] == row.evidence  # exact, in the script written
    assert "網暴" in set(found.evidence) and "网暴" not in set(found.evidence)


def test_each_document_has_a_language_and_other_languages_are_listed_not_coded(tmp_path):
    french = ("Le tribunal rejette la plainte\n\n"
              "Le tribunal a rejeté la plainte de la jeune femme, qui a dit qu'elle ferait "
              "appel de cette décision dans les prochains jours. Elle est soutenue par des "
              "associations qui dénoncent le harcèlement sexuel au travail.\n")
    chinese = "法院驳回诉讼\n\n她在网上遭到网暴，律师表示将提起上诉。\n"
    corpus = write_corpus(tmp_path / "c", {"en.txt": ARTICLE.encode(),
                                           "zh.txt": chinese.encode(),
                                           "fr.txt": french.encode(),
                                           "given.txt": ARTICLE.encode() + b"\n"},
                          {"given.txt": {"language": "de"}})
    proc = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    docs = table(tmp_path / "o", "documents").set_index("doc_id")
    assert docs.language.to_dict() == {"en": "en", "zh": "zh", "fr": "fr", "given": "de"}
    assert docs.language_basis.to_dict() == {"en": "detected", "zh": "detected",
                                             "fr": "detected", "given": "manifest"}
    uncoded = table(tmp_path / "o", "uncoded")
    assert uncoded[["doc_id", "language"]].values.tolist() == [["fr", "fr"], ["given", "de"]]
    assert "not one the codebook covers (en, zh)" in uncoded.reason[0]
    assert "2 document(s) not coded" in proc.stderr and "de (1), fr (1)" in proc.stderr
    doc_codes = table(tmp_path / "o", "doc_codes")
    assert set(doc_codes.doc_id) == {"en", "zh"}  # no zero rows for the uncoded
    assert table(tmp_path / "o", "codes").doc_id.isin(["fr", "given"]).sum() == 0


def test_language_detection_reads_script_and_common_words():
    assert detect("法院驳回了她的诉讼请求，她表示将会上诉。") == "zh"
    assert detect("法院駁回了她的訴訟請求，她表示將會上訴。") == "zh"
    assert detect("東京地裁は女性の訴えを退けた。彼女は控訴するという。") == "ja"
    assert detect("The court dismissed her suit, and she said that she would appeal.") == "en"
    # an English article quoting Chinese names stays English
    assert detect("Zhou Xiaoxuan (周晓璇), known as Xianzi (弦子), said on Monday that she "
                  "would appeal the ruling against her in the case she brought.") == "en"
    assert detect("12 34") == "und"


def test_methods_text_lists_chinese_indicators_beside_english_ones():
    text = methods_markdown(BOOK)
    assert "The indicators cover English, Chinese" in text
    assert "English indicator `delegitimizing_labels`" in text
    line = next(x for x in text.splitlines() if "`zh_delegitimizing_labels`" in x)
    assert line.lstrip().startswith("- Chinese indicator") and '"境外势力"' in line
    assert '_没有_' in text  # the Chinese negation cues are listed with the guard


def test_a_figure_with_chinese_labels_draws_every_glyph(tmp_path):
    from analysis.plots.style import cjk_font_file, new_figure, save_figure

    fig, ax = new_figure(title="弦子诉朱軍案与阿里巴巴案", n="n = 2 篇文章")
    ax.barh([0, 1], [2, 1])
    ax.set_yticks([0, 1], ["澎湃新闻", "端傳媒"])
    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" for every empty box
        warnings.simplefilter("error")
        paths = save_figure(fig, "zh", tmp_path, ("png", "svg"))
    assert [p.name for p in paths] == ["zh.png", "zh.svg"]
    used = matplotlib.font_manager.FontProperties(family=["DejaVu Sans", "Noto Sans CJK SC"])
    assert matplotlib.font_manager.findfont(used, fallback_to_default=False)
    assert cjk_font_file().name == "NotoSansCJKsc-Regular.otf"
