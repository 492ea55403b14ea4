"""Furniture detectors on pages written for these tests, each imitating a real
layout (no text from any article): every detector gives the role a reader
would and names itself in the `rule` column."""

import pytest

from analysis.core import paths
from analysis.corpus import build as build_module
from analysis.corpus import seen
from analysis.corpus.cleaning import classify, load_rules
from analysis.corpus.readers import DUPLICATE
from conftest import run_cli, table, write_corpus

RULES = load_rules(paths.CLEANING_RULES)

PARA_1 = ("The appeal court in the eastern city upheld the ruling on Tuesday, saying the "
          "evidence the plaintiff gave was not enough to prove her claim against the host.")
PARA_2 = ("Supporters gathered outside the courthouse in the rain and held up blank sheets of "
          "paper, and several said they would keep following the case whatever happened.")
ZH_PARA = ("法院周二作出二审判决，认为原告提交的证据不足以证明其主张，驳回上诉，维持原判。"
           "原告在法院外对支持者表示，她会继续关注此类案件。")


def roles(text, **kw):
    """{line_no: (role, rule)} of the non-blank lines."""
    cleaned = classify(text, RULES, **kw)
    return {ln.line_no: (ln.role, ln.rule) for ln in cleaned.lines if ln.role != "blank"}


def page(*lines):
    return "\n\n".join(lines) + "\n"


def test_title_skips_navigation_and_section_labels_above_it():
    got = roles(page("Skip to main content", "World", "Society and courts",
                     "Appeal court upholds ruling against TV intern's claim", PARA_1, PARA_2))
    assert got[1] == ("boilerplate", "skip_link")
    assert got[3] == ("boilerplate", "before_title")
    assert got[5] == ("boilerplate", "before_title")
    assert got[7] == ("title", "title")
    assert got[9] == got[11] == ("body", "body")


def test_a_masthead_starting_with_the_outlets_name_is_not_the_title():
    text = page("The Valley Courier Fair News Every Morning",
                "Appeal court upholds ruling against TV intern's claim", PARA_1)
    got = roles(text, outlet="The Valley Courier")
    assert got[1] == ("boilerplate", "before_title") and got[3] == ("title", "title")


def test_a_repeated_headline_and_a_page_without_a_headline():
    got = roles(page("Appeal court upholds ruling | The Valley Courier", "By Mei Lin, Staff Writer",
                     "Appeal court upholds ruling", PARA_1))
    assert got[1] == ("title", "title")
    assert got[3] == ("credit", "byline")
    assert got[5] == ("boilerplate", "title_repeat")
    starts_with_text = roles(page(PARA_1, "Photo: AP", PARA_2))
    assert "title" not in {r for r, _ in starts_with_text.values()}


