"""What the build has already seen, in memory that grows by bytes, not
Python objects, per article: the doc ids and text digests it checks every
article against, and the doc ids it names in its duplicate notes.

A Python set or dict of bytes costs about 90-250 bytes a member; a
``DigestSet`` holds a member in 24 (two halves of a 16-byte digest and a
value, in sorted NumPy arrays) and ``Strings`` holds a text in its UTF-8
bytes and an offset.
"""

import numpy as np
import pyarrow as pa

# Members added since the last merge are held in a dict until there are this
# many, or an eighth of the merged ones if more: a merge sorts every member.
_RECENT = 65_536


class DigestSet:
    """A set of digests of at least 16 bytes (the first 16 count: that two of a
    million members share them by chance is about 1 in 10^27), each
    with an int64 value.

    The members added last are a dict; the rest are sorted arrays (high and
    low halves, value), so a lookup is a dict probe and a binary search.
    """

    def __init__(self):
        self.hi = np.empty(0, np.uint64)
        self.lo = np.empty(0, np.uint64)
        self.values = np.empty(0, np.int64)
        self.recent = {}

    def __len__(self) -> int:
        return len(self.hi) + len(self.recent)

    def get(self, digest: bytes):
        """The value of ``digest``, or None when it is not a member."""
        key = digest[:16]
        value = self.recent.get(key)
        if value is not None:
            return value
        hi, lo = int.from_bytes(key[:8], "big"), int.from_bytes(key[8:], "big")
        i = int(np.searchsorted(self.hi, hi))
        # equal high halves are next to each other, in order of the low half
        while i < len(self.hi) and int(self.hi[i]) == hi:
            if int(self.lo[i]) == lo:
                return int(self.values[i])
            i += 1
        return None

    def add(self, digest: bytes, value: int = 0) -> None:
        """Make ``digest`` a member with ``value`` (it must not be one yet)."""
        self.recent[digest[:16]] = value
        if len(self.recent) >= max(_RECENT, len(self.hi) // 8):
            self._merge()

    def _merge(self) -> None:
        keys = b"".join(self.recent)
        halves = np.frombuffer(keys, ">u8").reshape(-1, 2).astype(np.uint64)
        hi = np.concatenate((self.hi, halves[:, 0]))
        lo = np.concatenate((self.lo, halves[:, 1]))
        values = np.concatenate((self.values, np.fromiter(self.recent.values(), np.int64,
                                                          len(self.recent))))
        self.recent = {}
        order = np.lexsort((lo, hi))
        self.hi, self.lo, self.values = hi[order], lo[order], values[order]


class Strings:
    """A growing list of texts, appended and read back by position, held as
    Arrow string arrays of _RECENT texts each (their bytes and an offset)."""

    def __init__(self):
        self.blocks, self.recent = [], []

    def __len__(self) -> int:
        return len(self.blocks) * _RECENT + len(self.recent)

    def append(self, text: str) -> int:
        """Add ``text``; its position."""
        self.recent.append(text)
        if len(self.recent) == _RECENT:
            self.blocks.append(pa.array(self.recent, pa.string()))
            self.recent = []
        return len(self) - 1

    def __getitem__(self, i: int) -> str:
        block, at = divmod(i, _RECENT)
        if block < len(self.blocks):
            return self.blocks[block][at].as_py()
        return self.recent[at]
