"""The case stage: sentences linked to registered cases, outcome events and
the case ledger.

``registry`` (``instruments/cases.yaml``, checked), ``linking`` (aliases and
surnames to case mentions), ``dates`` (absolute and relative dates),
``events`` (outcome events with the side they favour), ``ledger`` (per case:
the latest status in each arena and the balance) and ``stage`` (the entry
point: ``stage.link_corpus`` writes cases, case_mentions, case_events,
unlinked_events and case_ledger with ``linking.json``).
"""
