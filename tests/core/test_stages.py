"""Stage plumbing: each stage's code fingerprint covers its own modules and
the shared core it uses, nothing else, so a change reruns only the stages
that run the changed code; and the package has no import cycle to hide."""

import os
import shutil
import subprocess
import sys

from analysis.core import paths
from analysis.core.stages import module_closure, package_imports


def closure(module):
    return {p.relative_to(paths.PACKAGE).as_posix() for p in module_closure([module])}


def test_a_stage_reruns_only_for_the_modules_it_runs():
    coding = closure("coding.stage")
    assert {"coding/coder.py", "coding/codebook.py", "core/text.py", "core/fileio.py"} <= coding
    # the coder never runs the corpus readers, the cases, the tables or the report
    assert not {f for f in coding if f.startswith(("corpus/", "cases/", "results/", "plots/",
                                                    "report/", "validation/", "release/"))}
    build = closure("corpus.build")
    assert "corpus/readers.py" in build and not {f for f in build if f.startswith("coding/")}
    assert {"cases/events.py", "coding/coder.py"} <= closure("cases.stage")


def test_the_package_has_no_import_cycle_and_imports_its_modules_at_the_top():
    files = sorted(paths.PACKAGE.rglob("*.py"))
    graph = {f: package_imports(f) for f in files}
    for f in files:
        # an import of a package module inside a function would hide a cycle
        assert package_imports(f, top_level_only=True) == graph[f], f
    state = {}

    def visit(f, path):
        state[f] = "open"
        for g in graph[f]:
            assert state.get(g) != "open", " -> ".join(
                p.relative_to(paths.PACKAGE).as_posix() for p in [*path, f, g])
            if g not in state:
                visit(g, [*path, f])
        state[f] = "done"

    for f in files:
        if f not in state:
            visit(f, [])


def test_editing_the_html_reader_rebuilds_the_corpus_but_does_not_recode(tmp_path):
    """A copy of the package, built once, then built again after an edit to
    the corpus readers: only the corpus stage runs again."""
    src = tmp_path / "src"
    shutil.copytree(paths.PACKAGE, src / "analysis",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = tmp_path / "processed"

    def build():
        proc = subprocess.run([sys.executable, "-m", "analysis.cli", "build", "--corpus",
                               str(paths.RAW), "--processed", str(out)], capture_output=True,
                              text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    where = subprocess.run([sys.executable, "-c", "import analysis; print(analysis.__file__)"],
                           capture_output=True, text=True, env=env).stdout
    assert where.startswith(str(src))  # the copy runs, not the installed package
    build()
    stamps = {name: (out / name).read_bytes() for name in ("coding.json", "linking.json")}
    readers = src / "analysis" / "corpus" / "readers.py"
    readers.write_text(readers.read_text() + "\n# a researcher's edit to the HTML reader\n")
    said = build()
    # the corpus stage ran again (a new code key), and its tables came out the same
    assert "is up to date" not in said.splitlines()[0]
    assert ("Wrote build.json in processed; unchanged: documents.parquet, lines.parquet, "
            "segments.parquet, quarantine.parquet.") in said.replace(str(tmp_path) + "/", "")
    assert "Coding is up to date" in said and "Cases are up to date" in said
    assert {name: (out / name).read_bytes() for name in stamps} == stamps
