"""Provenance and staleness: what made each notebook's outputs, and whether
that still holds.

A notebook's entry in ``provenance.json`` records its key (its own bytes,
its parameters, the package versions, Python) and its dependencies (the
processed tables it read, the folders of coding sheets it read, and the
package modules it imported, each by checksum) and every output with its
checksum; ``is_current`` checks all of them. ``provenance`` gathers the whole
report's record: versions, inputs, stage keys, processed tables, notebooks.
"""

import os
import subprocess
from pathlib import Path

from .. import __version__
from ..core import paths
from ..core.fileio import csv_checksums, read_json, sha256_file
from ..core.stages import code_fingerprint, package_versions, stamp_checksums

PROVENANCE = "provenance.json"
# the packages whose versions can change what a notebook writes
PACKAGES = ("pandas", "numpy", "pyarrow", "matplotlib", "scikit-learn", "papermill", "nbclient",
            "nbformat", "nbconvert", "ipykernel", "mistune", "hyperscan", "krippendorff")


def _sheets(dependencies) -> dict:
    """{sheet as named in the coding folder (coding/events/x.csv): sha256} of
    every coding sheet the notebooks read."""
    return {f"{deps.get('labels', {}).get(folder, Path(folder).name)}/{f}": sha
            for deps in dependencies for folder, sums in deps.get("folders", {}).items()
            for f, sha in sums.items()}


def source_state(root=None) -> dict:
    """The commit the code was checked out at, and whether the checkout has
    changes not committed (``dirty``: a modified, added or deleted file, or
    an untracked one that is not ignored); {} outside a git checkout (a
    release archive, whose manifest names its commit) or without git."""
    root = Path(root or paths.ROOT)
    if not (root / ".git").exists():
        return {}
    try:
        run = [subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True).stdout
               for args in (["rev-parse", "HEAD"], ["status", "--porcelain"])]
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {"commit": run[0].strip(), "dirty": bool(run[1].strip())}


def module_sha(relpath: str):
    p = paths.PACKAGE.parent / relpath
    return sha256_file(p) if p.is_file() else None


def is_current(entry, key, out_dir, processed_sums, cwd) -> bool:
    """Whether a notebook's recorded run still stands. ``cwd`` is the folder
    notebooks run in, which the folders they read are relative to."""
    if not entry or entry.get("key") != key:
        return False
    deps = entry.get("dependencies", {})
    if any(processed_sums.get(t) != sha for t, sha in deps.get("tables", {}).items()):
        return False
    if any(module_sha(m) != sha for m, sha in deps.get("modules", {}).items()):
        return False
    # lexically: the staging folder that ``cwd`` names exists only during a run
    if any(csv_checksums(os.path.normpath(Path(cwd) / folder)) != sums
           for folder, sums in deps.get("folders", {}).items()):
        return False
    return all((out_dir / f).is_file() and sha256_file(out_dir / f) == sha
               for f, sha in entry.get("outputs", {}).items())


def report_package_versions() -> dict:
    return package_versions(PACKAGES)


def provenance(processed, corpus_dir, out_dir, params_path, version, packages, python,
               entries, notebooks) -> dict:
    """The report's record: versions, parameters, input checksums, the stages'
    keys, the processed tables' checksums and every notebook's entry."""
    stages = {}
    for stage, stamp in (("build", "build.json"), ("coding", "coding.json"),
                         ("linking", "linking.json")):
        stages[stage] = read_json(processed / stamp).get("key", {})
    recorded = stamp_checksums(processed) if processed.is_dir() else {}
    # the tables and stamps, not working files such as the checksum cache
    files = sorted(p.name for p in processed.iterdir() if p.is_file() and p.suffix in
                   (".parquet", ".json") and not p.name.startswith(".")) \
        if processed.is_dir() else []
    manifest = Path(corpus_dir or paths.RAW) / "manifest.csv"
    return {
        "analysis_version": __version__,
        "code_sha256": code_fingerprint(),
        "source": source_state(),
        "python": python,
        "packages": packages,
        "parameters": {"file": params_path.name, "version": version,
                       "sha256": sha256_file(params_path)},
        "inputs": {"manifest_sha256": sha256_file(manifest) if manifest.is_file() else None,
                   "inputs_sha256": stages["build"].get("inputs_sha256"),
                   "coding_sheets": _sheets(entries[p.stem].get("dependencies", {})
                                            for p in notebooks)},
        "stages": stages,
        # the stages' stamps hold their tables' checksums: no rehash of large tables
        "processed": {f: recorded.get(f) or sha256_file(processed / f) for f in files},
        "citation": ({"file": "CITATION.cff",
                      "sha256": sha256_file(paths.ROOT / "CITATION.cff")}
                     if (paths.ROOT / "CITATION.cff").is_file() else None),
        "notebooks": {p.stem: entries[p.stem] for p in notebooks},
    }
