"""Ordered parallel map over worker processes, with bounded memory.

Both heavy stages (the corpus build and the coder) hand chunks of work to
worker processes and write the results in input order, so their outputs never
depend on timing or on the number of workers. A worker exits when its
parent dies, so a killed run leaves no process behind.
"""

import os
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from multiprocessing import get_context


def default_jobs() -> int:
    return min(2, os.cpu_count() or 1)


def imap_ordered(fn, items, jobs: int, *args):
    """Yield fn(item, *args) for each item, in order, computed in ``jobs``
    spawned worker processes. At most two items per worker are in flight, so
    memory stays bounded however many items there are. With jobs <= 1 it runs
    in this process."""
    items = iter(items)
    if jobs <= 1:
        for item in items:
            result = fn(item, *args)
            del item  # not held while the caller works on the result
            yield result
        return
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_watch_parent,
                             initargs=(os.getpid(),)) as pool:
        pending = deque(pool.submit(fn, item, *args) for item in islice(items, 2 * jobs))
        while pending:
            fut = pending.popleft()
            nxt = next(items, None)
            if nxt is not None:
                pending.append(pool.submit(fn, nxt, *args))
            yield fut.result()


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the parent process is gone (killed with
    -9, say), instead of waiting forever for work that will never come."""
    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
