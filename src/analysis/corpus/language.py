"""The language of an article, when the manifest does not give it.

``detect(text)`` reads the script of the letters first: Chinese characters
with no kana are Chinese (``zh``), kana Japanese, Hangul Korean, Cyrillic
Russian, Arabic, Greek, Hebrew, Thai and Devanagari likewise by script. Text
in Latin letters is told apart by its commonest short words: English, French,
German, Spanish, Portuguese, Italian and Dutch. A text too short or too mixed
to tell is ``und`` (undetermined). A document in a language the codebook
does not cover is listed as uncoded (coding.stage), never coded as if it had
no codes; an undetermined one is coded (the codebook may well cover it).
"""

import re

import numpy as np

# script of each code point range, counted over the text's code points at once
_RANGES = (  # (first, last, script)
    (0x0041, 0x005A, "latin"), (0x0061, 0x007A, "latin"), (0x00C0, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"), (0x0400, 0x04FF, "cyrillic"), (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"), (0x3040, 0x30FF, "kana"), (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"), (0xAC00, 0xD7AF, "hangul"), (0xF900, 0xFAFF, "han"),
)
_SCRIPTS = sorted({r[2] for r in _RANGES})
_EDGES = np.array(sorted({b for lo, hi, _ in _RANGES for b in (lo, hi + 1)}), dtype=np.uint32)
_BUCKET = np.full(len(_EDGES) + 1, -1, dtype=np.int64)  # bucket -> script index
for _lo, _hi, _name in _RANGES:
    _BUCKET[np.searchsorted(_EDGES, _lo, side="right")] = _SCRIPTS.index(_name)
_BY_SCRIPT = {"hangul": "ko", "cyrillic": "ru", "arabic": "ar", "greek": "el", "hebrew": "he",
              "thai": "th", "devanagari": "hi"}
# The commonest short words of each language written in Latin letters
# (articles, prepositions, pronouns, auxiliaries): general vocabulary.
_FUNCTION_WORDS = {
    "en": "the of and to in is that for it was on with as by he she his her at from "
          "have has are were be this which but not they their said a an no or we you its",
    "fr": "le la les des du de et est une un que qui pour dans sur pas au aux par ce "
          "elle il ont avec sont été",
    "de": "der die das und ist nicht ein eine zu den dem des von mit sich auf für auch "
          "sie er wurde werden hat",
    "es": "el la los las de del y que en un una es por con para se su al lo como más "
          "pero fue ha",
    "pt": "o a os as de do da dos das e que em um uma é por com para se não na no foi ao",
    "it": "il lo la gli le di del della e che in un una è per con non si sono da al nel "
          "ha stato",
    "nl": "de het een en van in is dat op te zijn met voor niet aan er die ook door maar werd",
}
# only the words of one language count: "a", "no", "de" are in several
_OWNER = {}
for _lang, _words in _FUNCTION_WORDS.items():
    for _w in _words.split():
        _OWNER[_w] = None if _w in _OWNER else _lang
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
SAMPLE = 5_000  # characters read from the start of a text
WORDS_SAMPLE = 1_500


def detect(text: str) -> str:
    """A language tag for ``text`` (``zh``, ``en``, ``ja``...), or ``und``."""
    sample = text[:SAMPLE]
    points = np.frombuffer(sample.encode("utf-32-le"), dtype=np.uint32)
    buckets = _BUCKET[np.searchsorted(_EDGES, points, side="right")]
    counts = dict(zip(_SCRIPTS, np.bincount(buckets[buckets >= 0],
                                            minlength=len(_SCRIPTS)).tolist()))
    # words of the first WORDS_SAMPLE characters: some 250, enough to tell
    words = _LATIN_WORD.findall(sample[:WORDS_SAMPLE].lower()) if counts["latin"] else []
    # in words: about five letters of an alphabet to a word, two Chinese
    # characters, kana or Hangul syllables
    weights = {k: n / (2 if k in ("han", "kana", "hangul") else 5) for k, n in counts.items()}
    script = max(weights, key=lambda k: (weights[k], k))
    if weights[script] < 5:
        return "und"
    if script == "kana" or (script == "han" and counts["kana"] >= counts["han"] / 10):
        # Japanese mixes kanji with kana; Chinese has no kana
        return "ja"
    if script == "han":
        return "zh"
    if script != "latin":
        return _BY_SCRIPT[script]
    hits = dict.fromkeys(_FUNCTION_WORDS, 0)
    for w in words:
        lang = _OWNER.get(w)
        if lang:
            hits[lang] += 1
    best = max(hits, key=lambda k: (hits[k], k))
    # the winner must be clear: function words are a fifth or more of
    # running text in each of these languages, shared ones aside
    if hits[best] < max(3, len(words) // 20) or sorted(hits.values())[-2] * 1.5 > hits[best]:
        return "und"
    return best


def primary(tag: str) -> str:
    """The primary subtag of a language tag: ``zh-Hant`` -> ``zh``."""
    return (tag or "").strip().lower().replace("_", "-").split("-")[0]