@pytest.mark.parametrize("line, role, rule", [
    ("By Mei Lin and Tom Hart, Example Wire", "credit", "byline"),
    ("BY MEI LIN | Updated 10:42 AM EDT", "credit", "byline"),
    ("Published: Tuesday, 14 September 2021, 10:59am", "credit", "timestamp"),
    ("Updated 09/14/2021 | 03:31am EDT", "credit", "timestamp"),
    ("2021年9月14日 10:30 来源：本网", "credit", "timestamp"),
    ("2021年9月14日 10:30", "credit", "timestamp"),
    ("责任编辑：王小明", "credit", "staff_credit_zh"),
    ("图片来源：视觉中国", "credit", "staff_credit_zh"),
    ("Lin Wei/AFP via Getty Images", "credit", "agency_credit"),
    ("(Reuters)", "credit", "agency_credit"),
    ("Courtesy of a family member.", "credit", "courtesy_credit"),
    ("Copyright 2021 Example Wire. All rights reserved.", "credit", "copyright"),
    ("A version of this article appeared in print on page A8.", "credit", "print_note"),
    ("Share on Facebook | Share on Twitter | Email", "boilerplate", "share_buttons"),
    ("分享到：微信 微博 QQ", "boilerplate", "share_buttons"),
    ("Sign up for our free daily newsletter", "boilerplate", "newsletter_prompt"),
    ("Leave a comment", "boilerplate", "comment_furniture"),
    ("Your email address will not be published.", "boilerplate", "comment_furniture"),
    ("发表评论", "boilerplate", "comment_furniture"),
    ("Subscribe to continue reading this story.", "boilerplate", "paywall"),
    ("Advertisement", "boilerplate", "advertisement"),
    ("广告", "boilerplate", "advertisement"),
    ("Sponsored", "boilerplate", "advertisement"),
    ("1,024 views", "boilerplate", "counter"),
    ("Read more: Court rejects an activist's appeal", "boilerplate", "read_more"),
    ("Related: Court rejects an activist's appeal", "boilerplate", "related_link"),
    ("相关阅读", "boilerplate", "related_link"),
    ("Read this: A singer is detained in Beijing", "boilerplate", "related_link"),
    ("Watch: The activist speaks outside the court", "boilerplate", "related_link"),
    ("当前位置：首页 > 新闻 > 社会", "boilerplate", "breadcrumb"),
    ("News / China / Society", "credit", "agency_credit"),
    ("跳转至内容", "boilerplate", "skip_link_zh"),
    ("Reading time: 4 minutes", "boilerplate", "reading_time"),
    ("https://example.org/p/4xk2", "boilerplate", "bare_url"),
    ("Please use another browser, as this one is not supported.", "boilerplate", "browser_warning"),
])
def test_furniture_lines_between_paragraphs(line, role, rule):
    got = roles(page("Appeal court upholds ruling against TV intern's claim", PARA_1, line,
                     PARA_2))
    assert got[5] == (role, rule)
    assert got[3] == got[7] == ("body", "body")


@pytest.mark.parametrize("line", [
    "By contrast, the lower court had heard only one witness in the case.",
    "Related to this, the university set up a new office for complaints.",
    "She asked whether he/she had seen it (he/she did not).",
    "On Tuesday, 14 September 2021, the court ruled against her.",
    "Photos circulated online showed the two men at the dinner.",
    "她说，此事与分享经济无关。",
])
def test_sentences_that_look_like_furniture_stay_body(line):
    got = roles(page("Appeal court upholds ruling against TV intern's claim", PARA_1, line))
    assert got[5] == ("body", "body")


def test_photo_caption_block_in_a_blank_separated_page():
    got = roles(page("Appeal court upholds ruling against TV intern's claim",
                     "Supporters outside the court\nLin Wei/AFP via Getty Images",
                     PARA_1, PARA_2))
    assert got[3] == ("caption", "figure_block")
    assert got[4] == ("credit", "agency_credit")
    assert got[6] == got[8] == ("body", "body")


def test_caption_with_its_credit_and_its_alt_text_above():
    got = roles(page("Appeal court upholds ruling against TV intern's claim",
                     "Supporters outside the court",
                     "Supporters outside the court, Tuesday. Photo: Lin Wei / Example Wire",
                     PARA_1))
    assert got[3] == ("caption", "caption_lead")
    assert got[5] == ("caption", "caption_with_credit")
    assert got[7] == ("body", "body")
    zh = roles(page("二审维持原判 原告表示将继续发声", "支持者在法院外等候。图片来源：网络", ZH_PARA))
    assert zh[3] == ("caption", "caption_with_credit") and zh[5] == ("body", "body")


def test_a_run_of_related_headlines_is_furniture_but_one_subheading_is_body():
    got = roles(page("Appeal court upholds ruling against TV intern's claim", PARA_1,
                     "What the ruling means", PARA_2, "More from Society",
                     "Activist detained after campus protest",
                     "Court hears second harassment suit\nFive years of the movement in pictures"))
    assert got[5] == ("body", "body")  # a subheading between paragraphs
    assert got[9] == ("boilerplate", "related_link")
    assert [got[n] for n in (11, 13, 14)] == [("boilerplate", "link_run")] * 3


