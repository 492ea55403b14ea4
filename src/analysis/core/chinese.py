"""Chinese text for matching: traditional characters read as simplified.

The codebook and the registry write Chinese in simplified characters. Text in
traditional characters (Hong Kong, Taiwan, overseas outlets) is matched
through ``fold``, which replaces each traditional character by its
simplified form, one character for one, so that character offsets found in
folded text are offsets into the text itself. The table comes from OpenCC's
traditional-to-simplified conversion (``t2s``) applied to each character on
its own: OpenCC's phrase rules, which may change a text's length, are not
used. Only matching sees folded text; segments and evidence keep what the
article wrote.
"""

import re

import numpy as np

# the CJK blocks OpenCC converts: Extension A, Unified Ideographs, Compatibility
_BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_table = None


def _t2s() -> np.ndarray:
    """Code point -> code point for the Basic Multilingual Plane, built once
    per process from OpenCC (about 0.1 s)."""
    global _table
    if _table is None:
        import opencc  # imported here: only processes that meet Chinese pay for it

        convert = opencc.OpenCC("t2s").convert
        table = np.arange(0x10000, dtype=np.uint32)
        for lo, hi in _BLOCKS:
            for cp in range(lo, hi):
                s = convert(chr(cp))
                if len(s) == 1 and s != chr(cp):
                    table[cp] = ord(s)
        _table = table
    return _table


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Chinese character."""
    return not text.isascii() and _HAN.search(text) is not None


def fold_codepoints(points: np.ndarray) -> np.ndarray:
    """UTF-32 code points with traditional characters made simplified."""
    return np.where(points < 0x10000, _t2s()[points & 0xFFFF], points)


def fold(text: str) -> str:
    """``text`` with traditional characters made simplified, one for one:
    the same length, every other character as it was."""
    if not has_han(text):
        return text
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return fold_codepoints(points).tobytes().decode("utf-32-le")
