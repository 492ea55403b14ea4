"""Cleaning: every raw line gets one role; the seeds' article lines are body
and nothing else is."""

import unicodedata

import pytest

from analysis.core import paths
from analysis.core.text import normalize, normalize_with_offsets
from analysis.corpus.cleaning import load_rules
from conftest import ARTICLE, run_cli, table, write_corpus

W = "000_8b4f6d6c62240631", "001_edab2e6d0a5b9686", "002_5d940f0a5119fa01"

# Roles of every non-blank line of the seeds, judged by reading the raw files
# (line numbers as an editor shows them).
EXPECTED = {
    W[0]: {"boilerplate": [1, 3, 6, 7, 8, 9, 10, 11, 12], "title": [14],
           "body": list(range(16, 41, 2)), "credit": [42, 44]},
    W[1]: {"title": [1], "body": [3, 5], "comment": [9],
           "boilerplate": [7, 12, 14, 16, 18, 20, 22]},
    W[2]: {"boilerplate": [1, 6, 16, 42, 44, 46], "title": [3], "caption": [5],
           "body": [8, 10, 12, 14] + list(range(18, 39, 2)), "credit": [40]},
}


def test_every_seed_line_has_the_role_a_reader_gives_it(seed_build):
    lines = table(seed_build, "lines")
    for doc_id, roles in EXPECTED.items():
        got = lines[(lines.doc_id == doc_id) & (lines.role != "blank")]
        got = {role: sorted(g.line_no) for role, g in got.groupby("role")}
        assert got == roles, doc_id


def test_lines_cover_the_raw_text_exactly(seed_build):
    lines = table(seed_build, "lines")
    for doc_id, g in lines.groupby("doc_id"):
        raw = (paths.RAW / f"{doc_id}.txt").read_bytes().decode("utf-8")
        assert list(g.line_no) == list(range(1, len(g) + 1))
        assert "\n".join(g.text) == raw
        assert all(raw[s:e] == t for s, e, t in zip(g.start, g.end, g.text))


def test_related_headlines_captions_credits_and_comments_stay_out_of_the_body(seed_build):
    docs = table(seed_build, "documents").set_index("doc_id")
    wapo, blog, tone = docs.loc[W[2], "body"], docs.loc[W[1], "body"], docs.loc[W[0], "body"]
    assert "Kris Wu" not in wapo
    assert "A rape allegation at China's Alibaba" not in wapo
    assert "Schiefelbein" not in wapo and "Placeholder" not in wapo
    assert "contributed to this report" not in wapo
    assert "Ugh" not in blog and "Leave a Reply" not in blog and "Connecting to" not in blog
    assert "Editor" not in tone and "Header image" not in tone and "Subscribe" not in tone
    assert docs.loc[W[2], "title"] == ("Alibaba accuser facing lawsuits as China #MeToo "
                                       "backlash builds")
    assert docs.loc[W[1], "profiles"] == "wordpress"
    assert docs.loc[W[2], "profiles"] == "washington_post"


def test_the_reader_comment_is_its_own_segment_with_role_comment(seed_build):
    segs = table(seed_build, "segments")
    comments = segs[(segs.doc_id == W[1]) & (segs.role == "comment")]
    paras = comments[comments.unit == "paragraph"]
    assert list(paras.segment_id) == ["c1"]
    assert paras.iloc[0].text.startswith("1. Ugh, it's awful")
    assert not segs[(segs.role == "body") & segs.text.str.contains("Ugh")].size


def test_body_text_is_normalised_but_offsets_point_into_the_raw_text(seed_build):
    segs = table(seed_build, "segments")
    for doc_id, g in segs.groupby("doc_id"):
        raw = (paths.RAW / f"{doc_id}.txt").read_text(encoding="utf-8")
        for s, e, text in zip(g.start, g.end, g.text):
            assert normalize(raw[s:e]) == text
            assert raw[s:e] == raw[s:e].strip()
    body = " ".join(table(seed_build, "documents").body)
    for ch in "\u00a0\u2019\u201c\u201d":
        assert ch not in body
    assert "  " not in body


def test_normalize_with_offsets_agrees_with_normalize_and_maps_back():
    samples = ["  Ms.Qian\u00a0said \u201cno\u201d\n\n  to  He\u2019s\u200b claim. ",
               "Cafe\u0301 owner \u212b and e\u0301\u0301 x", "plain ascii", "", "\u00a0\n"]
    for raw in samples:
        text, starts, ends = normalize_with_offsets(raw)
        assert text == normalize(raw)
        assert unicodedata.is_normalized("NFC", text)
        for i, ch in enumerate(text):
            if ch != " ":  # a character comes from its raw cluster (base + marks)
                assert ch in normalize(raw[starts[i]:ends[i]])
        words = text.split(" ")
        pos = 0
        for w in words:  # whole words map back to raw spans that normalise to them
            if w:
                assert normalize(raw[starts[pos]:ends[pos + len(w) - 1]]) == w
            pos += len(w) + 1


def test_a_corpus_can_bring_its_own_cleaning_profile(tmp_path):
    article = "Your Morning News From The Valley\n\n" + ARTICLE
    corpus = write_corpus(tmp_path / "c", {"a.txt": article.encode()},
                          {"a.txt": {"outlet": "Example Daily"}})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o1", check=0)
    first = table(tmp_path / "o1", "lines")
    assert first.loc[0, "role"] == "title"  # without a profile the slogan looks like a title
    (corpus / "cleaning.yaml").write_text(
        "profiles:\n"
        "  example_daily:\n"
        "    detect: {outlets: [Example Daily]}\n"
        "    rules:\n"
        "      - {id: masthead, role: boilerplate, pattern: 'your morning news from the valley'}\n")
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o2", check=0)
    lines = table(tmp_path / "o2", "lines")
    assert (lines.loc[0, "role"], lines.loc[0, "rule"]) == ("boilerplate", "example_daily.masthead")
    assert lines.loc[2, "role"] == "title"
    assert table(tmp_path / "o2", "documents").loc[0, "profiles"] == "example_daily"


def test_packaged_rules_load_and_have_a_version():
    rules = load_rules(paths.CLEANING_RULES)
    assert rules.version
    assert {p.name for p in rules.profiles} >= {"wordpress", "washington_post"}
    assert "no" in rules.abbreviations_before_number


@pytest.mark.parametrize("line, role", [
    ("Editor: Vincent Chow.", "credit"),
    ("Reporters Without Borders said the court ruling was a setback.", "body"),
    ("Photo: Reuters", "credit"),
    ("Jane Doe in Beijing contributed reporting to this story.", "credit"),
    ("Protesters outside the court on Monday. (Jane Roe/Reuters)", "caption"),
    ("She asked whether he/she had seen it (he/she did not).", "body"),
])
def test_generic_rules_on_single_lines(tmp_path, line, role):
    text = f"A Short Title\n\nFirst paragraph of the article.\n\n{line}\n"
    corpus = write_corpus(tmp_path / "c", {"a.txt": text.encode()})
    run_cli("build", "--corpus", corpus, "--processed", tmp_path / "o", check=0)
    lines = table(tmp_path / "o", "lines")
    assert lines.loc[4, "role"] == role
