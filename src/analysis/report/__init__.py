"""The report: notebooks executed in real kernels and gathered into one page.

``session`` (what a notebook calls: the selected documents, processed
tables, saving figures and tables with provenance sidecars), ``parameters``
(the versioned parameters file, checked against each notebook),
``execution`` (one notebook through papermill, made deterministic),
``provenance`` (what made each output, and staleness), ``page`` (the report
page from ``templates/index.html.j2``) and ``run`` (the entry point:
``run.run_report``).

This ``__init__`` imports nothing: a notebook imports only ``session``, so
the modules it depends on (and so what reruns it) stay few.
"""
