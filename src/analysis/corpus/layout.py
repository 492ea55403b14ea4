"""Layout detectors: what one line's pattern cannot see.

A page dump's furniture is often recognisable only from where a line stands
and what surrounds it: the headline is the first headline-like line above
the first paragraph, everything above it is masthead and navigation, a short
line beside a photo credit is a caption, three short headlines in a row are
related links, and a line that recurs on many pages of one site is the site's
own. These functions work on the line *shapes* of one document (no regular
expression of page vocabulary lives here: that is ``instruments/cleaning.yaml``)
and on the corpus-wide count of recurring lines made at build time.

Each returns decisions as (index, role, rule) so the audit can name them.
"""

import hashlib
import re
from urllib.parse import urlsplit

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_SENTENCE_END = frozenset(".!。！;；")
_TRAIL = "\"'”’»)]」』）*… "
_BULLET = re.compile(r"[•·▪►▸*\-–—]\s|\(?\d{1,2}[.)]\s")

# ---------------------------------------------------------------- line shape


def size(s: str) -> tuple[int, int]:
    """(Latin-script words, Chinese characters) of a line."""
    cjk = len(_CJK.findall(s))
    words = len(_LATIN_WORD.findall(_CJK.sub(" ", s))) if cjk else len(s.split())
    return words, cjk


def _last(s: str) -> str:
    return s.rstrip(_TRAIL)[-1:]


def ends_like_sentence(s: str) -> bool:
    """A full stop or exclamation mark ends it (a question mark may end a
    headline; "…" ends a truncated teaser, not a sentence)."""
    return _last(s) in _SENTENCE_END


def paragraph_like(s: str) -> bool:
    """Long enough to be running text: 20 words or 50 Chinese characters, or a
    sentence of 10 words or 25 characters."""
    words, cjk = size(s)
    if words >= 20 or cjk >= 50:
        return True
    return ends_like_sentence(s) and (words >= 10 or cjk >= 25)


def headline_like(s: str, max_words: int) -> bool:
    """No sentence end, no trailing colon, at most ``max_words`` words (or
    two characters per word), and a capital letter or Chinese text."""
    if ends_like_sentence(s) or _last(s) in ":：" or _BULLET.match(s):
        return False
    words, cjk = size(s)
    if words + cjk / 2 > max_words:
        return False
    return bool(cjk) or any(c.isupper() for c in s)


def short_link_like(s: str) -> bool:
    """What a related link, a menu entry or a teaser headline looks like: no
    sentence end, not a question (a run of questions is rhetoric), not cut
    off with "…" (a truncated paragraph), no list bullet, at most 16 words
    or 40 Chinese characters."""
    if (ends_like_sentence(s) or _BULLET.match(s) or _last(s) in "?？"
            or s.rstrip(_TRAIL[:-2]).endswith(("…", "..."))):
        return False
    words, cjk = size(s)
    return words <= 16 and cjk <= 40


def title_sized(s: str, min_words: int) -> bool:
    words, cjk = size(s)
    return words >= min_words or cjk >= 8


# ---------------------------------------------------------------- the title

HEADER_LINES = 15  # the headline is among the first this many non-blank lines


