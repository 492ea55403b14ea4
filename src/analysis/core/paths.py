"""Every path the project uses, built from the repository root.

Nothing here depends on the current working directory, so scripts, notebooks
and tests behave the same from anywhere.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # src/analysis
ROOT = PACKAGE.parents[1]

DATA = ROOT / "data"
RAW = DATA / "raw"
PROCESSED = DATA / "processed"
# manual coding sheets and the coders who fill them (human input: never derived)
CODING = DATA / "coding"
CODERS = CODING / "coders.csv"
REPORTS = ROOT / "reports"
NOTEBOOKS = ROOT / "notebooks"
# what is kept only to save time (compiled pattern databases); safe to delete
CACHE = ROOT / "build" / "cache"

INSTRUMENTS = PACKAGE / "instruments"
CLEANING_RULES = INSTRUMENTS / "cleaning.yaml"
CODEBOOK = INSTRUMENTS / "codebook.yaml"
DESIGN = INSTRUMENTS / "design.yaml"
CASES = INSTRUMENTS / "cases.yaml"

MANIFEST_NAME = "manifest.csv"
# A corpus folder may carry its own cleaning profiles beside its manifest.
CORPUS_RULES_NAME = "cleaning.yaml"
