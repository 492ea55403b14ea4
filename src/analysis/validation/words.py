"""Words for the TF-IDF baseline and the topic model, in English and Chinese.

Chinese is written without spaces between words, so its runs of characters
are cut into words by jieba (its dictionary ships inside the package), after
traditional characters are read as simplified (``core.chinese.fold``), so
that both scripts give the same words. Other text gives its words of two or
more letters, lower-cased. Punctuation, digits and a short list of Chinese
function words are left out.
"""

import logging
import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ..core.chinese import fold, has_han

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECES = re.compile(rf"[{CJK}]+|[^\W\d_{CJK}]{{2,}}")
_HAN_RUN = re.compile(rf"[{CJK}]+")
# particles, pronouns, conjunctions and prepositions: in every paragraph
CHINESE_STOP_WORDS = frozenset(
    "的 了 是 在 和 与 也 都 而 及 等 被 把 对 为 这 那 她 他 我 你 它 们 她们 他们 我们 "
    "个 中 上 下 不 有 就 将 并 其 之 以 于 从 到 说 称 着 过 还 又 或 但 却 因 所 该 此 "
    "一 一个 这个 那个 已 已经 没有 自己 表示 如果 因为 所以 可以".split())
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | CHINESE_STOP_WORDS
_jieba = []


def _cut():
    if not _jieba:
        import jieba  # imported here: loading its dictionary takes about a second

        jieba.setLogLevel(logging.WARNING)  # it reports loading its dictionary
        _jieba.append(jieba.Tokenizer())
    return _jieba[0].lcut


def words(text: str) -> list:
    """The words of ``text``: jieba's words for Chinese, lower-cased words of
    two or more letters otherwise, in reading order."""
    if not has_han(text):
        return [w.lower() for w in _PIECES.findall(text)]
    out = []
    for piece in _PIECES.findall(fold(text)):
        if _HAN_RUN.fullmatch(piece):
            out += _cut()(piece)
        else:
            out.append(piece.lower())
    return out
