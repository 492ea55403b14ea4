"""Ordered parallel map, on local worker processes or on a Dask cluster, with
bounded memory.

The heavy stages (the corpus build, the coder and the case linker) hand
chunks of work to ``imap_ordered`` and write the results in input order, so
their outputs never depend on timing, on the number of workers or on where
the work ran. By default it runs on a pool of local processes, one per core;
``use_dask(address)`` sends the same chunks, to the same functions, to a
Dask cluster instead (``"local"`` starts a local one). A local worker exits
when its parent dies, so a killed run leaves no process behind.

On a real cluster every worker must have this package installed at the same
version, and the build's workers must see the corpus folder at the same path
(a shared filesystem); the coder and the linker receive their chunks whole.
"""

import atexit
import os
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from multiprocessing import get_context

_DASK = {"address": None, "client": None}


def default_jobs() -> int:
    """Every core the machine has."""
    return os.cpu_count() or 1


class Done:
    """An item already computed by the caller (work that must run in order,
    in this process): ``imap_ordered`` yields its value in its place."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def use_dask(address) -> None:
    """Run every later ``imap_ordered`` on the Dask scheduler at ``address``
    ("tcp://host:8786"), or on a local cluster of one single-threaded worker
    process per core for "local"; None goes back to the local process pool."""
    close_dask()
    _DASK["address"] = address


def close_dask() -> None:
    client, _DASK["client"] = _DASK["client"], None
    if client is not None:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


atexit.register(close_dask)


def imap_ordered(fn, items, jobs: int, *args):
    """Yield fn(item, *args) for each item, in order (a ``Done`` item's value
    as it is). With jobs <= 1 (a caller with one chunk of work passes 1) it
    runs in this process. Otherwise it runs in ``jobs`` spawned worker
    processes, at most two items per worker in flight, so memory stays
    bounded however many items there are, or, after ``use_dask``, on the
    cluster, as many items in flight as twice its threads."""
    items = iter(items)
    if jobs > 1 and _DASK["address"]:
        yield from _dask_map(fn, items, args)
        return
    if jobs <= 1:
        for item in items:
            result = item.value if isinstance(item, Done) else fn(item, *args)
            del item  # not held while the caller works on the result
            yield result
        return
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_watch_parent,
                             initargs=(os.getpid(),)) as pool:
        yield from _ordered(lambda item: pool.submit(fn, item, *args), items, 2 * jobs)


def _ordered(submit, items, in_flight: int):
    """Results of ``submit(item)`` (futures) in order, ``in_flight`` at most."""
    def start(item):
        return item if isinstance(item, Done) else submit(item)

    pending = deque(start(item) for item in islice(items, in_flight))
    while pending:
        head = pending.popleft()
        nxt = next(items, None)
        if nxt is not None:
            pending.append(start(nxt))
        yield head.value if isinstance(head, Done) else head.result()


def _dask_map(fn, items, args):
    client = _dask_client()
    # the shared arguments (codebook, registry, rules) go to every worker once,
    # each whole (scatter would send a collection's items one by one)
    shared = client.scatter(list(args), broadcast=True, hash=False)
    threads = max(sum(client.nthreads().values()), 1)

    def submit(item):  # the chunk goes to a worker as data, not inside the task graph
        return client.submit(fn, client.scatter([item], hash=False)[0], *shared, pure=False)

    yield from _ordered(submit, items, 2 * threads)


def _dask_client():
    if _DASK["client"] is None:
        from distributed import Client, LocalCluster

        address = _DASK["address"]
        if address == "local":
            cluster = LocalCluster(n_workers=default_jobs(), threads_per_worker=1,
                                   processes=True, dashboard_address=None, memory_limit=0)
            _DASK["client"] = Client(cluster)
        else:
            _DASK["client"] = Client(address)
    return _DASK["client"]


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the parent process is gone (killed with
    -9, say), instead of waiting forever for work that will never come."""
    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
