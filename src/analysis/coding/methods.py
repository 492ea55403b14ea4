"""The codebook as the report's methods text, so the method described is the
method that ran."""

from ..core.chinese import has_han
from .schema import Codebook

_LANGUAGES = {"en": "English", "zh": "Chinese"}


def methods_markdown(book: Codebook) -> str:
    """The codebook as the report's methods section (Markdown): version,
    changelog, guards, and every code with its definition, questions and
    indicators, so the method described is the method that ran."""
    lines = [f"## Coding scheme (codebook version {book.version})", "",
             "Codes are assigned per body paragraph by a dictionary coder: each indicator is "
             "a word-bounded, case-insensitive phrase (a word ending in * may go on) or a "
             "regular expression, matched on normalised text. "
             "A code is present in a document when at least one body paragraph carries it; "
             "reader comments are coded separately and never change a document's codes. "
             "A generic frame's score is the share of its questions answered yes "
             "(Semetko & Valkenburg 2000).", "",
             "The indicators cover "
             + ", ".join(_LANGUAGES.get(x, x) for x in book.languages)
             + "; each code lists its English and its Chinese indicators. Chinese indicators "
             "are written in simplified characters and match text in either script "
             "(traditional characters are read as simplified, one for one, through OpenCC's "
             "character table), with no word boundaries, since Chinese has no spaces; in "
             "distances a Chinese character counts as half a word. Documents in any other "
             "language are listed as not coded, with their language.", ""]
    for name, g in sorted(book.guards.items()):
        cues = sorted(g["single"]) + list(g["multi"]) + [p + "*" for p in g["prefix"]]
        lines.append(f"- **{name} guard**: a match is dropped when one of these words stands "
                     f"within {g['window']} words before it in the same clause: "
                     + ", ".join(f"_{c}_" for c in cues) + ".")
    lines.append("")
    titles = {"generic_frame": "Generic news frames", "issue_frame": "Issue-specific frames",
              "backlash": "Backlash themes", "outcome": "Outcome events (per sentence)"}
    family = None
    for c in book.codes:
        if c.family != family and not c.parent:
            family = c.family
            lines += [f"### {titles[family]}", ""]
        if c.parent:
            lines.append(f"  - `{c.id}`: {c.text}")
            lines += [f"    - {_describe(ind)}" for ind in book.indicators if ind.code == c.id]
            continue
        lines.append(f"- **{c.label}** (`{c.id}`): {c.definition}")
        if c.include:
            lines.append(f"  - Include: {c.include}")
        if c.exclude:
            lines.append(f"  - Exclude: {c.exclude}")
        lines += [f"  - {_describe(ind)}" for ind in book.indicators if ind.code == c.id]
    lines += ["", "### Codebook changes", ""]
    lines += [f"- {e['version']}: {' '.join(str(e.get('changes', '')).split())}"
              for e in book.changelog]
    return "\n".join(lines) + "\n"


def _describe(ind) -> str:
    parts = [f'"{p}"' for p in ind.phrases] + [f"`{p}`" for p in ind.patterns]
    chinese = any(has_han(p) for p in ind.phrases + ind.patterns)
    text = f"{'Chinese' if chinese else 'English'} indicator `{ind.id}`: " + ", ".join(parts)
    if ind.guards:
        text += f"; guards: {', '.join(ind.guards)}"
    if ind.favours:
        text += f"; favours: {ind.favours.replace('_', ' ')}"
    if ind.context_phrases:
        text += (f"; counts only within {ind.context_window} words of "
                 + ", ".join(f'"{p}"' for p in ind.context_phrases))
    return text
