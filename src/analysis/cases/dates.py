"""Dates of events: absolute, or relative to the article's publication date.

``resolve(text, published, near)`` finds the date expression of a sentence
nearest an event (at character ``near``; in its own clause first) and
resolves it against the article's date (``YYYY``, ``YYYY-MM`` or
``YYYY-MM-DD``): "on June 11", "Sept. 14", "in August", "this past January",
"Tuesday", "last week", "in 2018"; in Chinese 2021年9月14日, 9月14日, 9月,
2021年, 上周二, 周二, 昨天, 上周, 上个月, 去年. A date that needed the article's
date to resolve is marked approximate; one that cannot be resolved keeps its
text with no date, so nothing is guessed. Amounts and counts are never years
("2000 yuan", "of 2020 employees"). A date after a future cue ("expected in
December", "will rule on Tuesday", 将于) resolves forward from the article's
date.
"""

import calendar
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
# a number followed by a currency or a counted noun is an amount, not a year
_NOT_AN_AMOUNT = (r"(?!\s*(?i:yuan|rmb|renminbi|dollars?|usd|euros?|pounds?|yen|hk\$|percent|"
                  r"per\s+cent|%|people|persons|women|men|employees|workers|students|users|"
                  r"signatures|posts|comments|followers|times|words|characters|pages|cases|"
                  r"complaints|votes|members|accounts|viewers|views)\b)")
_FUTURE = re.compile(r"\b(?i:will|would|expected|scheduled|due|set\s+to|plans?\s+to|planned|"
                     r"upcoming|next|later\s+this)\b|将于|将在|预计|计划|拟于|下周|下个月|明年")
_CLAUSE = re.compile(r"[;:；：。]")
_PHRASE = re.compile(r"[,;:，；：。、]")  # a date in the event's own phrase comes first
# a phrase opened by one of these is subordinate: a date introducing the
# sentence ("On Tuesday, following his release, ...") belongs to the main
# clause, not to it
_SUBORDINATE = re.compile(r"\s*(?i:following|after|before|since|until|despite|while|when|"
                          r"whereas|although|though|because|amid|upon|having|once)\b")
_PATTERNS = (
    ("day", re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:,?\s+(?P<year>\d{{4}}))?\b")),
    ("month", re.compile(rf"\b(?i:in|early|late|mid-|this past|last|since)\s+(?:early\s+|"
                         rf"late\s+|mid-)?{_MONTH}(?:\s+(?P<year>\d{{4}}))?\b")),
    ("weekday", re.compile(r"\b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
                           r"Sunday)\b")),
    ("week", re.compile(r"\b[Ll]ast week\b")),
    ("year", re.compile(r"\b(?i:in|since|of)\s+(?P<year>(?:19|20)\d{2})\b" + _NOT_AN_AMOUNT)),
    # Chinese: 2021年9月14日, 9月14日, 2021年9月, 9月, 2021年 (Arabic or full-width
    # digits; a year needs 年, so 2000元 is money, not a year); 上周二, 周二,
    # 星期二; 昨天, 前天, 今天; 上周, 上个月, 本月, 去年, 今年, 前年
    ("day", re.compile(r"(?:(?P<year>(?:19|20|１９|２０)[0-9０-９]{2})\s*年\s*)?"
                       r"(?P<zhmonth>[0-9０-９]{1,2})\s*月\s*(?P<day>[0-9０-９]{1,2})\s*[日号]")),
    ("month", re.compile(r"(?:(?P<year>(?:19|20|１９|２０)[0-9０-９]{2})\s*年\s*)?"
                         r"(?<![0-9０-９])(?P<zhmonth>[0-9０-９]{1,2})\s*月(?!份?[0-9０-９])")),
    ("year", re.compile(r"(?<![0-9０-９])(?P<year>(?:19|20|１９|２０)[0-9０-９]{2})\s*年(?!代)")),
    ("weekday", re.compile(r"(?P<zhlast>上)?(?:周|星期|礼拜)(?P<zhweekday>[一二三四五六日天])")),
    ("days_ago", re.compile(r"(?P<zhdays>昨天|昨日|前天|今天|今日)")),
    ("week", re.compile(r"上(?:周|星期|礼拜)(?![一二三四五六日天])")),
    ("month_ago", re.compile(r"(?P<zhmonths>上个?月|本月|这个月)")),
    ("year_ago", re.compile(r"(?P<zhyears>去年|今年|前年)")),
)
_ZH_WEEKDAYS = "一二三四五六日"
_ZH_DAYS = {"昨天": 1, "昨日": 1, "前天": 2, "今天": 0, "今日": 0}
_ZH_MONTHS = {"上月": 1, "上个月": 1, "本月": 0, "这个月": 0}
_ZH_YEARS = {"去年": 1, "今年": 0, "前年": 2}


@dataclass(frozen=True)
class When:
    date: str | None  # ISO, as precise as known: 2021, 2021-09 or 2021-09-14
    precision: str | None  # year, month, week or day
    approximate: bool
    text: str  # the expression as written


