"""The citation: ``CITATION.cff`` (Citation File Format 1.2.0) is its one
source; ``cffconvert`` validates it and generates ``.zenodo.json`` from it,
and ``cite_text`` gives the line the report shows.
"""

import re
from pathlib import Path

from ..core.errors import InputError

CFF = "CITATION.cff"
ZENODO = ".zenodo.json"
# what a field that the owner has not filled in yet looks like: "to be filled
# in" however it is written (TO-BE-FILLED-IN, to_be_filled_in), a TODO or
# FIXME, or an address on example.org/.com
PLACEHOLDER = re.compile(r"to[\s_-]+be[\s_-]+filled[\s_-]+in|\btodo\b|\bfixme\b|"
                         r"\bexample\.(?:org|com)\b", re.I)


def placeholders(cff, where: str = "") -> list:
    """The fields of a citation (its YAML as a dict) that still hold a
    placeholder, as paths such as authors[0].name, in file order."""
    if isinstance(cff, dict):
        return [p for k, v in cff.items() for p in placeholders(v, f"{where}.{k}" if where
                                                                 else str(k))]
    if isinstance(cff, list):
        return [p for i, v in enumerate(cff) for p in placeholders(v, f"{where}[{i}]")]
    return [where] if isinstance(cff, str) and PLACEHOLDER.search(cff) else []


def read_citation(root: Path):
    """The validated citation of ``root`` as (cffconvert Citation, its YAML as
    a dict); InputError naming the file and the field for invalid CFF."""
    # imported here: cffconvert pulls in jsonschema and more, which the report
    # page (it needs only cite_text) should not pay for
    from cffconvert import Citation

    path = Path(root) / CFF
    try:
        citation = Citation(path.read_text(encoding="utf-8"))
        citation.validate()
    except OSError as e:
        raise InputError(f"{path}: cannot read the citation file ({e.strerror}).") from None
    except Exception as e:  # jsonschema's ValidationError and YAML errors
        first = str(e).splitlines()[0]
        where = "/".join(map(str, getattr(e, "path", []) or []))
        raise InputError(f"{path}: not valid Citation File Format 1.2.0"
                         + (f" (field {where})" if where else "") + f": {first}. Fix the "
                         "file; https://citation-file-format.github.io lists the fields."
                         ) from None
    return citation, citation.cffobj


def zenodo_json(root: Path) -> str:
    """.zenodo.json as cffconvert generates it from CITATION.cff."""
    citation, _ = read_citation(root)
    return citation.as_zenodo().rstrip("\n") + "\n"


def cite_text(cff: dict, codebook_version: str | None = None) -> str:
    """One line to cite the version: authors (year). title (version x). address."""
    authors = "; ".join(a.get("name") or " ".join(
        filter(None, (a.get("given-names"), a.get("family-names")))) for a in cff["authors"])
    year = str(cff.get("date-released", ""))[:4] or "n.d."
    text = f"{authors} ({year}). {cff['title']} (version {cff['version']}) [software]."
    if codebook_version:
        text += f" Codebook version {codebook_version}."
    if cff.get("repository-code"):
        text += f" {cff['repository-code']}"
    return text
