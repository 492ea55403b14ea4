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

__version__ = "0.1.0"
