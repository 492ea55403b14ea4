"""The citation: ``CITATION.cff`` (Citation File Format 1.2.0) is its one
source. GitHub shows it and Zenodo takes a release's metadata from it (when
a repository has no .zenodo.json), so no second file is kept. ``read_citation``
checks it, ``placeholders`` finds what the owner has not filled in yet, and
``cite_text`` gives the line the report shows.
"""

import re
from pathlib import Path

from ..core.errors import InputError

CFF = "CITATION.cff"
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


# Citation File Format 1.2.0: the keys it defines at the top level and for a
# reference (preferred-citation) that this project may use, and the required ones
KEYS = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi",
        "identifiers", "keywords", "license", "license-url", "message", "preferred-citation",
        "references", "repository", "repository-artifact", "repository-code", "title", "type",
        "url", "version"}
REQUIRED = ("cff-version", "message", "title", "authors")
REFERENCE_REQUIRED = ("type", "title", "authors")
PERSON_KEYS = {"family-names", "given-names", "name-particle", "name-suffix", "affiliation",
               "address", "city", "country", "email", "orcid", "website", "alias", "name",
               "post-code", "region", "tel", "fax", "date-start", "date-end", "location"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URL = re.compile(r"https?://\S+")


def read_citation(root: Path) -> dict:
    """The citation of ``root`` (CITATION.cff) as a dict, checked against what
    Citation File Format 1.2.0 requires of the fields this project uses: the
    required keys, known keys only, authors as persons or entities, dates as
    YYYY-MM-DD, addresses as URLs. InputError naming the file and every field
    that fails, with the fix. (Zenodo and GitHub read this file itself.)"""
    import yaml

    path = Path(root) / CFF
    try:
        cff = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"{path}: cannot read the citation file ({e.strerror}).") from None
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML ({str(e).splitlines()[0]}); fix the file."
                         ) from None
    if not isinstance(cff, dict):
        raise InputError(f"{path}: not a Citation File Format file (a mapping of fields).")
    problems = [f"{path}: {p}" for p in citation_problems(cff)]
    if problems:
        raise InputError([*problems, "https://citation-file-format.github.io lists the fields "
                          "of Citation File Format 1.2.0."])
    return cff


def citation_problems(cff: dict, where: str = "", required=REQUIRED) -> list:
    """What in ``cff`` (a citation, or at ``where`` a reference in it) breaks
    Citation File Format 1.2.0, field by field."""
    out = [f"field {where}{k} is missing" for k in required if not cff.get(k)]
    if not where:  # a reference has many more keys (journal, year...): not checked
        out += [f"field {k} is not a Citation File Format 1.2.0 field; remove it or correct "
                "its name" for k in cff if k not in KEYS]
    if not where and cff.get("cff-version") not in (None, "1.2.0"):
        out.append(f"field cff-version is {cff['cff-version']!r}; write \"1.2.0\"")
    authors = cff.get("authors")
    if authors is not None and not (isinstance(authors, list) and authors):
        out.append(f"field {where}authors must be a list of persons or entities")
    for i, person in enumerate(authors if isinstance(authors, list) else []):
        if not isinstance(person, dict) or not (person.get("name")
                                                or person.get("family-names")):
            out.append(f"field {where}authors[{i}] needs family-names (a person) or name "
                       "(an entity)")
        else:
            out += [f"field {where}authors[{i}].{k} is not a field of a person or entity"
                    for k in person if k not in PERSON_KEYS]
    for key in ("date-released",):
        if key in cff and not _DATE.fullmatch(str(cff[key])):
            out.append(f"field {where}{key} is {cff[key]!r}; write the day as \"YYYY-MM-DD\"")
    for key in ("repository-code", "url", "repository", "license-url"):
        if key in cff and not _URL.fullmatch(str(cff[key])):
            out.append(f"field {where}{key} is {cff[key]!r}; write a full https:// address")
    if "keywords" in cff and not (isinstance(cff["keywords"], list)
                                  and all(isinstance(k, str) for k in cff["keywords"])):
        out.append(f"field {where}keywords must be a list of words")
    pref = cff.get("preferred-citation")
    if not where and pref is not None:
        out += (citation_problems(pref, "preferred-citation.", REFERENCE_REQUIRED)
                if isinstance(pref, dict) else ["field preferred-citation must be a reference"])
    return out


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