def test_chinese_page_furniture():
    got = roles(page("1. 跳转至内容", "社会", "二审维持原判 原告表示将继续发声",
                     "2022年8月10日 来源：本报", ZH_PARA, "责任编辑：李明", "分享到：微信 微博"))
    assert got[1] == ("boilerplate", "skip_link_zh")
    assert got[3] == ("boilerplate", "before_title")
    assert got[5] == ("title", "title")
    assert got[7][0] == "credit"
    assert got[9] == ("body", "body")
    assert got[11] == ("credit", "staff_credit_zh")
    assert got[13] == ("boilerplate", "share_buttons")


def test_hard_wrapped_first_line_is_not_a_title():
    text = "Short Title\n\nThe first paragraph is wrapped\nacross two lines here.\n"
    got = roles(text)
    assert got[1] == ("title", "title") and got[3] == got[4] == ("body", "body")


def test_html_tags_and_entities_in_a_text_dump_through_the_cli(tmp_path):
    dump = ("<h1>Appeal court upholds ruling</h1>\n"
            f"<p>{PARA_1.replace('the host', 'the host &amp; his employer')}</p>"
            f"<p>{PARA_2}</p>\n"
            "<p><i>Lin Wei/AFP via Getty Images</i></p>\n"
            "</div>\n")
    corpus = write_corpus(tmp_path / "c", {"dump.txt": dump.encode()})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    lines = table(tmp_path / "o", "lines")
    assert list(zip(lines.role, lines.rule))[:4] == [
        ("title", "title"), ("body", "body"), ("credit", "agency_credit"),
        ("boilerplate", "markup_only")]
    segs = table(tmp_path / "o", "segments")
    paras = segs[segs.unit == "paragraph"]
    assert list(paras.text) == [PARA_1.replace("the host", "the host & his employer"), PARA_2]
    for a, b, text in zip(paras.start, paras.end, paras.raw):
        assert dump[a:b] == text and not text.startswith("<")  # offsets still into the raw file
    assert "&amp;" in paras.raw.iloc[0]
    docs = table(tmp_path / "o", "documents")
    assert docs.loc[0, "title"] == "Appeal court upholds ruling"
    assert bool(docs.loc[0, "markup"]) and docs.loc[0, "n_paragraphs"] == 2


def test_pages_with_no_article_are_set_aside_through_the_cli(tmp_path):
    teasers = page("Topic: Campus harassment", "Activist detained after campus protest",
                   PARA_1, "Read more", "Court hears second harassment suit", PARA_2, "Read more")
    tag_page = page("Campus harassment", "Activist detained after campus protest", PARA_1)
    error = page("Page not found", "Sorry, the page you are looking for cannot be found.",
                 "Back to top")
    article = page("Appeal court upholds ruling against TV intern's claim", PARA_1, PARA_2)
    corpus = write_corpus(tmp_path / "c", {
        "teasers.txt": teasers.encode(), "tag.txt": tag_page.encode(),
        "error.txt": error.encode(), "article.txt": article.encode()},
        {"tag.txt": {"url": "https://example.org/tag/campus-harassment/"},
         "article.txt": {"url": "https://example.org/2021/09/14/appeal-ruling"}})
    out = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    q = table(tmp_path / "o", "quarantine").set_index("file")
    assert set(q.index) == {"teasers.txt", "tag.txt", "error.txt"}
    assert set(q.reason) == {"no_article"}
    assert "read-more" in q.loc["teasers.txt", "detail"]
    assert "listing page" in q.loc["tag.txt", "detail"]
    assert "error page" in q.loc["error.txt", "detail"]
    assert list(table(tmp_path / "o", "documents").file) == ["article.txt"]
    lines = table(tmp_path / "o", "lines")
    assert set(lines.doc_id) == {"teasers", "tag", "error", "article"}  # still audited
    assert "no_article" in out.stdout + out.stderr


