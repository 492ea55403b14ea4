"""Numbers as a reader should see them."""

import re

_COUNT = re.compile(r"\b\d{4,}\b")


def thousands(text: str) -> str:
    """``text`` with thousands separators in its whole numbers of four digits
    or more ("n = 12500 paragraphs" becomes "n = 12,500 paragraphs"). For n
    strings and other counts, not for text holding years or ids."""
    return _COUNT.sub(lambda m: f"{int(m.group(0)):,}", text)
