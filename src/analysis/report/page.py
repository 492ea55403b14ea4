"""The report page, rendered from a Jinja2 template (``templates/index.html.j2``).

``render_page`` gathers what the page shows: every notebook's figures and
tables in the order the notebook saved them (their JSON sidecars give
caption, n and files), the methods generated from the codebook, how to cite,
and the provenance block. Every text that may come from the corpus is
escaped by the template's autoescaping; only HTML the package made itself
(the methods text, tables rendered by pandas with escaping) is marked safe.
"""

import re
from pathlib import Path

import jinja2
import mistune
import pandas as pd
import pyarrow.parquet as pq
import yaml
from markupsafe import Markup

from .. import __version__
from ..coding.codebook import load_codebook
from ..coding.methods import methods_markdown
from ..core import paths
from ..core.fileio import read_json
from ..core.formatting import thousands
from ..release.citation import cite_text, placeholders
from ..validation.event_sheets import status as event_status
from .parameters import notebook_title
from .provenance import PROVENANCE

TABLE_ROWS_SHOWN = 50
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;line-height:1.5;color:#1a1a1a}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}
figure{margin:1.5rem 0}figure img{max-width:min(100%,56rem);height:auto;border:1px solid #eee}
figcaption,.caption{font-size:.92rem;color:#333}.note{background:#fff8e1;padding:.6rem 1rem;
border-left:4px solid #E69F00}.scroll{overflow-x:auto;max-height:32rem;overflow-y:auto}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:.9em}nav ul{columns:2;list-style:none;padding-left:0}
td{max-width:28rem}.findings{border-left:4px solid #0072B2;padding:.1rem 1rem;margin:.5rem 0}
.intro{font-size:.97rem}.status th{white-space:nowrap}.links{font-size:.85rem}
"""
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                          autoescape=True, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def render_page(out_dir: Path, processed: Path, notebooks, entries, provenance, book) -> bytes:
    """The report page (UTF-8 bytes) for the notebooks, their recorded
    ``entries`` (outputs) and the report's ``provenance`` record. Each
    section opens with its notebook's introduction (the research question),
    and the sentences a notebook's cell wrote from the data (``Session.say``)
    follow the figure or table that cell saved, with links to the data and
    to the cell that made it."""
    coding, linking = provenance["stages"]["coding"], provenance["stages"]["linking"]
    sections, numbers = [], {"figure": 0, "table": 0}
    for nb_path in notebooks:
        name = nb_path.stem
        html = f"notebooks/{name}.html"
        sidecars = []
        for f in entries[name].get("outputs", {}):
            if f.endswith(".json") and f.startswith(("figures/", "tables/")):
                info = read_json(out_dir / f)
                kind = "figure" if info.get("kind") == "figure" else "table"
                sidecars.append((info.get("order", 0), kind, f.rsplit("/", 1)[1][:-5], info))
        sidecars.sort(key=lambda s: s[:3])
        outline = _outline(read_json(out_dir / "notebooks" / f"{name}.ipynb"),
                           [(kind, stem) for _, kind, stem, _ in sidecars])
        items = []
        for _, kind, stem, info in sidecars:
            numbers[kind] += 1
            cell = outline["cells"].get((kind, stem), {})
            item = {"kind": kind, "stem": stem, "number": numbers[kind],
                    "caption": info.get("caption", ""), "n": thousands(info.get("n", "")),
                    "code": f"{html}#cell-id={cell['id']}" if cell else html,
                    "data": [_table_file(out_dir, s) for s in
                             info.get("data") or cell.get("tables", [])],
                    "findings": cell.get("said", []) if cell.get("last") == (kind, stem)
                    else []}
            item.update(_figure(info) if kind == "figure" else _table(out_dir, stem, info))
            items.append(item)
        sections.append({"name": name, "title": notebook_title(read_json(nb_path), name),
                         "html": html, "intro": outline["intro"],
                         "opening": outline["opening"], "items": items})
    page = _ENV.get_template("index.html.j2").render(
        css=CSS, version=__version__, codebook_version=str(coding.get("codebook_version")),
        registry_version=str(linking.get("registry_version")), notebooks=sections,
        methods=_methods_html(book), cite=_citation(coding.get("codebook_version")),
        status=_validation_status(out_dir),
        # outside a git checkout (a release archive) there is no commit to show
        source={"commit": None, "dirty": False, **provenance.get("source", {})},
        provenance_rows=_provenance_rows(provenance), inputs_table=_inputs_table(processed),
        provenance_file=PROVENANCE)
    return page.encode("utf-8")


_MARKDOWN = mistune.create_markdown(escape=True)  # raw HTML in the text shows as text


def _outline(nb: dict, outputs: list) -> dict:
    """What the page takes from an executed notebook about its ``outputs``
    ((kind, stem) pairs, in the order saved): its introduction (the first
    Markdown cell without its title) as HTML; per output, the code cell that
    saved it (the cell whose code names the stem in a ``save_figure`` or
    ``save_table`` call): its id, the tables it saved, and, for the last
    output it saved, the sentences the cell wrote from the data; and the
    sentences written before the notebook saved anything."""
    out = {"intro": Markup(""), "cells": {}, "opening": []}
    last = None
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        if cell.get("cell_type") == "markdown":
            if not out["intro"]:
                out["intro"] = Markup(_MARKDOWN(re.sub(r"\A# .*\n", "", source)))
            continue
        said = [Markup(_MARKDOWN(text if isinstance(text, str) else "".join(text)))
                for o in cell.get("outputs", [])
                if (text := o.get("data", {}).get("text/markdown"))]
        saved = sorted((source.find(f'"{stem}"'), kind, stem) for kind, stem in outputs
                       if f"save_{kind}(" in source and f'"{stem}"' in source
                       and (kind, stem) not in out["cells"])
        if not saved:  # what a cell says without saving belongs to what came before it
            (out["cells"][last]["said"] if last else out["opening"]).extend(said)
            continue
        last = saved[-1][1:]
        info = {"id": cell.get("id", ""), "tables": [s for _, k, s in saved if k == "table"],
                "last": last, "said": said}
        out["cells"].update({(kind, stem): info for _, kind, stem in saved})
    return out


def _table_file(out_dir: Path, stem: str) -> str:
    """The file a saved table is in: stem.csv, or stem.parquet for a large one."""
    return f"{stem}.parquet" if (out_dir / "tables" / f"{stem}.parquet").is_file() \
        else f"{stem}.csv"


def _figure(info: dict) -> dict:
    files = info.get("files", [])
    image = next((x for x in files if x.endswith(".png")),
                 next((x for x in files if x.endswith(".svg")), None))
    return {"files": files, "image": image}


def _table(out_dir: Path, stem: str, info: dict) -> dict:
    """The first rows of a saved table (CSV, or Parquet for a large one) as
    escaped HTML, numbers formatted and long texts cut (the file has them
    whole), how many rows it has, and its file."""
    name = next((f for f in info.get("files", []) if f.endswith(".parquet")), f"{stem}.csv")
    path = out_dir / "tables" / name
    if name.endswith(".parquet"):
        first = _first_batch(pq.ParquetFile(path))
        rows = first.to_pandas() if first is not None else pd.DataFrame()
        # as the CSV reader gives them: text, and missing values empty
        shown = rows.astype(object).where(rows.notna(), "").astype(str)
    else:
        shown = (pd.read_csv(path, dtype=str, keep_default_na=False, nrows=TABLE_ROWS_SHOWN)
                 if path.stat().st_size > 1 else pd.DataFrame())
    table = (readable(shown).to_html(index=False, escape=True, border=0)
             if len(shown.columns) else "<p>(empty)</p>")
    return {"table": Markup(table), "rows": info.get("rows", len(shown)), "shown": len(shown),
            "file": name, "format": name.rsplit(".", 1)[1].upper(),
            "cut": any(shown[c].str.len().max() > CELL_CHARS for c in shown.columns)
            if len(shown) else False}


def _first_batch(file: pq.ParquetFile, columns=None):
    """The first TABLE_ROWS_SHOWN rows of a Parquet file (a record batch), or
    None. Read from its first row group only: a reader of every row group
    reads the whole file ahead (pre-buffers it), and a large table is as
    large as the corpus. The tables this code writes have at least that many
    rows in their first row group, or fewer rows in all."""
    if not file.num_row_groups:
        return None
    return next(file.iter_batches(batch_size=TABLE_ROWS_SHOWN, row_groups=[0],
                                  columns=columns), None)


CELL_CHARS = 160  # a longer text is cut on the page (the CSV has it whole)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """A table of text cells (as read from CSV) for reading: a column of
    numbers shows whole numbers with thousands separators (not years, ids or
    numbers with leading zeros) and others with three decimals; texts longer
    than ``CELL_CHARS`` are cut with an ellipsis. Empty cells stay empty."""
    out = table.copy()
    for col in out.columns:
        values = out[col]
        filled = values[values != ""]
        # a leading zero (001) makes an id, not a number
        if (len(filled) and filled.str.fullmatch(_NUMBER.pattern).all()
                and not filled.str.match(r"-?0\d").any()):
            numbers = pd.to_numeric(filled)
            whole = (numbers == numbers.round()).all() and not filled.str.contains(r"[.eE]").any()
            if whole:
                plain = "year" in str(col).lower() or str(col).lower().endswith("id")
                out.loc[filled.index, col] = [str(int(v)) if plain else f"{int(v):,}"
                                              for v in numbers]
            else:
                out.loc[filled.index, col] = [f"{v:,.3f}" for v in numbers]
        else:
            out[col] = values.map(lambda s: s if len(s) <= CELL_CHARS
                                  else s[:CELL_CHARS - 1].rstrip() + "…")
    return out


def _citation(codebook_version):
    """How to cite the version the report was built from (CITATION.cff): the
    line to cite, or, while fields still hold placeholders, which ones (no
    placeholder is ever shown as a citation); None without CITATION.cff."""
    path = paths.ROOT / "CITATION.cff"
    cff = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    if not cff:
        return None
    unfilled = placeholders(cff)
    return {"release": str(cff.get("version")), "unfilled": ", ".join(unfilled),
            "text": "" if unfilled else cite_text(cff, codebook_version)}


def _validation_status(out_dir: Path) -> list:
    """One line per measure on how far it is validated, from the validation
    tables the notebooks saved: (measure, status)."""
    rows = []
    codes = out_dir / "tables" / "dictionary_agreement.csv"
    if codes.is_file() and codes.stat().st_size > 1:
        table = pd.read_csv(codes)
        pooled = table[(table["code"] == "(pooled)") & (table["unit"] == "paragraph")]
        held = pooled[pooled["set"] == "evaluation"]
        if len(held):
            r = held.iloc[0]
            text = (f"result on {int(r['units']):,} held-out paragraph-code pairs: pooled alpha "
                    f"{r['alpha']:.3f} ({r['verdict']}); per code in the validation section")
        elif len(pooled):
            r = pooled.iloc[0]
            text = (f"not validated on held-out units; development fit only (pooled alpha "
                    f"{r['alpha']:.3f} on {int(r['units']):,} paragraph-code pairs the codebook "
                    "may have been revised on)")
        else:
            text = "not validated: no manual coding sheet"
        rows.append(("Frames and backlash themes (dictionary coder)", text))
    events = out_dir / "tables" / "event_agreement.csv"
    if events.is_file() and events.stat().st_size > 1:
        rows.append(("Outcome events (event finder)",
                     event_status(pd.read_csv(events))["phrase"]))
    return rows


def _methods_html(book) -> Markup:
    # mistune escapes every raw HTML the codebook's text may hold
    return Markup(_MARKDOWN(methods_markdown(book or load_codebook())))


def _provenance_rows(prov: dict) -> list:
    build, coding, linking = (prov["stages"][s] for s in ("build", "coding", "linking"))
    source = prov.get("source", {})
    rows = [
        ("analysis", f"{prov['analysis_version']} (code sha256 {prov['code_sha256']})"),
        ("commit", (f"{source['commit']}" + (" with uncommitted changes (dirty)"
                                              if source.get("dirty") else ""))
         if source.get("commit") else "not a git checkout (a release archive: its "
         "RELEASE_MANIFEST.json names the commit)"),
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
    return [(k, str(v)) for k, v in rows]


def _inputs_table(processed: Path) -> Markup:
    path = processed / "documents.parquet"
    if not path.is_file():
        return Markup("<p>(no documents table)</p>")
    # the first rows only, and the count from the file's footer: not a row
    # per document held for a table that shows a few
    file = pq.ParquetFile(path)
    columns = ["doc_id", "file", "sha256"]
    first = _first_batch(file, columns)
    shown = (first.to_pandas() if first is not None
             else file.schema_arrow.empty_table().select(columns).to_pandas())
    total = file.metadata.num_rows
    more = (f"<p>Showing {len(shown)} of {total} documents; "
            "<code>documents.parquet</code> in the processed folder has them all.</p>"
            if total > len(shown) else "")
    return Markup('<div class="scroll">' + shown.to_html(index=False, escape=True, border=0)
                  + "</div>" + more)