def test_lines_recurring_across_an_outlets_pages_are_furniture(tmp_path):
    slogan = "Fair News For The Whole Valley Since Forever"
    files, meta = {}, {}
    for i in range(5):
        body = PARA_1.replace("Tuesday", ["Monday", "Tuesday", "Wednesday", "Thursday",
                                          "Friday"][i])
        files[f"a{i}.txt"] = page(f"Headline number {i} about the appeal ruling", body,
                                  slogan).encode()
        meta[f"a{i}.txt"] = {"outlet": "Valley Courier"}
    files["other.txt"] = page("A different outlet's headline on the ruling", PARA_2,
                              slogan).encode()
    meta["other.txt"] = {"outlet": "Other Times"}
    corpus = write_corpus(tmp_path / "c", files, meta)
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    lines = table(tmp_path / "o", "lines")
    slogans = lines[lines.text == slogan].set_index("doc_id")
    assert set(slogans.loc[[f"a{i}" for i in range(5)], "rule"]) == {"recurring"}
    assert slogans.loc["other", "role"] == "body"  # one page of its outlet: no evidence
    assert not lines[(lines.rule == "recurring") & (lines.text != slogan)].size
    build = (tmp_path / "o" / "build.json").read_text()
    assert '"recurring_lines": 1' in build


def test_an_exact_duplicate_page_does_not_make_a_line_recurring(tmp_path, monkeypatch):
    # chunks of two rows, the line counts merged after each, the seen texts
    # merged every two: the counts must be those of one pass over the corpus
    monkeypatch.setattr(build_module, "CHUNK", 2)
    monkeypatch.setattr(build_module, "_MERGE_AT", 1)
    monkeypatch.setattr(seen, "_RECENT", 2)
    need = RULES.recurrence_min_documents
    slogan = "Fair News For The Whole Valley Since Forever"
    motto = "Read Us Every Morning Before The Coffee Gets Cold"
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    files = {f"a{i}.txt": page(f"Headline number {i} about the appeal ruling",
                               PARA_1.replace("Tuesday", days[i]), slogan).encode()
             for i in range(need)}
    # the motto is on need - 1 distinct pages, and on an exact copy of one of them
    files.update({f"b{i}.txt": page(f"Another headline, number {i}, on the verdict",
                                    PARA_2.replace("rain", f"rain {days[i]}"), motto).encode()
                  for i in range(need - 1)})
    files["b_copy.txt"] = files["b0.txt"]
    corpus = write_corpus(tmp_path / "c", files,
                          {name: {"outlet": "Valley Courier"} for name in files})
    build_module.build(corpus, tmp_path / "o", jobs=1)
    lines = table(tmp_path / "o", "lines")
    assert set(lines[lines.text == slogan].rule) == {"recurring"}
    mottos = lines[lines.text == motto]
    assert set(mottos.doc_id) == {f"b{i}" for i in range(need - 1)}
    assert set(mottos.role) == {"body"} and "recurring" not in set(mottos.rule)
    q = table(tmp_path / "o", "quarantine").set_index("doc_id")
    assert list(q.index) == ["b_copy"] and q.loc["b_copy", "reason"] == DUPLICATE
    assert "exact duplicate of 'b0'" in q.loc["b_copy", "detail"]


def test_mojibake_is_flagged_per_document_and_warned(tmp_path):
    garbled = page("Appeal court upholds ruling", PARA_1.replace("the plaintiff", "the courtâ€™s "
                                                                  "plaintiff"))
    corpus = write_corpus(tmp_path / "c", {"bad.txt": garbled.encode(),
                                           "good.txt": page("Another headline here", PARA_2)
                                           .encode()})
    out = run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    docs = table(tmp_path / "o", "documents").set_index("doc_id")
    assert docs.loc["bad", "mojibake"] > 0 and docs.loc["good", "mojibake"] == 0
    assert "mojibake" in out.stdout + out.stderr and "bad" in out.stdout + out.stderr
    lines = table(tmp_path / "o", "lines")
    raw = garbled
    row = lines[(lines.doc_id == "bad") & (lines.role == "body")].iloc[0]
    assert raw[row.start:row.end] == row.text  # offsets stay raw
