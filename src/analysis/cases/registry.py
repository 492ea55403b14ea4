"""The case registry: cases, their parties and every name the coverage uses.

``load_registry()`` reads ``instruments/cases.yaml`` (its layout and the
linking rules are described at its top) and refuses, naming the entry and the
fix, a missing or duplicate id, an unknown key or role, and an alias that two
cases share. ``Registry.scanner()`` compiles every alias and surname into one
Hyperscan database, once.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import hyperscan

from ..core import paths
from ..core.controls import too_general
from ..core.errors import InputError
from ..core.fileio import read_mapping

ROLES = ("accuser", "accused", "supporter", "institution")
SIDES = ("accuser", "accused")
_CASE_KEYS = {"case_id", "title", "year", "place", "aliases", "descriptors", "notes", "sources",
              "parties"}
_PARTY_KEYS = {"party_id", "name", "role", "supports", "pronoun", "aliases", "descriptors",
               "surnames"}
PRONOUNS = ("he", "she", "they")
DESCRIPTOR = "descriptor:"  # the key prefix of a descriptor among the surnames
_ID = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Party:
    case_id: str
    party_id: str
    name: str
    role: str
    aliases: tuple = ()
    surnames: tuple = ()
    supports: str = ""  # a supporter's side: accuser or accused
    descriptors: tuple = ()
    pronoun: str = ""  # he, she or they: how the coverage refers back to the party

    @property
    def side(self) -> str:
        """The side this party's fortunes count for: accuser, accused or neutral."""
        if self.role == "supporter":
            return self.supports
        return self.role if self.role in SIDES else "neutral"


@dataclass(frozen=True)
class Case:
    case_id: str
    title: str
    year: int
    place: str
    aliases: tuple = ()
    notes: str = ""
    sources: tuple = ()
    parties: tuple = ()
    descriptors: tuple = ()


class Owner(NamedTuple):
    """What one expression of the scanner stands for: an alias of a case (of
    one of its parties, or of the case itself), or a bare surname or a
    descriptor ("his wife", "the TV host"), which linking resolves to a case
    named nearby."""

    kind: str  # "alias", "surname" or "descriptor"
    case_id: str | None = None  # an alias's case
    party: Party | None = None  # an alias's party; None for a case alias
    surname: str = ""  # a surname as written, or a descriptor's key


class Scanner(NamedTuple):
    """A registry compiled for scanning: the Hyperscan database, the Owner of
    each expression id, and the (case id, party) pairs each surname or
    descriptor may mean (party None: the case itself)."""

    db: hyperscan.Database
    owners: list
    surnames: dict


@dataclass(frozen=True)
class Registry:
    version: str
    fingerprint: str
    cases: tuple
    _compiled: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __getstate__(self):
        # sent to a worker process without its compiled scanner (a Hyperscan
        # database cannot be pickled): the worker compiles its own, once
        return {**self.__dict__, "_compiled": {}}

    def scanner(self) -> Scanner:
        """Every alias (any case) and surname (as written) compiled into one
        Scanner, built once."""
        if not self._compiled:
            exprs, flags, owners = [], [], []
            som = hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_UTF8
            for c in self.cases:
                for a, party in [(a, None) for a in c.aliases] + [
                        (a, p) for p in c.parties for a in p.aliases]:
                    exprs.append(_bounded(a).encode())
                    flags.append(som | hyperscan.HS_FLAG_CASELESS)
                    owners.append(Owner("alias", c.case_id, party))
            surnames = {}
            for c in self.cases:
                for p in c.parties:
                    for name in p.surnames:
                        surnames.setdefault(name, []).append((c.case_id, p))
            for name in sorted(surnames):
                exprs.append(rf"\b{re.escape(name)}\b".encode())
                flags.append(som)
                owners.append(Owner("surname", surname=name))
            # descriptors: any case
            described = {}
            for c in self.cases:
                for d, party in [(d, None) for d in c.descriptors] + [
                        (d, p) for p in c.parties for d in p.descriptors]:
                    described.setdefault(" ".join(d.lower().split()), []).append(
                        (c.case_id, party))
            for text in sorted(described):
                exprs.append(_bounded(text).encode())
                flags.append(som | hyperscan.HS_FLAG_CASELESS)
                owners.append(Owner("descriptor", surname=DESCRIPTOR + text))
            # keyed apart from surnames, so "He" the surname and a descriptor
            # "he" could never meet
            surnames.update((DESCRIPTOR + text, v) for text, v in described.items())
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                       flags=flags)
            self._compiled["scanner"] = Scanner(db, owners, surnames)
        return self._compiled["scanner"]


def _bounded(text: str) -> str:
    """An alias as a word-bounded pattern; any white space between its words."""
    body = r"\s+".join(re.escape(w) for w in text.split())
    # ASCII word boundaries, as the scanner has: a Chinese name gets none
    return (r"\b" if re.match(r"\w", text, re.ASCII) else "") + body + (
        r"\b" if re.search(r"\w$", text, re.ASCII) else "")


