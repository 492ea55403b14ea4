"""The report page, rendered from a Jinja2 template (``templates/index.html.j2``).

``render_page`` gathers what the page shows: every notebook's figures and
tables in the order the notebook saved them (their JSON sidecars give
caption, n and files), the methods generated from the codebook, how to cite,
and the provenance block. Every text that may come from the corpus is
escaped by the template's autoescaping; only HTML the package made itself
(the methods text, tables rendered by pandas with escaping) is marked safe.
"""

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
from ..release.citation import cite_text
from .parameters import notebook_title
from .provenance import PROVENANCE

TABLE_ROWS_SHOWN = 50
CSS = """
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
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                          autoescape=True, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def render_page(out_dir: Path, processed: Path, notebooks, entries, provenance, book) -> bytes:
    """The report page (UTF-8 bytes) for the notebooks, their recorded
    ``entries`` (outputs) and the report's ``provenance`` record."""
    coding, linking = provenance["stages"]["coding"], provenance["stages"]["linking"]
    sections, numbers = [], {"figure": 0, "table": 0}
    for nb_path in notebooks:
        name = nb_path.stem
        sidecars = []
        for f in entries[name].get("outputs", {}):
            if f.endswith(".json") and f.startswith(("figures/", "tables/")):
                info = read_json(out_dir / f)
                sidecars.append((info.get("order", 0), f, info))
        items = []
        for _, f, info in sorted(sidecars):
            kind = "figure" if info.get("kind") == "figure" else "table"
            numbers[kind] += 1
            stem = f.rsplit("/", 1)[1][:-5]
            item = {"kind": kind, "stem": stem, "number": numbers[kind],
                    "caption": info.get("caption", ""), "n": info.get("n", "")}
            item.update(_figure(info) if kind == "figure" else _table(out_dir, stem, info))
            items.append(item)
        sections.append({"name": name, "title": notebook_title(read_json(nb_path), name),
                         "html": f"notebooks/{name}.html", "items": items})
    page = _ENV.get_template("index.html.j2").render(
        css=CSS, version=__version__, codebook_version=str(coding.get("codebook_version")),
        registry_version=str(linking.get("registry_version")), notebooks=sections,
        methods=_methods_html(book), cite=_citation(coding.get("codebook_version")),
        provenance_rows=_provenance_rows(provenance), inputs_table=_inputs_table(processed),
        provenance_file=PROVENANCE)
    return page.encode("utf-8")


def _figure(info: dict) -> dict:
    files = info.get("files", [])
    image = next((x for x in files if x.endswith(".png")),
                 next((x for x in files if x.endswith(".svg")), None))
    return {"files": files, "image": image}


def _table(out_dir: Path, stem: str, info: dict) -> dict:
    """The first rows of a saved table as escaped HTML, and how many it has."""
    path = out_dir / "tables" / f"{stem}.csv"
    shown = (pd.read_csv(path, dtype=str, keep_default_na=False, nrows=TABLE_ROWS_SHOWN)
             if path.stat().st_size > 1 else pd.DataFrame())
    table = (shown.to_html(index=False, escape=True, border=0) if len(shown.columns)
             else "<p>(empty)</p>")
    return {"table": Markup(table), "rows": info.get("rows", len(shown)), "shown": len(shown)}


def _citation(codebook_version):
    """How to cite the version the report was built from (CITATION.cff), or
    None when the checkout has no CITATION.cff."""
    path = paths.ROOT / "CITATION.cff"
    cff = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    if not cff:
        return None
    return {"release": str(cff.get("version")), "text": cite_text(cff, codebook_version)}


def _methods_html(book) -> Markup:
    # mistune escapes every raw HTML the codebook's text may hold
    markdown = mistune.create_markdown(escape=True)
    return Markup(markdown(methods_markdown(book or load_codebook())))


def _provenance_rows(prov: dict) -> list:
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
    return [(k, str(v)) for k, v in rows]


def _inputs_table(processed: Path) -> Markup:
    path = processed / "documents.parquet"
    if not path.is_file():
        return Markup("<p>(no documents table)</p>")
    docs = pq.read_table(path, columns=["doc_id", "file", "sha256"])
    shown = docs.slice(0, TABLE_ROWS_SHOWN).to_pandas()
    more = (f"<p>Showing {len(shown)} of {docs.num_rows} documents; "
            "<code>documents.parquet</code> in the processed folder has them all.</p>"
            if docs.num_rows > len(shown) else "")
    return Markup('<div class="scroll">' + shown.to_html(index=False, escape=True, border=0)
                  + "</div>" + more)
