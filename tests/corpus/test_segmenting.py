"""Sentence and paragraph segmentation on the cases the seeds contain."""

import pytest

from analysis.core import paths
from analysis.core.text import normalize
from analysis.corpus.cleaning import classify, load_rules
from analysis.corpus.segmenting import segment, sentence_spans
from conftest import table

RULES = load_rules(paths.CLEANING_RULES)


def sentences(text):
    return [text[a:b] for a, b in sentence_spans(text, 0, len(text), RULES)]


@pytest.mark.parametrize("text, expected", [
    ("Over two years ago, Ms.Qian, a former journalist, came forward. Mr.Sicong wrote a post.",
     ["Over two years ago, Ms.Qian, a former journalist, came forward.",
      "Mr.Sicong wrote a post."]),
    ("According to the Chengdu Railway Transport No. 1 Court, two women accused him. Police came.",
     ["According to the Chengdu Railway Transport No. 1 Court, two women accused him.",
      "Police came."]),
    ("He asked for 50,000 yuan ($6,960) in damages. The court said no. He will appeal.",
     ["He asked for 50,000 yuan ($6,960) in damages.", "The court said no.", "He will appeal."]),
    ("\u201cThis is only the beginning.\u201d The movement grew. \u201cWe need change,\u201d she said.",
     ["\u201cThis is only the beginning.\u201d", "The movement grew.",
      "\u201cWe need change,\u201d she said."]),
    ("Support \u2026 many are afraid to speak out,\u201d one comment read. Others disagreed.",
     ["Support \u2026 many are afraid to speak out,\u201d one comment read.", "Others disagreed."]),
    ("She moved to the U.S. in 2019 and studied law. Dr. Li and Prof. Wang agreed.",
     ["She moved to the U.S. in 2019 and studied law.", "Dr. Li and Prof. Wang agreed."]),
    ("A hearing was held on Sept. 14. Zhou attended.",
     ["A hearing was held on Sept. 14.", "Zhou attended."]),
    ("Is it true? Yes! It is.", ["Is it true?", "Yes!", "It is."]),
    ("法院驳回了诉讼。原告表示将上诉！", ["法院驳回了诉讼。", "原告表示将上诉！"]),
])
def test_sentence_boundaries(text, expected):
    assert sentences(text) == expected


def _paragraphs(text):
    cleaned = classify(text, RULES)
    cols = segment(text, cleaned.lines, cleaned.paragraphs, RULES, cleaned.markup)
    return [(t, a, b) for u, t, a, b in zip(cols["unit"], cols["text"], cols["start"], cols["end"])
            if u == "paragraph"]


def test_hard_wrapped_paragraphs_are_joined_and_offsets_span_the_lines():
    text = ("A Title\n\nThe first paragraph is wrapped\nacross two lines. It ends here.\n\n"
            "Second paragraph.\n")
    paras = _paragraphs(text)
    assert [t for t, _, _ in paras] == [
        "The first paragraph is wrapped across two lines. It ends here.", "Second paragraph."]
    _, a, b = paras[0]
    assert text[a:b] == "The first paragraph is wrapped\nacross two lines. It ends here."


def test_lines_without_blank_separators_are_paragraphs_each():
    text = "A Title\nFirst paragraph here.\nSecond paragraph here.\n"
    assert [t for t, _, _ in _paragraphs(text)] == [
        "First paragraph here.", "Second paragraph here."]


def test_seed_segments_have_ordered_ids_and_sentences_inside_their_paragraph(seed_build):
    segs = table(seed_build, "segments")
    paras = segs[segs.unit == "paragraph"].set_index(["doc_id", "segment_id"])
    for row in segs[segs.unit == "sentence"].itertuples():
        p = paras.loc[(row.doc_id, row.parent_id)]
        assert p.start <= row.start < row.end <= p.end
        assert row.segment_id.startswith(row.parent_id + ".s")
    wapo = segs[(segs.doc_id == "002_5d940f0a5119fa01") & (segs.unit == "paragraph")]
    assert list(wapo.segment_id) == [f"p{i}" for i in range(1, 16)]


def test_seed_sentences_that_matter_for_coding(seed_build):
    segs = table(seed_build, "segments")
    sents = set(segs[segs.unit == "sentence"].text)
    assert ("Over two years ago, Ms.Qian, a former journalist, came forward with allegations of "
            "sexual assault from her chief journalist, Deng Fei.") in sents
    assert any(s.startswith("According to the Chengdu Railway Transport No. 1 Court, on June 11")
               for s in sents)
    assert normalize("\u201cBut we don\u2019t need perfect victims.") in sents


def test_a_document_segmented_in_pieces_has_the_segments_of_one_segmented_whole():
    # a huge document is segmented a few paragraphs at a time; ids number on
    from analysis.corpus.segmenting import paragraphs, segment_pieces

    text = "A Headline About the Court Case\n\n" + "\n\n".join(
        f"Paragraph {k} opens here. It has a second sentence, and Mr. Li spoke."
        for k in range(1, 8)) + "\n"
    cleaned = classify(text, RULES)
    whole = segment(text, cleaned.lines, cleaned.paragraphs, RULES, cleaned.markup)
    pieces = list(segment_pieces(text, paragraphs(cleaned.lines, cleaned.paragraphs), RULES,
                                 cleaned.markup, piece_chars=100))
    assert len(pieces) == 4 and pieces[1]["segment_id"][0] == "p3"
    assert {name: sum((p[name] for p in pieces), []) for name in whole} == whole
    assert whole["segment_id"][:4] == ["p1", "p1.s1", "p1.s2", "p2"]
