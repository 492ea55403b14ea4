"""One run at a time per output folder, and nothing left behind by a run
that died.

``folder_lock`` takes an exclusive lock on an output folder itself (flock on
the folder's descriptor: no lock file to publish or to leave behind, and the
system releases it when the process ends, even by kill -9). A second run
that wants the same folder is refused at once. Holding the lock, a run
removes the temporary folders an interrupted run left there: no other run
can be using them.
"""

import fcntl
import os
import shutil
from contextlib import ExitStack, contextmanager
from pathlib import Path

from .errors import InputError
from .fileio import shown

# temporary folders the stages and the report make inside their output folder
TEMP_PREFIXES = (".build-", ".coding-", ".linking-", ".staging")


@contextmanager
def folder_lock(folder, what: str):
    """Hold ``folder`` (created when missing, and removed again if the run
    left it empty) for this run; InputError when another run holds it.
    ``what`` names the outputs, for the message."""
    folder = Path(folder)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{shown(folder)}: another `analysis` run is writing {what} there "
                             "now; wait for it to finish (or stop it) and run again. Nothing "
                             "was written.") from None
        for p in sorted(folder.iterdir()):
            if p.name.startswith(TEMP_PREFIXES) and p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
        yield folder
    finally:
        os.close(fd)
        if made and not any(folder.iterdir()):
            folder.rmdir()  # a run refused before writing leaves no trace


@contextmanager
def folder_locks(folders: dict):
    """folder_lock on each of {folder: what}, the same folder once, in a
    fixed order (so two runs never wait on each other crosswise)."""
    seen = {}
    for folder, what in folders.items():
        seen.setdefault(Path(folder).resolve(), what)
    with ExitStack() as stack:
        for folder in sorted(seen):
            stack.enter_context(folder_lock(folder, seen[folder]))
        yield
