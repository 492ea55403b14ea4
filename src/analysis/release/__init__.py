"""Releases: the citation (``citation``), frozen and verifiable releases
(``archive``: ``make_release`` and ``verify``), and the pinned environment
(``lockfile``: ``environment.yml`` generated from ``requirements.lock``).
"""