def resolve(text: str, published: str | None, near: int | None = None) -> When | None:
    """The date expression of ``text`` nearest character ``near`` (the first
    when ``near`` is None), resolved; None when there is none. Expressions in
    the clause holding ``near`` (clauses end at ; : 。；：) come first."""
    found = []
    for kind, pattern in _PATTERNS:
        found += [(m.start(), -m.end(), kind, m) for m in pattern.finditer(text)]
    if not found:
        return None
    found.sort(key=lambda f: f[:2])
    spans, kept = [], []  # the longest of overlapping expressions
    for start, neg_end, kind, m in found:
        if not any(a < -neg_end and start < b for a, b in spans):
            spans.append((start, -neg_end))
            kept.append((kind, m))
    if near is None:
        kind, m = kept[0]
    else:
        phrase = _phrase(text, near)
        own = [km for km in kept if _phrase(text, km[1].start()) == phrase]
        if not own and _SUBORDINATE.match(text, _phrase_start(text, near)):
            return None
        clause = _clause(text, near)
        kind, m = min(own or kept, key=lambda km: (_clause(text, km[1].start()) != clause,
                                                   _distance(km[1], near), km[1].start()))
    future = _FUTURE.search(text, max(0, m.start() - 40), m.start()) is not None
    return _resolved(kind, m, _parse(published), future)


def _clause(text: str, pos: int) -> int:
    return len(_CLAUSE.findall(text, 0, pos))


def _phrase(text: str, pos: int) -> int:
    return len(_PHRASE.findall(text, 0, pos))


def _phrase_start(text: str, pos: int) -> int:
    """Where the phrase holding ``pos`` begins."""
    ends = [m.end() for m in _PHRASE.finditer(text, 0, pos)]
    return ends[-1] if ends else 0


def _distance(m, pos: int) -> int:
    return 0 if m.start() <= pos < m.end() else min(abs(m.start() - pos), abs(m.end() - pos))


def _resolved(kind: str, m, pub: tuple, future: bool) -> When:
    """The When of one matched expression, against the article's date ``pub``."""
    expr = m.group(0)
    groups = m.groupdict()
    if kind == "year":
        return When(f"{int(m.group('year')):04d}", "year", False, expr)
    if kind == "year_ago":  # 去年: the year before the article's
        if not pub[0]:
            return When(None, None, True, expr)
        return When(f"{pub[0] - _ZH_YEARS[groups['zhyears']]:04d}", "year", True, expr)
    if kind == "month_ago":
        if not pub[1]:
            return When(None, None, True, expr)
        back = pub[0] * 12 + pub[1] - 1 - _ZH_MONTHS[groups["zhmonths"]]
        return When(f"{back // 12:04d}-{back % 12 + 1:02d}", "month", True, expr)
    if kind in ("day", "month"):
        if groups.get("zhmonth"):
            month = int(groups["zhmonth"])
            if not 1 <= month <= 12:
                return When(None, None, True, expr)
        else:
            month = _MONTHS[m.group("month").lower().rstrip(".")]
        year = int(m.group("year")) if m.group("year") else None
        approximate = year is None
        if year is None and pub[0]:
            day = int(m.group("day")) if kind == "day" else 0
            if future:  # the next such date on or after the article's
                earlier = pub[1] and (month, day or 31) < (pub[1], pub[2] or 1)
                year = pub[0] + 1 if earlier else pub[0]
            else:  # the last such date on or before the article's
                later = pub[1] and (month, day) > (pub[1], pub[2] or 31)
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
    # weekday, days ago and week: relative to a full article date, else to its month
    if pub[2]:
        d = date(*pub)
        if kind == "days_ago":
            return When((d - timedelta(days=_ZH_DAYS[groups["zhdays"]])).isoformat(), "day",
                        True, expr)
        if kind == "weekday":
            if groups.get("zhweekday"):
                wd = _ZH_WEEKDAYS.index(groups["zhweekday"].replace("天", "日"))
                if groups.get("zhlast"):  # 上周二: Tuesday of the week before the article's
                    monday = d - timedelta(days=d.weekday() + 7)
                    return When((monday + timedelta(days=wd)).isoformat(), "day", True, expr)
            else:
                wd = _WEEKDAYS.index(m.group("weekday").lower())
            if future:
                return When((d + timedelta(days=(wd - d.weekday()) % 7)).isoformat(), "day",
                            True, expr)
            back = (d.weekday() - wd) % 7
            return When((d - timedelta(days=back)).isoformat(), "day", True, expr)
        return When((d - timedelta(days=7)).isoformat(), "week", True, expr)
    if pub[1]:
        return When(f"{pub[0]:04d}-{pub[1]:02d}", "month", True, expr)
    return When(None, None, True, expr)


def day_span(partial: str) -> tuple:
    """(first, last) ISO day a partial date covers: "2021" is 2021-01-01 to
    2021-12-31, "2021-09" all of September, a full date itself."""
    parts = partial.split("-")
    if len(parts) == 3:
        return partial, partial
    month = int(parts[1]) if len(parts) == 2 else 12
    last = f"{parts[0]}-{month:02d}-{calendar.monthrange(int(parts[0]), month)[1]:02d}"
    return (partial + "-01-01")[:10], last


def _parse(published):
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", published or "")
    return tuple(int(g) if g else None for g in m.groups()) if m else (None, None, None)
