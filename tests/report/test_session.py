"""What a notebook's session promises: corpus text in a sentence of
interpretation shows as text, never as markup or maths."""

from analysis.report.session import escape_markdown


def test_corpus_text_in_a_sentence_is_escaped_for_markdown_html_and_maths():
    assert escape_markdown("<b>Sixth Tone</b>") == r"&lt;b&gt;Sixth Tone&lt;/b&gt;"
    assert escape_markdown("*bold* [link](x) #tag") == r"\*bold\* \[link\]\(x\) \#tag"
    # JupyterLab and nbconvert typeset $...$ as maths; an escaped $ shows as itself
    assert escape_markdown("a $5 fine and $6 costs") == r"a \$5 fine and \$6 costs"
