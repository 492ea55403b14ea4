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

A notebook runs again only when its key (its own bytes, its parameters, the
package versions) or one of its recorded dependencies (the processed tables it
read, the folder of coding sheets it read, and the package modules it
imported, by checksum) changed, or one of its outputs is missing or altered.
Stale notebooks run in a staging folder beside the report folder; their
outputs move into place only when all succeeded, so a failed run leaves the
last good report intact and keeps the failed notebook in ``failed/`` for
inspection.
"""

import ast
import html
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, paths
from .errors import InputError
from .fileio import (csv_checksums, read_mapping, replace_if_changed, sha256_file, shown,
                     stamp_checksums, write_bytes_atomic)

PARAMETERS = paths.NOTEBOOKS / "parameters.yaml"
PROVENANCE = "provenance.json"
SET_BY_RUNNER = ("processed_dir", "output_dir", "coding_dir")
KERNEL = "python3"
# the packages whose versions can change what a notebook writes
PACKAGES = ("pandas", "numpy", "pyarrow", "matplotlib", "scikit-learn", "papermill", "nbclient",
            "nbformat", "nbconvert", "ipykernel", "mistune", "hyperscan", "krippendorff")
TABLE_ROWS_SHOWN = 50
_DEPS_CELL = "record-dependencies"


class NotebookFailed(Exception):
    """A notebook failed: the message names the notebook, the cell and the
    error, and where the executed notebook is kept."""


@dataclass
class ReportResult:
    out_dir: Path
    ran: list = field(default_factory=list)
    current: list = field(default_factory=list)
    written: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)


# -- parameters ----------------------------------------------------------------

def declared_parameters(nb_path: Path) -> dict:
    """The parameters cell of a notebook as {name: default value}; InputError
    when there is not exactly one cell tagged ``parameters`` or a default is
    not a literal."""
    nb = _read_json(nb_path)
    if not nb.get("cells"):
        raise InputError(f"{nb_path}: not a notebook (no cells in its JSON); save it again from "
                         "JupyterLab.")
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise InputError(f"{nb_path}: {len(cells)} cells are tagged `parameters`; tag exactly one "
                         "code cell (JupyterLab: the cell's property inspector, Tags).")
    out = {}
    source = cells[0]["source"]
    for node in ast.parse(source if isinstance(source, str) else "".join(source)).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            raise InputError(f"{nb_path}: the parameters cell may hold only assignments "
                             f"`name = value`; line {node.lineno} is not one.")
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise InputError(f"{nb_path}: parameter {node.targets[0].id!r} (line {node.lineno}) "
                             "must be a literal (a string, number, list, True/False or None)."
                             ) from None
    return out


def load_parameters(path, notebooks: list) -> tuple:
    """(version, {notebook name: parameters}) from the parameters file: the
    ``common`` values a notebook declares, then its own section. InputError
    naming the file and key for unknown sections, notebooks or parameters."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the parameters file ({e.strerror}); pass one with "
                         "--parameters.") from None
    doc = read_mapping(path, raw)
    problems = [f"{path}: unknown key {k!r}; the keys are version, common and notebooks."
                for k in sorted(set(doc) - {"version", "common", "notebooks"})]
    if not isinstance(doc.get("version"), str):
        problems.append(f"{path}: `version` is missing or not a string; write e.g. "
                        "version: \"1.0.0\" and raise it when the parameters change.")
    common = doc.get("common") or {}
    sections = doc.get("notebooks") or {}
    if not (isinstance(common, dict) and isinstance(sections, dict)
            and all(isinstance(v or {}, dict) for v in sections.values())):
        raise InputError(f"{path}: `common`, `notebooks` and each notebook's section must be "
                         "mappings of names to values; see notebooks/parameters.yaml.")
    names = {p.stem: p for p in notebooks}
    declared = {name: declared_parameters(p) for name, p in names.items()}
    for key in sorted(set(common) | {k for v in sections.values() for k in v or {}}):
        if key in SET_BY_RUNNER:
            problems.append(f"{path}: {key!r} is set by the report command (--processed, "
                            "--out, --coding); remove it from the parameters file.")
    for key in sorted(set(common) - set(SET_BY_RUNNER)):
        if not any(key in d for d in declared.values()):
            problems.append(f"{path}: common.{key}: no notebook declares this parameter; "
                            "check its spelling against the notebooks' parameters cells.")
    for name, section in sorted(sections.items()):
        if name not in names:
            problems.append(f"{path}: notebooks.{name}: no notebook {name}.ipynb; the notebooks "
                            f"are {', '.join(sorted(names))}.")
            continue
        for key in sorted(section or {}):
            if key not in declared[name]:
                problems.append(f"{path}: notebooks.{name}.{key}: {name}.ipynb declares no such "
                                f"parameter; its parameters are {', '.join(declared[name])}.")
    if problems:
        raise InputError(problems)
    resolved = {}
    for name in names:
        mine = {k: v for k, v in common.items() if k in declared[name]}
        mine.update(sections.get(name) or {})
        resolved[name] = mine
    return doc["version"], resolved


