"""Executing one notebook in a real Jupyter kernel with papermill, and making
what it produced deterministic: the executed notebook stripped of times,
random ids and absolute paths, and its HTML export.

After the notebook's own cells, a cell appended by the runner asks the
notebook's session what it read and imported (``session.write_dependencies``);
the cell is removed from the executed copy.
"""

import json
import os
import shutil
from pathlib import Path

from ..core.errors import InputError
from ..core.fileio import shown

KERNEL = "python3"
_DEPS_CELL = "record-dependencies"


def _kernel_manager() -> dict:
    """Where the system allows it (not Windows), the kernel talks to the
    runner over local sockets (IPC) rather than TCP on localhost: nothing
    listens on a port, and the kernel has no transport warning to print."""
    if os.name != "posix":
        return {}
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return {"kernel_manager_class": IPCKernelManager}


class NotebookFailed(Exception):
    """A notebook failed: the message names the notebook, the cell and the
    error, and where the executed notebook is kept."""


def execute(nb_path: Path, staging: Path, parameters: dict, out_dir: Path):
    """Run one notebook in a fresh kernel with the staging folder as its
    working directory; returns (the cleaned executed notebook, its
    dependencies). Raises NotebookFailed or InputError."""
    # imported on use: nbformat's schema validation alone takes seconds to
    # import, which every other command (build, add, kwic...) should not pay
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    name = nb_path.stem
    source = nbformat.read(nb_path, as_version=4)
    nb = nbformat.from_dict(source)
    deps_file = staging / f".{name}.dependencies.json"
    cell = nbformat.v4.new_code_cell("import analysis.report.session\n"
                                     "analysis.report.session.write_dependencies("
                                     f"{deps_file.name!r})")
    cell.id = _DEPS_CELL
    nb.cells.append(cell)
    executed = staging / "notebooks" / f"{name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(nb, str(executed), parameters=parameters,
                                   kernel_name=KERNEL, cwd=str(staging), progress_bar=False,
                                   log_output=False, **_kernel_manager())
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
    return clean(nbformat.read(executed, as_version=4), name), deps


def clean(nb, name: str):
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


def export_html(nb, title: str) -> bytes:
    from nbconvert import HTMLExporter  # imported on use, as in execute

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nb, resources={"metadata": {"name": title}})
    return body.encode("utf-8")
