"""Validation: how far the automated measures can be trusted.

``sheets`` (manual coding sheets: samples, blank sheets, checked reading),
``agreement`` (Krippendorff's alpha between coders; the dictionary coder
against the human consensus, with every disagreement), ``baseline`` (a
cross-validated supervised classifier beside the dictionary) and ``topics``
(an NMF topic model against the coded themes). Each is a set of pure
functions the ``05_validation`` notebook and the command line call.
"""