# -- staleness -----------------------------------------------------------------

def _module_sha(relpath: str):
    p = paths.PACKAGE.parent / relpath
    return sha256_file(p) if p.is_file() else None


def _current(entry, key, out_dir, processed_sums) -> bool:
    """Whether a notebook's recorded run still stands."""
    if not entry or entry.get("key") != key:
        return False
    deps = entry.get("dependencies", {})
    if any(processed_sums.get(t) != sha for t, sha in deps.get("tables", {}).items()):
        return False
    if any(_module_sha(m) != sha for m, sha in deps.get("modules", {}).items()):
        return False
    if any(csv_checksums(out_dir / folder) != sums
           for folder, sums in deps.get("folders", {}).items()):
        return False
    return all((out_dir / f).is_file() and sha256_file(out_dir / f) == sha
               for f, sha in entry.get("outputs", {}).items())


# -- executing -------------------------------------------------------------------

def _listing(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.rglob("*") if p.is_file()}


def _execute(nb_path: Path, staging: Path, parameters: dict, out_dir: Path):
    """Run one notebook in a fresh kernel with the staging folder as its
    working directory; returns (the cleaned executed notebook, its
    dependencies). Raises NotebookFailed or InputError."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    name = nb_path.stem
    source = nbformat.read(nb_path, as_version=4)
    nb = nbformat.from_dict(source)
    deps_file = staging / f".{name}.dependencies.json"
    cell = nbformat.v4.new_code_cell(
        f"import analysis.notebook\nanalysis.notebook.write_dependencies({deps_file.name!r})")
    cell.id = _DEPS_CELL
    nb.cells.append(cell)
    executed = staging / "notebooks" / f"{name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(nb, str(executed), parameters=parameters,
                                   kernel_name=KERNEL, cwd=str(staging), progress_bar=False,
                                   log_output=False)
    except PapermillExecutionError as e:
        kept = out_dir / "failed" / f"{name}.ipynb"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(executed, kept)
        # papermill adds the injected-parameters cell after the parameters cell
        where = next((i for i, c in enumerate(source.cells)
                      if "parameters" in c.get("metadata", {}).get("tags", [])), -1)
        cell_no = e.cell_index - (1 if e.cell_index > where + 1 else 0) + 1
        first = next((ln for ln in e.source.splitlines() if ln.strip()), "")
        if e.ename == "InputError":
            raise InputError(f"notebook {nb_path.name}: {e.evalue}") from None
        raise NotebookFailed(
            f"notebook {nb_path.name} failed in cell {cell_no} of {len(source.cells)} "
            f"({first!r}): {e.ename}: {e.evalue}. The executed notebook is kept at "
            f"{shown(kept)} for inspection; the last good report is unchanged.") from None
    except Exception as e:  # the kernel died, would not start, or timed out
        raise NotebookFailed(f"notebook {nb_path.name} could not run: {type(e).__name__}: "
                             f"{e}. The last good report is unchanged.") from None
    deps = json.loads(deps_file.read_text(encoding="utf-8"))
    deps_file.unlink()
    return _clean(nbformat.read(executed, as_version=4), name), deps


def _clean(nb, name: str):
    """Strip what differs between runs: times, durations, the dependency cell,
    random cell ids, absolute paths and the kernel's patch version."""
    nb.cells = [c for c in nb.cells if c.get("id") != _DEPS_CELL]
    for c in nb.cells:
        c.metadata.pop("papermill", None)
        c.metadata.pop("execution", None)
        if "injected-parameters" in c.metadata.get("tags", []):
            c.id = "injected-parameters"
    pm = nb.metadata.get("papermill", {})
    nb.metadata["papermill"] = {
        "parameters": pm.get("parameters", {}), "version": pm.get("version"),
        "input_path": f"notebooks/{name}.ipynb", "output_path": f"notebooks/{name}.ipynb"}
    nb.metadata.get("language_info", {}).pop("version", None)
    return nb