def choose_title(shown: list, free: list, min_words: int, max_words: int, outlet: str = "",
                 stops=None):
    """Index of the title line, or None.

    ``shown`` holds each line as a reader sees it ('' for blank lines),
    ``free`` whether no rule claimed it, ``stops`` whether a rule opened a
    section there. The header zone is the non-blank lines above the first
    unclaimed line that is paragraph-like or ends like a sentence (at most
    HEADER_LINES of them; a line that the next one continues in lower case
    is a wrapped paragraph); the title is its first unclaimed headline-like
    line of ``min_words`` words (or 8 Chinese characters), else its longest
    headline-like line of at least 2 words (or 4 characters). A line that
    starts with the ``outlet``'s name is its masthead, not a headline."""
    outlet = " ".join(outlet.split()).casefold()
    candidates, seen = [], 0
    for i, s in enumerate(shown):
        if not s:
            continue
        seen += 1
        if seen > HEADER_LINES:
            break
        if stops and stops[i]:
            break  # a comments section or the like opens: no headline below
        if not free[i]:
            continue
        if paragraph_like(s) or ends_like_sentence(s):
            break
        if outlet and s.casefold().startswith(outlet):
            continue
        if i + 1 < len(shown) and free[i + 1] and shown[i + 1][:1].islower():
            break  # a hard-wrapped paragraph goes on in the next line: the text has begun
        if headline_like(s, max_words):
            if title_sized(s, min_words):
                return i
            candidates.append(i)
    fallback = [i for i in candidates if size(shown[i])[0] >= 2 or size(shown[i])[1] >= 4]
    if not fallback:
        return None
    return max(fallback, key=lambda i: (len(shown[i]), -i))


_SEPARATOR = re.compile(r"\s*[|｜\-–—_:：]\s*")


def repeats_title(s: str, title: str) -> bool:
    """The headline printed again: the same text, the title with a site
    name after a separator ("Headline | Site", "Headline-Site"), or the title
    glued to (part of) itself."""
    if s == title:
        return True
    if s.startswith(title) and title.startswith(s[len(title):]):
        return True
    longer, shorter = (title, s) if len(title) > len(s) else (s, title)
    if not shorter or not longer.startswith(shorter) or len(shorter) < 0.5 * len(longer):
        return False
    return _SEPARATOR.match(longer, len(shorter)) is not None


# ---------------------------------------------------------------- blocks


def blank_separated(shown: list) -> bool:
    """Whether blank lines separate the document's lines (most non-blank
    lines are followed by a blank one), so that a run of consecutive
    non-blank lines is one block, such as a picture with its caption."""
    nonblank = followed = 0
    for i, s in enumerate(shown[:-1]):
        if s:
            nonblank += 1
            followed += not shown[i + 1]
    return nonblank > 1 and followed * 2 >= nonblank


def figure_blocks(shown: list, free: list, figure: list):
    """Indexes of the unclaimed lines in a block (consecutive non-blank
    lines) that holds a picture's credit or caption line, except lines that
    read like a paragraph (a standfirst or the lede can sit right above a
    picture)."""
    out, block = [], []
    for i, s in enumerate(shown + [""]):
        if s:
            block.append(i)
            continue
        if any(figure[j] for j in block):
            out += [j for j in block if free[j] and not paragraph_like(shown[j])]
        block = []
    return out


_LEAD_GLUE = re.compile(r"\s*(?:[,.:;(（，。：；]|$)")


def caption_leads(shown: list, free: list, max_words: int, look: int = 4):
    """(alt, caption) index pairs: a short unclaimed line that the start of one
    of the next ``look`` non-blank lines repeats, followed by punctuation or
    nothing (an image's alt text, then its caption, in that order)."""
    pairs = []
    nonblank = [i for i, s in enumerate(shown) if s]
    for k, i in enumerate(nonblank):
        s = shown[i]
        if not free[i] or not headline_like(s, max_words):
            continue
        words, cjk = size(s)
        if words < 2 and cjk < 6:
            continue
        for j in nonblank[k + 1:k + 1 + look]:
            t = shown[j]
            if t.startswith(s) and _LEAD_GLUE.match(t, len(s)):
                pairs.append((i, j))
                break
    return pairs


def link_runs(shown: list, free: list, min_run: int = 3):
    """Indexes of unclaimed short link-like lines that come three or more in a
    row, with only blank or claimed (furniture) lines between them."""
    out, run = [], []
    for i, s in enumerate(shown + ["."]):
        if not s or (i < len(free) and not free[i]):
            continue
        if i < len(shown) and short_link_like(s):
            run.append(i)
            continue
        if len(run) >= min_run:
            out += run
        run = []
    return out


# ---------------------------------------------------------------- timestamps

