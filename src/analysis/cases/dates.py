"""Dates of events: absolute, or relative to the article's publication date.

``resolve(text, published)`` finds the first date expression in a sentence
and resolves it against the article's date (``YYYY``, ``YYYY-MM`` or
``YYYY-MM-DD``): "on June 11", "Sept. 14", "in August", "this past January",
"Tuesday", "last week", "in 2018". A date that needed the article's date to
resolve is marked approximate; one that cannot be resolved keeps its text with
no date, so nothing is guessed.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1) for m in names}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = (r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|"
          r"Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_PATTERNS = (
    ("day", re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:,?\s+(?P<year>\d{{4}}))?\b")),
    ("month", re.compile(rf"\b(?i:in|early|late|mid-|this past|last|since)\s+(?:early\s+|"
                         rf"late\s+|mid-)?{_MONTH}(?:\s+(?P<year>\d{{4}}))?\b")),
    ("weekday", re.compile(r"\b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
                           r"Sunday)\b")),
    ("week", re.compile(r"\b[Ll]ast week\b")),
    ("year", re.compile(r"\b(?i:in|since|of)\s+(?P<year>(?:19|20)\d{2})\b")),
)


@dataclass(frozen=True)
class When:
    date: str | None  # ISO, as precise as known: 2021, 2021-09 or 2021-09-14
    precision: str | None  # year, month, week or day
    approximate: bool
    text: str  # the expression as written


def resolve(text: str, published: str | None) -> When | None:
    """The first date expression in ``text``, resolved; None when there is none."""
    found = []
    for kind, pattern in _PATTERNS:
        m = pattern.search(text)
        if m:
            found.append((m.start(), kind, m))
    if not found:
        return None
    _, kind, m = min(found, key=lambda f: f[0])
    pub = _parse(published)
    expr = m.group(0)
    if kind == "year":
        return When(m.group("year"), "year", False, expr)
    if kind in ("day", "month"):
        month = _MONTHS[m.group("month").lower().rstrip(".")]
        year = int(m.group("year")) if m.group("year") else None
        approximate = year is None
        if year is None and pub[0]:
            later = pub[1] and (month, int(m.group("day")) if kind == "day" else 0) > (
                pub[1], pub[2] or 31)
            year = pub[0] - 1 if later else pub[0]
        if year is None:
            return When(None, None, True, expr)
        if kind == "day":
            try:
                return When(date(year, month, int(m.group("day"))).isoformat(), "day",
                            approximate, expr)
            except ValueError:
                return When(None, None, True, expr)
        return When(f"{year:04d}-{month:02d}", "month", approximate, expr)
    # weekday and week: relative to a full article date, else to its month
    if pub[2]:
        d = date(*pub)
        if kind == "weekday":
            back = (d.weekday() - _WEEKDAYS.index(m.group("weekday").lower())) % 7
            return When((d - timedelta(days=back)).isoformat(), "day", True, expr)
        return When((d - timedelta(days=7)).isoformat(), "week", True, expr)
    if pub[1]:
        return When(f"{pub[0]:04d}-{pub[1]:02d}", "month", True, expr)
    return When(None, None, True, expr)


def _parse(published):
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", published or "")
    return tuple(int(g) if g else None for g in m.groups()) if m else (None, None, None)