def _export_html(nb, title: str) -> bytes:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nb, resources={"metadata": {"name": title}})
    return body.encode("utf-8")


# -- the whole report ------------------------------------------------------------

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
    old = _read_json(out_dir / PROVENANCE)
    processed_rel = os.path.relpath(processed.resolve(), out_dir.resolve())
    coding_rel = (os.path.relpath(Path(coding_dir).resolve(), out_dir.resolve())
                  if coding_dir is not None else None)
    sums = stamp_checksums(processed)
    packages = _package_versions()
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
        if not force and _current(entry, key, out_dir, sums):
            entries[name] = entry
        else:
            entries[name] = {"key": key}
            stale.append(nb_path)

    result = ReportResult(out_dir, ran=[p.stem for p in stale],
                          current=[p.stem for p in notebooks if p not in stale])
    out_dir.mkdir(parents=True, exist_ok=True)
    if stale:
        import nbformat

        staging = out_dir.parent / f".{out_dir.name}.staging"
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
                before = _listing(staging)
                nb, deps = _execute(nb_path, staging, entries[name]["key"]["parameters"],
                                    out_dir)
                data = (nbformat.writes(nb) + "\n").encode("utf-8")
                (staging / "notebooks" / f"{name}.ipynb").write_bytes(data)
                (staging / "notebooks" / f"{name}.html").write_bytes(
                    _export_html(nb, _title(_read_json(nb_path), name)))
                after = _listing(staging)
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

    provenance = _provenance(processed, corpus_dir, out_dir, params_path, version, packages,
                             python, entries, notebooks)
    recorded = old.get("outputs", {})
    index_current = (not stale and {k: v for k, v in old.items() if k != "outputs"} == provenance
                     and all((out_dir / f).is_file() and sha256_file(out_dir / f) == sha
                             for f, sha in recorded.items()))
    # the page is a function of the provenance (code, instruments, every
    # notebook's outputs), so an unchanged provenance needs no new page
    if not index_current:
        index = _index(out_dir, processed, notebooks, entries, provenance, book)
        if write_bytes_atomic(out_dir / "index.html", index):
            result.written.append("index.html")
    provenance["outputs"] = {f: sha256_file(out_dir / f) for f in sorted(_listing(out_dir))
                             if f != PROVENANCE}
    if write_bytes_atomic(out_dir / PROVENANCE,
                          (json.dumps(provenance, indent=2, sort_keys=True) + "\n").encode()):
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


def _package_versions() -> dict:
    from .pipeline import package_versions

    return package_versions(PACKAGES)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _title(nb, name: str) -> str:
    """The notebook's first level-one heading (the notebook JSON as a dict)."""
    for c in nb.get("cells", []):
        text = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        if c["cell_type"] == "markdown" and text.startswith("# "):
            return text.splitlines()[0][2:].strip()
    return name


# -- provenance and the index page -------------------------------------------------

