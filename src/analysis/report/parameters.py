"""The report's parameters: one versioned file (``notebooks/parameters.yaml``)
checked against the parameters each notebook declares.

A notebook declares its parameters in one cell tagged ``parameters``;
``load_parameters`` gives each notebook the ``common`` values it declares,
then its own section, and refuses unknown sections, notebooks and
parameters, naming the file and the key.
"""

import ast
from pathlib import Path

from ..core import paths
from ..core.errors import InputError
from ..core.fileio import read_json, read_mapping

PARAMETERS = paths.NOTEBOOKS / "parameters.yaml"
SET_BY_RUNNER = ("processed_dir", "output_dir", "coding_dir")


def declared_parameters(nb_path: Path) -> dict:
    """The parameters cell of a notebook as {name: default value}; InputError
    when there is not exactly one cell tagged ``parameters`` or a default is
    not a literal."""
    nb = read_json(nb_path)
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


def notebook_title(nb, name: str) -> str:
    """The notebook's first level-one heading (the notebook JSON as a dict)."""
    for c in nb.get("cells", []):
        text = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        if c["cell_type"] == "markdown" and text.startswith("# "):
            return text.splitlines()[0][2:].strip()
    return name
