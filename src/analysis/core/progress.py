"""Progress of the long stages: a bar with the rate and the time left.

``Progress(what, unit)`` is called as ``progress(done, total)`` by a stage
as its work advances. The bar (tqdm) appears only on a terminal and only
once the stage has run for two seconds, so short runs, logs and tests stay
quiet; large counts are shown scaled (12.3k, 1.05M).
"""

import sys

from tqdm import tqdm

DELAY = 2.0  # seconds before a bar appears


class Progress:
    """A callable ``(done, total)`` drawing one bar for one stage."""

    def __init__(self, what: str, unit: str):
        self.what, self.unit, self.bar = what, unit, None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.what, unit=f" {self.unit}", unit_scale=True,
                            delay=DELAY, disable=None, file=sys.stderr, dynamic_ncols=True,
                            leave=False)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