def load_registry(path=None) -> Registry:
    """Load and check the case registry; raises InputError listing every
    problem, each naming the entry and the fix."""
    path = Path(path or paths.CASES)
    raw = path.read_bytes()
    doc = read_mapping(path, raw)
    problems = []
    for key in sorted(set(doc) - {"version", "cases"}):
        problems.append(f"{path}: unknown top-level key '{key}'; allowed keys are cases, "
                        "version.")
    version = str(doc.get("version") or "").strip()
    if not version:
        problems.append(f"{path}: no version; add version: \"1.0.0\" and raise it when an "
                        "entry changes.")
    cases, seen, alias_owner = [], {}, {}
    for i, spec in enumerate(doc.get("cases") or [], start=1):
        if not isinstance(spec, dict) or not spec.get("case_id"):
            problems.append(f"{path}: case entry {i} has no case_id; give every case an id "
                            "such as alibaba_2021.")
            continue
        cid = str(spec["case_id"])
        where = f"{path}, case '{cid}'"
        if not _ID.fullmatch(cid):
            problems.append(f"{where}: the id may hold only lower-case letters, digits and _.")
        if cid in seen:
            problems.append(f"{where}: duplicate case_id (also entry {seen[cid]}); keep one.")
            continue
        seen[cid] = i
        for key in sorted(set(spec) - _CASE_KEYS):
            problems.append(f"{where}: unknown key '{key}'; allowed keys are "
                            f"{', '.join(sorted(_CASE_KEYS))}.")
        for key in ("title", "year"):
            if not spec.get(key):
                problems.append(f"{where}: missing '{key}'.")
        if spec.get("year") is not None and not isinstance(spec.get("year"), int):
            problems.append(f"{where}: year must be a whole number such as 2021.")

        for a in spec.get("aliases") or []:
            _check_name(problems, f"{where}: alias", a)
            _claim(problems, alias_owner, a, cid, where)
        for d in spec.get("descriptors") or []:
            _check_name(problems, f"{where}: descriptor", d)
        parties, party_ids = [], set()
        for j, ps in enumerate(spec.get("parties") or [], start=1):
            pid = str((ps or {}).get("party_id") or "")
            pwhere = f"{where}, party '{pid or j}'"
            if not pid:
                problems.append(f"{pwhere}: missing party_id.")
                continue
            if pid in party_ids:
                problems.append(f"{pwhere}: duplicate party_id in this case.")
            party_ids.add(pid)
            for key in sorted(set(ps) - _PARTY_KEYS):
                problems.append(f"{pwhere}: unknown key '{key}'; allowed keys are "
                                f"{', '.join(sorted(_PARTY_KEYS))}.")
            if ps.get("role") not in ROLES:
                problems.append(f"{pwhere}: role {ps.get('role')!r} is not one of "
                                f"{', '.join(ROLES)}.")
            supports = str(ps.get("supports") or "")
            if ps.get("role") == "supporter" and supports not in SIDES:
                problems.append(f"{pwhere}: a supporter must say whose side it is on: add "
                                "supports: accuser (or supports: accused).")
            elif ps.get("role") != "supporter" and supports:
                problems.append(f"{pwhere}: only a supporter has supports; remove it.")
            for d in ps.get("descriptors") or []:
                _check_name(problems, f"{pwhere}: descriptor", d)
            pronoun = str(ps.get("pronoun") or "")
            if pronoun and pronoun not in PRONOUNS:
                problems.append(f"{pwhere}: pronoun {pronoun!r} is not one of "
                                f"{', '.join(PRONOUNS)}.")
            for a in ps.get("aliases") or []:
                _check_name(problems, f"{pwhere}: alias", a)
                _claim(problems, alias_owner, a, cid, where)
            for name in ps.get("surnames") or []:
                _check_name(problems, f"{pwhere}: surname", name, caseless=False)
            parties.append(Party(cid, pid, str(ps.get("name") or pid), str(ps.get("role")),
                                 tuple(str(a) for a in ps.get("aliases") or []),
                                 tuple(str(s) for s in ps.get("surnames") or []), supports,
                                 tuple(str(d) for d in ps.get("descriptors") or []), pronoun))
        if not parties:
            problems.append(f"{where}: no parties; list at least the accuser and the accused.")
        cases.append(Case(cid, str(spec.get("title", "")), spec.get("year") or 0,
                          str(spec.get("place") or ""),
                          tuple(str(a) for a in spec.get("aliases") or []),
                          " ".join(str(spec.get("notes") or "").split()),
                          tuple(str(s) for s in spec.get("sources") or []), tuple(parties),
                          tuple(str(d) for d in spec.get("descriptors") or [])))
    if problems:
        raise InputError(problems)
    return Registry(version, hashlib.sha256(raw).hexdigest(), tuple(cases))


def _check_name(problems, what: str, name, caseless: bool = True) -> None:
    """A name the linker searches for must hold at least two letters or
    digits and must not match ordinary sentences (core.controls): either
    would link nearly every sentence. Surnames are matched as written."""
    name = str(name or "")
    if len(re.findall(r"\w", name)) < 2:
        problems.append(f"{what} {name!r} is empty or shorter than two letters, so it would "
                        "link nearly every sentence; write the name in full (or remove it).")
    elif general := too_general(_bounded(name), caseless):
        problems.append(f"{what} {name!r} {general}, so it would link nearly every sentence; "
                        "write the name in full (or remove it).")


def _claim(problems, owners: dict, alias, case_id: str, where: str):
    """Record that ``alias`` names ``case_id``; an alias of two cases is a problem."""
    key = " ".join(str(alias).lower().split())
    if owners.get(key, case_id) != case_id:
        problems.append(f"{where}: alias {alias!r} is also an alias of case '{owners[key]}'; "
                        "an alias must name one case only; make it more specific or use "
                        "surnames.")
    owners.setdefault(key, case_id)
