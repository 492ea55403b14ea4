"""The report: every notebook executed in a real kernel, exported, and gathered
into one page.

``run_report`` executes the numbered notebooks in ``notebooks/`` with papermill,
with parameters from one versioned file (``notebooks/parameters.yaml``), and
writes into the report folder:

- ``notebooks/NN_name.ipynb`` and ``.html``: the executed notebooks and their
  HTML exports, stripped of times, random ids and absolute paths;
- ``figures/`` and ``tables/``: what the notebooks saved, each file with a
  JSON sidecar (caption, n, inputs);
- ``index.html``: methods generated from the codebook, every figure and table
  with its caption and a link to the notebook that made it, and provenance;
- ``provenance.json``: versions, input checksums, each notebook's key and
  dependencies, and every output with its checksum.

A notebook runs again only when its key or one of its recorded dependencies
changed, or one of its outputs is missing or altered (``provenance``).
Stale notebooks run in a staging folder inside the report folder (so moving
their outputs into place is a rename, even when the report folder is a mount
point); their outputs move into place only when all succeeded, so a failed run leaves the
last good report intact and keeps the failed notebook in ``failed/`` for
inspection.
"""

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core import paths
from ..core.errors import InputError
from ..core.fileio import read_json, replace_if_changed, sha256_file, write_bytes_atomic
from ..core.stages import stamp_checksums
from .execution import execute, export_html
from .page import render_page
from .parameters import PARAMETERS, declared_parameters, load_parameters, notebook_title
from .provenance import PROVENANCE, is_current, provenance, report_package_versions


@dataclass
class ReportResult:
    out_dir: Path
    ran: list = field(default_factory=list)
    current: list = field(default_factory=list)
    written: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)


STAGING = ".staging"  # inside the report folder: the same filesystem, so moves are renames


