"""The report's tables, by research question: pure functions from processed
tables (pandas DataFrames) to the tables the notebooks show and save.

``selection`` (documents by outlet and date; keeping figures readable),
``corpus`` (what was analysed and what cleaning kept), ``measures`` (codes
per unit, shares, co-occurrence: shared by every question), ``framing``
(RQ1), ``outcomes`` (RQ2) and ``backlash`` (RQ3).
"""
