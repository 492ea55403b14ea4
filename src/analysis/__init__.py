"""Content analysis of news coverage of China's #MeToo movement.

The flow, one subpackage per stage:

    corpus -> coding -> cases -> results and plots -> report -> release
    (read, clean,  (codes with   (links, events,   (tables and   (notebooks,  (archive,
     segment)       evidence)     the ledger)        figures)      the page)    verify)

``workflow`` runs it (``run_pipeline``, ``run_all``); ``cli`` is the
``analysis`` command, which only parses and dispatches. ``validation``
measures how far the codes can be trusted; ``core`` is the shared plumbing
(paths, errors, atomic writes, stage stamps and fingerprints, the parallel
map, Parquet streaming, text with offsets). There are no import cycles, and
imports run along the flow; the one exception is the report page, which
takes the citation line from ``release.citation``.
"""

import os
import sys

__version__ = "0.1.0"

# Arrow's allocator: jemalloc, unless the user chose one. The default,
# mimalloc, kept about as much freed memory as was in use while a huge
# document was processed, and the Parquet writer's buffers come from it
# (163 MB for a 50 MB article's body), so each stage started from the last
# one's high-water mark. Arrow reads the variable once, when it first
# allocates, so it is set before pyarrow is imported; the Linux wheels carry
# jemalloc. The bytes written are the same with any allocator.
if sys.platform == "linux" and "pyarrow" not in sys.modules:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