def _provenance(processed, corpus_dir, out_dir, params_path, version, packages, python,
                entries, notebooks) -> dict:
    stages = {}
    for stage, stamp in (("build", "build.json"), ("coding", "coding.json"),
                         ("linking", "linking.json")):
        stages[stage] = _read_json(processed / stamp).get("key", {})
    files = sorted(p.name for p in processed.iterdir() if p.is_file() and p.suffix in
                   (".parquet", ".json")) if processed.is_dir() else []
    manifest = Path(corpus_dir or paths.RAW) / "manifest.csv"
    from .pipeline import code_fingerprint

    return {
        "analysis_version": __version__,
        "code_sha256": code_fingerprint(),
        "python": python,
        "packages": packages,
        "parameters": {"file": params_path.name, "version": version,
                       "sha256": sha256_file(params_path)},
        "inputs": {"manifest_sha256": sha256_file(manifest) if manifest.is_file() else None,
                   "inputs_sha256": stages["build"].get("inputs_sha256"),
                   "coding_sheets": {f"{Path(folder).name}/{f}": sha
                                     for p in notebooks
                                     for folder, sums in entries[p.stem].get(
                                         "dependencies", {}).get("folders", {}).items()
                                     for f, sha in sums.items()}},
        "stages": stages,
        "processed": {f: sha256_file(processed / f) for f in files},
        "citation": ({"file": "CITATION.cff",
                      "sha256": sha256_file(paths.ROOT / "CITATION.cff")}
                     if (paths.ROOT / "CITATION.cff").is_file() else None),
        "notebooks": {p.stem: entries[p.stem] for p in notebooks},
    }


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;line-height:1.5;color:#1a1a1a}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}
figure{margin:1.5rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption,.caption{font-size:.92rem;color:#333}.note{background:#fff8e1;padding:.6rem 1rem;
border-left:4px solid #E69F00}.scroll{overflow-x:auto;max-height:32rem;overflow-y:auto}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:.9em}nav ol{columns:2}
"""


def _index(out_dir: Path, processed: Path, notebooks, entries, provenance, book) -> bytes:
    """The report page. Every text that may come from the corpus is escaped."""
    import pandas as pd

    e = html.escape
    coding, linking = provenance["stages"]["coding"], provenance["stages"]["linking"]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>China's #MeToo in the news: framing, case outcomes and backlash</title>",
             f"<style>{_CSS}</style></head><body>",
             "<h1>China's #MeToo in the news: framing, case outcomes and backlash</h1>",
             f"<p>Generated by <code>analysis</code> {e(__version__)} with codebook "
             f"{e(str(coding.get('codebook_version')))} and case registry "
             f"{e(str(linking.get('registry_version')))}; provenance at the end.</p>",
             '<p class="note">Every figure and table describes this corpus only. It is not a '
             "sample drawn to stand for news coverage at large, and the codes are automated "
             "measurements: read them with the validation section.</p>"]
    nav, body, fig_no, tab_no = [], [], 0, 0
    for nb_path in notebooks:
        name = nb_path.stem
        nb_html = f"notebooks/{name}.html"
        title = _title(_read_json(nb_path), name)
        nav.append(f'<li><a href="#{e(name)}">{e(title)}</a></li>')
        body.append(f'<h2 id="{e(name)}">{e(title)}</h2>')
        body.append(f'<p>Made by <a href="{e(nb_html)}">{e(name)}.ipynb</a> (executed copy: '
                    f'<a href="notebooks/{e(name)}.ipynb">ipynb</a>; source: '
                    f"<code>notebooks/{e(name)}.ipynb</code>).</p>")
        items = []
        for f in entries[name].get("outputs", {}):
            if f.endswith(".json") and f.startswith(("figures/", "tables/")):
                info = _read_json(out_dir / f)
                items.append((info.get("order", 0), f, info))
        for _, f, info in sorted(items):
            stem = f.rsplit("/", 1)[1][:-5]
            caption, n = e(info.get("caption", "")), e(info.get("n", ""))
            if info.get("kind") == "figure":
                fig_no += 1
                files = info.get("files", [])
                shown = next((x for x in files if x.endswith(".png")),
                             next((x for x in files if x.endswith(".svg")), None))
                links = " · ".join(f'<a href="figures/{e(x)}">{e(x.rsplit(".", 1)[1].upper())}'
                                   "</a>" for x in files)
                img = (f'<img src="figures/{e(shown)}" alt="{caption}" loading="lazy">'
                       if shown else "")
                body.append(f'<figure id="figure-{e(stem)}">{img}<figcaption><b>Figure '
                            f"{fig_no}.</b> {caption} ({n}). {links} · made by "
                            f'<a href="{e(nb_html)}">{e(name)}</a></figcaption></figure>')
            else:
                tab_no += 1
                csv = out_dir / "tables" / f"{stem}.csv"
                shown = (pd.read_csv(csv, dtype=str, keep_default_na=False,
                                     nrows=TABLE_ROWS_SHOWN)
                         if csv.stat().st_size > 1 else pd.DataFrame())
                rows = info.get("rows", len(shown))
                more = (f" Showing {len(shown)} of {rows:,} rows; the CSV has them all."
                        if rows > len(shown) else "")
                body.append(f'<p class="caption" id="table-{e(stem)}"><b>Table {tab_no}.</b> '
                            f"{caption} ({n}).{more} <a href=\"tables/{e(stem)}.csv\">CSV</a> · "
                            f'made by <a href="{e(nb_html)}">{e(name)}</a></p>')
                body.append('<div class="scroll">' + (shown.to_html(index=False, escape=True,
                                                                    border=0)
                                                      if len(shown.columns) else
                                                      "<p>(empty)</p>") + "</div>")
    nav += ['<li><a href="#methods">Methods</a></li>',
            '<li><a href="#cite">How to cite</a></li>',
            '<li><a href="#provenance">Provenance</a></li>']
    parts += ["<nav><h2>Contents</h2><ol>", *nav, "</ol></nav>", *body]
    parts += ['<h2 id="methods">Methods</h2>', _methods_html(book)]
    parts += ['<h2 id="cite">How to cite</h2>', _cite_html(coding.get("codebook_version"))]
    parts += ['<h2 id="provenance">Provenance</h2>', _provenance_html(provenance, processed)]
    parts.append("</body></html>")
    return ("\n".join(parts) + "\n").encode("utf-8")


def _citation_yaml():
    import yaml

    path = paths.ROOT / "CITATION.cff"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


def _cite_html(codebook_version) -> str:
    """How to cite the version the report was built from (CITATION.cff)."""
    from .release import cite_text

    cff = _citation_yaml()
    if not cff:
        return "<p>(no CITATION.cff in this checkout)</p>"
    e = html.escape
    return (f"<p>This report was built from version {e(str(cff.get('version')))} of the "
            f"repository (code {e(__version__)}, codebook {e(str(codebook_version))}). "
            "Cite it as:</p>"
            f"<blockquote><p>{e(cite_text(cff, codebook_version))}</p></blockquote>"
            "<p><code>CITATION.cff</code> in the repository holds the full citation; a "
            "release's archive and <code>RELEASE_MANIFEST.json</code> let a reader rebuild "
            "and check every output (<code>analysis verify</code>).</p>")


def _methods_html(book) -> str:
    import mistune

    from .codebook import load_codebook
    from .coding import methods_markdown

    markdown = mistune.create_markdown(escape=True)
    return markdown(methods_markdown(book or load_codebook()))


def _provenance_html(prov, processed: Path) -> str:
    e = html.escape
    build, coding, linking = (prov["stages"][s] for s in ("build", "coding", "linking"))
    rows = [
        ("analysis", f"{prov['analysis_version']} (code sha256 {prov['code_sha256']})"),
        ("codebook", f"{coding.get('codebook_version')} (sha256 {coding.get('codebook_sha256')})"),
        ("case registry", f"{linking.get('registry_version')} "
                          f"(sha256 {linking.get('registry_sha256')})"),
        ("cleaning rules", f"{build.get('rules_version')} (sha256 {build.get('rules_sha256')})"),
        ("parameters", f"{prov['parameters']['file']} {prov['parameters']['version']} "
                       f"(sha256 {prov['parameters']['sha256']})"),
        ("corpus manifest", f"sha256 {prov['inputs']['manifest_sha256']}"),
        ("corpus inputs", f"sha256 {prov['inputs']['inputs_sha256']} (manifest, every listed "
                          "file's checksum, unlisted files)"),
        ("python", prov["python"]),
    ]
    rows += [(f"coding sheet {f}", f"sha256 {sha}")
             for f, sha in sorted(prov["inputs"].get("coding_sheets", {}).items())]
    packages = {**build.get("packages", {}), **coding.get("packages", {}), **prov["packages"]}
    rows += [(f"package {k}", str(v)) for k, v in sorted(packages.items())]
    out = ["<table><tbody>"] + [f"<tr><th>{e(k)}</th><td><code>{e(str(v))}</code></td></tr>"
                                for k, v in rows] + ["</tbody></table>"]
    out.append("<p>Input files and their checksums, as the manifest records them:</p>")
    out.append(_inputs_table(processed))
    out.append(f"<p>Every output with its checksum, and what each notebook read: "
               f'<a href="{PROVENANCE}">{PROVENANCE}</a>.</p>')
    return "\n".join(out)


def _inputs_table(processed: Path) -> str:
    import pyarrow.parquet as pq

    path = processed / "documents.parquet"
    if not path.is_file():
        return "<p>(no documents table)</p>"
    docs = pq.read_table(path, columns=["doc_id", "file", "sha256"])
    shown = docs.slice(0, TABLE_ROWS_SHOWN).to_pandas()
    more = (f"<p>Showing {len(shown)} of {docs.num_rows} documents; "
            "<code>documents.parquet</code> in the processed folder has them all.</p>"
            if docs.num_rows > len(shown) else "")
    return ('<div class="scroll">' + shown.to_html(index=False, escape=True, border=0)
            + "</div>" + more)
