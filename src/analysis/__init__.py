"""Content analysis of news coverage of China's #MeToo movement.

Stages, one module each: ``manifest`` (the corpus's list of articles),
``corpus`` (reading and decoding), ``cleaning`` (line roles, normalisation),
``segmenting`` (paragraphs and sentences), ``pipeline`` (the build that writes
``data/processed``), ``synthetic`` (generated corpora for benchmarks only).
"""

__version__ = "0.1.0"
