"""Content analysis of news coverage of China's #MeToo movement.

Stages, one module each: ``manifest`` (the corpus's list of articles),
``corpus`` (reading and decoding), ``cleaning`` (line roles, normalisation),
``segmenting`` (paragraphs and sentences), ``pipeline`` (the build that writes
``data/processed``), ``codebook`` and ``coding`` (codes with evidence),
``cases``, ``events`` and ``dates`` (case linking, outcome events, the
ledger), ``synthetic`` (generated corpora for benchmarks only). Shared
plumbing: ``paths``, ``fileio``, ``parallel``, ``errors``; ``cli`` is the
``analysis`` command.
"""

__version__ = "0.1.0"
