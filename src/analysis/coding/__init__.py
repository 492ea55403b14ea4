"""The coding stage: the codebook applied to every paragraph and sentence.

``schema`` (codes and indicators as records), ``codebook`` (loading and
checking ``instruments/codebook.yaml``), ``engine`` (every indicator in one
Hyperscan database), ``coder`` (a segments table in, codes with exact raw
evidence out), ``examples`` (the codebook's examples coded on load),
``kwic`` (evidence in context), ``methods`` (the codebook as methods text)
and ``stage`` (the entry point: ``stage.code_corpus`` writes codes,
doc_codes and code_labels with ``coding.json``).
"""
