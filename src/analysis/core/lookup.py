"""Finding items in a table by sorted hashes, without a Python object per item.

A set or dict of a million paths holds a Python string and a slot for each
(100-200 bytes); a sorted array of 64-bit numbers derived from them holds 8,
and the items themselves stay in compact arrays. A number is not the item, so
every candidate row is checked against the item itself.
"""

import numpy as np


def sorted_rows(numbers: np.ndarray, wanted: np.ndarray, same) -> np.ndarray:
    """The row of each of ``wanted`` in ``numbers`` (sorted; equal numbers
    allowed) whose item is the one wanted, or -1. ``same(rows, at)`` says,
    for rows of the table and positions in ``wanted`` (equal-length integer
    arrays), whether the items are the same, as a boolean array."""
    lo = np.searchsorted(numbers, wanted, "left")
    hi = np.searchsorted(numbers, wanted, "right")
    rows = np.full(len(wanted), -1, np.int64)
    one = np.flatnonzero(hi - lo == 1)
    rows[one] = np.where(same(lo[one], one), lo[one], -1)
    # several rows with the wanted number: the first that is the item
    for i in np.flatnonzero(hi - lo > 1).tolist():
        hit = np.flatnonzero(same(np.arange(lo[i], hi[i]), np.full(hi[i] - lo[i], i)))
        if len(hit):
            rows[i] = lo[i] + hit[0]
    return rows
