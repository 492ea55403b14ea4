"""The codebook's structure: codes, indicators and the checked codebook.

Plain frozen records, shared by loading (``codebook``), scanning (``engine``)
and coding (``coder``), so none of them imports another to know a type.
"""

import re
from dataclasses import dataclass, field

FAMILIES = ("generic_frame", "issue_frame", "backlash", "outcome")
SENTENCE_FAMILIES = ("outcome",)  # coded per sentence; the others per paragraph
FAVOURS = ("accuser", "accused", "neutral", "unresolved", "against_target", "for_target",
           "against_actor", "for_actor")


@dataclass(frozen=True)
class Indicator:
    """One indicator of one code: its alternatives as regular expressions."""

    code: str
    id: str
    expressions: tuple
    guards: tuple
    phrases: tuple = ()  # as written in the codebook, for the methods text
    patterns: tuple = ()
    context_window: int = 0  # with context_phrases: a match counts only this near one
    context_phrases: tuple = ()
    favours: str = ""  # outcome events: whom the event favours (see FAVOURS)
    grounds: tuple = ()  # outcome events: grounds to look for in the sentence


@dataclass(frozen=True)
class Code:
    id: str
    family: str
    label: str
    definition: str = ""
    include: str = ""
    exclude: str = ""
    parent: str | None = None  # a question's frame
    questions: tuple = ()
    text: str = ""  # a question's wording
    examples: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Codebook:
    """A checked codebook. ``codes`` is in file order, each frame followed by
    its questions; ``fingerprint`` changes whenever the file does."""

    version: str
    changelog: tuple
    fingerprint: str
    codes: tuple
    indicators: tuple
    guards: dict = field(compare=False, hash=False)
    languages: tuple = ("en",)  # primary tags of the languages the indicators cover

    def covers(self, language: str | None) -> bool:
        """Whether documents in ``language`` (a tag such as zh-Hant) are coded:
        a language the indicators cover, or none known (``und`` or empty)."""
        primary = (language or "").strip().lower().replace("_", "-").split("-")[0]
        return primary in self.languages or primary in ("", "und")

    @property
    def ids(self) -> list:
        return [c.id for c in self.codes]

    def code(self, code_id: str) -> Code:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)


def phrase_expression(phrase: str) -> str:
    """A phrase as a word-bounded regular expression: words matched as written
    (case is ignored when scanning), any white space between them; a word
    ending in * may go on ("defam*" finds defamation, "speak* out" speaking out).
    Chinese characters get no word boundary (Chinese has no spaces)."""
    parts = []
    for w in phrase.split():
        parts.append(re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w))
    words = phrase.split()
    # The scanner's \b is ASCII: a phrase in Chinese, which has no spaces
    # between words, is matched wherever its characters stand.
    start = r"\b" if re.match(r"\w", words[0], re.ASCII) else ""
    # an open-ended word also ends at a word boundary, so that Hyperscan
    # reports it once, not at every letter
    end = r"\b" if re.search(r"[\w*]$", words[-1], re.ASCII) else ""
    return start + r"\s+".join(parts) + end
