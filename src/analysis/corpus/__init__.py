"""The corpus stage: raw articles in, the processed corpus out.

``manifest`` (the corpus's list of articles, checked; adding articles),
``readers`` (bytes as collected, decoded, one Article per document),
``cleaning`` (a role for every raw line, by rules that are data),
``segmenting`` (paragraphs and sentences with offsets into the raw text) and
``build`` (the entry point: ``build.build`` writes documents, lines, segments
and quarantine with ``build.json``). ``synthetic`` writes generated corpora
for benchmarks only.
"""