_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DAYS = r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
_DATE_TOKEN = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"|\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号號]|\d{4}\s*年(?:\s*\d{1,2}\s*月)?"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTHS})\.?\s+\d{{4}}|\b(?:{_DAYS})\b\.?"
    r"|\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?|\b\d{1,2}\s*[ap]\.?m\.?"
    r"|(?:上午|下午|早上|晚上)?\s*\d{1,2}\s*[点點時时]\s*(?:\d{1,2}\s*分)?(?:\s*\d{1,2}\s*秒)?"
    r"|\b(?:gmt|utc|edt|est|cdt|cst|pdt|pst|pt|et|bst|cet|hkt|sgt|jst)\b(?:\s*[+-]\s*\d{1,2})?"
    r"|北京[时時][间間]",
    re.IGNORECASE)
_DATE_WORDS = re.compile(
    r"\b(?:published|updated|update|last|posted|date|dated|first|modified|at|on|by|"
    r"issued|time)\b|[发發][布佈表]|更新|[时時][间間]|日期|最新回[复復覆]|[于於]|原[载載]|刊[出登]",
    re.IGNORECASE)


def timestamp_like(s: str) -> bool:
    """A date or time with at most three other words ("Updated: Tuesday, 14
    September 2021, 10:59am", "2021年9月14日 10:30", "date 2022-10-02 World")."""
    if ends_like_sentence(s) and not s.rstrip().endswith(("m.", "M.")):
        return False
    rest, n = _DATE_TOKEN.subn(" ", s)
    if not n:
        return False
    rest = _DATE_WORDS.sub(" ", rest)
    words, cjk = size(re.sub(r"[^\w\u3400-\u9fff]+", " ", rest))
    return words + cjk / 2 <= 3


# ---------------------------------------------------------------- recurrence


def site_key(meta: dict) -> str:
    """The outlet an article belongs to, for counting recurring lines: the
    manifest's outlet, else the host of its address ('' when neither)."""
    outlet = " ".join((meta.get("outlet") or "").split()).casefold()
    if outlet:
        return outlet
    try:
        host = urlsplit(meta.get("url") or "").hostname or ""
    except ValueError:
        host = ""
    return host.removeprefix("www.")


def line_key(site: str, shown: str) -> int:
    """A 64-bit key of a line on a site (stable across runs and machines)."""
    digest = hashlib.blake2b(f"{site}\0{shown}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def countable(shown: str, max_words: int) -> bool:
    words, cjk = size(shown)
    return 0 < words + cjk / 2 <= max_words


# ---------------------------------------------------------------- no article

_LISTING_PATH = re.compile(
    r"/(?:tags?|topics?|categor(?:y|ies)|authors?|search|archives?|labels?|columns?|keywords?|"
    r"zhuanti|tag|list)/[^/]*/?(?:page/\d+/?)?$", re.IGNORECASE)
_LISTING_QUERY = re.compile(r"(?:^|&)(?:s|q|query|search|keyword|tag)=", re.IGNORECASE)


def listing_address(url: str) -> bool:
    """Whether an address is a listing page (a tag, topic, category, author,
    search or archive page), not an article."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return bool(_LISTING_PATH.search(parts.path or "") or _LISTING_QUERY.search(parts.query or ""))


def only_teasers(shown: list, roles: list, rules: list, read_more: str) -> bool:
    """Whether every body line is part of a teaser: an excerpt followed
    (after blank lines) by a read-more link, or a short headline-like line
    just above such an excerpt. Such a page only points to articles
    elsewhere."""
    def next_nonblank(i):
        j = i + 1
        while j < len(roles) and roles[j] == "blank":
            j += 1
        return j if j < len(roles) else None

    def excerpt(i):
        j = next_nonblank(i)
        return j is not None and rules[j] == read_more

    body = [i for i, r in enumerate(roles) if r == "body"]
    if not body:
        return False
    for i in body:
        if excerpt(i):
            continue
        j = next_nonblank(i)
        if not (short_link_like(shown[i]) and j is not None and roles[j] == "body" and excerpt(j)):
            return False
    return True