def listing(folder: Path) -> dict:
    """{relative path: (mtime, size)} of the files under ``folder``; hidden
    top-level entries (the staging folder) are not outputs."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.rglob("*")
            if p.is_file() and not p.relative_to(folder).parts[0].startswith(".")}


def run_report(processed_dir=None, out_dir=None, notebooks_dir=None, parameters_path=None,
               corpus_dir=None, book=None, force=False, progress=None,
               coding_dir=None) -> ReportResult:
    """Execute the stale notebooks, then write index.html and provenance.json.

    ``coding_dir`` is the folder of manual coding sheets for the notebooks
    that declare ``coding_dir``; None gives them no sheets.

    ``progress(message)`` is called as notebooks start and finish. Raises
    InputError for bad parameters and NotebookFailed when a notebook raises;
    either way the report folder keeps its last good contents.
    """
    processed = Path(processed_dir or paths.PROCESSED)
    out_dir = Path(out_dir or paths.REPORTS)
    notebooks = sorted(Path(notebooks_dir or paths.NOTEBOOKS).glob("[0-9]*.ipynb"))
    if not notebooks:
        raise InputError(f"{notebooks_dir or paths.NOTEBOOKS}: no notebooks named NN_*.ipynb.")
    params_path = Path(parameters_path or PARAMETERS)
    version, params = load_parameters(params_path, notebooks)
    say = progress or (lambda m: None)
    old = read_json(out_dir / PROVENANCE)
    # notebooks run in the staging folder, one level below the report folder
    # (as the executed notebooks are), so their paths are relative to it
    staging = out_dir / STAGING
    processed_rel = os.path.relpath(processed.resolve(), staging.resolve())
    coding_rel = (os.path.relpath(Path(coding_dir).resolve(), staging.resolve())
                  if coding_dir is not None else None)
    sums = stamp_checksums(processed)
    packages = report_package_versions()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    entries, stale = {}, []
    for nb_path in notebooks:
        name = nb_path.stem
        p = {"processed_dir": processed_rel, "output_dir": ".", **params[name]}
        if "coding_dir" in declared_parameters(nb_path):
            p["coding_dir"] = coding_rel
        key = {"notebook_sha256": sha256_file(nb_path), "parameters": p, "packages": packages,
               "python": python}
        entry = old.get("notebooks", {}).get(name)
        if not force and is_current(entry, key, out_dir, sums, staging):
            entries[name] = entry
        else:
            entries[name] = {"key": key}
            stale.append(nb_path)

    result = ReportResult(out_dir, ran=[p.stem for p in stale],
                          current=[p.stem for p in notebooks if p not in stale])
    out_dir.mkdir(parents=True, exist_ok=True)
    if stale:
        import nbformat  # imported on use, as in execution.execute

        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        saved_env = {k: os.environ.get(k) for k in ("PYTHONHASHSEED", "MPLBACKEND")}
        # the kernels inherit these: fixed hashing order, and matplotlib's inline backend
        os.environ["PYTHONHASHSEED"] = "0"
        os.environ.pop("MPLBACKEND", None)
        try:
            produced = {}
            for i, nb_path in enumerate(stale, 1):
                name = nb_path.stem
                say(f"[{i}/{len(stale)}] running {nb_path.name} ...")
                t0 = time.perf_counter()
                before = listing(staging)
                nb, deps = execute(nb_path, staging, entries[name]["key"]["parameters"],
                                   out_dir)
                data = (nbformat.writes(nb) + "\n").encode("utf-8")
                (staging / "notebooks" / f"{name}.ipynb").write_bytes(data)
                (staging / "notebooks" / f"{name}.html").write_bytes(
                    export_html(nb, notebook_title(read_json(nb_path), name)))
                after = listing(staging)
                mine = sorted(f for f in after if after[f] != before.get(f))
                for f in mine:
                    other = produced.get(f)
                    if other and other != name:
                        raise InputError(f"notebooks {other}.ipynb and {name}.ipynb both write "
                                         f"{f}; give one of them another name.")
                    produced[f] = name
                entries[name]["dependencies"] = deps
                entries[name]["outputs"] = mine
                result.seconds[name] = time.perf_counter() - t0
                say(f"[{i}/{len(stale)}] {nb_path.name} done in {result.seconds[name]:.1f} s")
            _publish(staging, out_dir, stale, entries, old, result)
        finally:
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(out_dir / "failed", ignore_errors=True)
    # outputs of notebooks that no longer exist
    for name, entry in sorted(old.get("notebooks", {}).items()):
        if name not in entries:
            for f in sorted(entry.get("outputs", {})):
                if (out_dir / f).is_file():
                    (out_dir / f).unlink()
                    result.removed.append(f)

    record = provenance(processed, corpus_dir, out_dir, params_path, version, packages, python,
                        entries, notebooks)
    recorded = old.get("outputs", {})
    index_current = (not stale and {k: v for k, v in old.items() if k != "outputs"} == record
                     and all((out_dir / f).is_file() and sha256_file(out_dir / f) == sha
                             for f, sha in recorded.items()))
    # the page is a function of the provenance (code, instruments, every
    # notebook's outputs), so an unchanged provenance needs no new page
    if not index_current:
        index = render_page(out_dir, processed, notebooks, entries, record, book)
        if write_bytes_atomic(out_dir / "index.html", index):
            result.written.append("index.html")
    record["outputs"] = {f: sha256_file(out_dir / f) for f in sorted(listing(out_dir))
                         if f != PROVENANCE}
    if write_bytes_atomic(out_dir / PROVENANCE,
                          (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()):
        result.written.append(PROVENANCE)
    return result


def _publish(staging, out_dir, stale, entries, old, result):
    """Move the stale notebooks' outputs into the report folder, with their
    outputs from the last run that they no longer write removed."""
    names = {p.stem for p in stale}
    owners = {f: name for name, entry in entries.items() if name not in names
              for f in entry.get("outputs", {})}
    for nb_path in stale:
        for f in entries[nb_path.stem]["outputs"]:
            if f in owners:
                raise InputError(f"notebooks {owners[f]}.ipynb and {nb_path.name} both write "
                                 f"{f}; give one of them another name.")
    for nb_path in stale:
        name = nb_path.stem
        outputs = {}
        for f in entries[name]["outputs"]:
            dest = out_dir / f
            dest.parent.mkdir(parents=True, exist_ok=True)
            if replace_if_changed(staging / f, dest):
                result.written.append(f)
            outputs[f] = sha256_file(dest)
        entries[name]["outputs"] = outputs
        before = old.get("notebooks", {}).get(name, {}).get("outputs", {})
        for f in sorted(set(before) - set(outputs)):
            if (out_dir / f).is_file():
                (out_dir / f).unlink()
                result.removed.append(f)
