"""Stage plumbing: what a stage ran on, and whether its outputs still stand.

Each stage (the corpus build, the coder, case linking) keys its outputs on
its inputs' checksums, its instrument, the package versions that can change
its bytes, and its code fingerprint: the source of its own modules and of
every package module they import, the shared core included, and nothing else.
So a change to the HTML reader rebuilds the corpus but does not recode it
unless the segments changed. The key and every output's checksum are written
to the stage's stamp (``build.json``, ``coding.json``, ``linking.json``);
``stage_current`` compares them, ``publish`` writes them.
"""

import ast
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from . import paths
from .fileio import replace_if_changed, sha256_file

STAMPS = ("build.json", "coding.json", "linking.json")


@dataclass
class StageResult:
    """What a stage did: whether its outputs were already current, which files
    it (re)wrote and which it found unchanged, its counts and warnings."""
    out_dir: Path
    up_to_date: bool
    written: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def stage_current(out_dir, stamp_name: str, key: dict) -> bool:
    """Whether a stage's stamp in ``out_dir`` has this key and every output it
    lists is present with its recorded checksum."""
    import json

    out_dir = Path(out_dir)
    try:
        stamp = json.loads((out_dir / stamp_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp.get("key") == key and all(
        (out_dir / f).is_file() and sha256_file(out_dir / f) == info.get("sha256")
        for f, info in stamp.get("outputs", {}).items())


def publish(tmp, out_dir, rows: dict, key: dict, stamp_name: str, extra=None):
    """Finish a stage: write its stamp (key, each output's checksum and rows,
    ``extra``) into ``tmp`` beside the outputs, then move every file into
    ``out_dir``, leaving unchanged ones untouched. Returns (written, unchanged)."""
    import json

    tmp, out_dir = Path(tmp), Path(out_dir)
    outputs = {f: {"sha256": sha256_file(tmp / f), "rows": n} for f, n in rows.items()}
    stamp = {"key": dict(sorted(key.items())), "outputs": outputs, **(extra or {})}
    (tmp / stamp_name).write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n",
                                  encoding="utf-8")
    written, unchanged = [], []
    for f in [*outputs, stamp_name]:
        (written if replace_if_changed(tmp / f, out_dir / f) else unchanged).append(f)
    return written, unchanged


def stamp_checksums(processed) -> dict:
    """{file: sha256} of the processed tables as their stages' stamps record
    them, so large tables need no rehash. Every run of a stage checks its
    outputs against its stamp, and the report runs the stages first."""
    import json

    out = {}
    for name in STAMPS:
        try:
            stamp = json.loads((Path(processed) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.update({f: info["sha256"] for f, info in stamp.get("outputs", {}).items()})
    return out


def code_fingerprint(*modules: str) -> str:
    """SHA-256 over package source: the named modules (e.g. "coding.stage")
    and every package module they import, directly or not; with no names,
    the whole package with its instruments and templates. A stage keyed on
    its own modules reruns when they change, and not when an unrelated one
    does."""
    files = (module_closure(modules) if modules else
             [p for p in sorted(paths.PACKAGE.rglob("*"))
              if p.suffix in (".py", ".yaml", ".j2") and "__pycache__" not in p.parts])
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(paths.PACKAGE).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


def module_closure(modules) -> list:
    """The source files of the named package modules (dotted names under
    ``analysis``, e.g. "coding.stage") and of every package module they
    import, directly or not, with the ``__init__.py`` of every package on the
    way (Python runs them on import), sorted."""
    seen, todo = set(), [_file_of(m) for m in modules]
    while todo:
        f = todo.pop()
        if f is None or f in seen:
            continue
        seen.add(f)
        todo += _parents(_module_name(f)) + package_imports(f)
    return sorted(seen)


def package_imports(path: Path, top_level_only=False) -> list:
    """The files of the package modules and packages that the module at
    ``path`` imports (relative or ``analysis.`` imports, at any depth of the
    file; with ``top_level_only``, those inside a function or class body
    only are left out), sorted."""
    st = path.stat()  # each file is parsed once per process while it is unchanged
    return list(_imports(path, top_level_only, st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=None)
def _imports(path: Path, top_level_only: bool, mtime_ns: int, size: int) -> tuple:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_bytes())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = ".".join(base[:len(base) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            elif (node.module or "").split(".")[0] == "analysis":
                target = node.module
            else:
                continue
            found.add(_file_of(target))
            found.update(_file_of(f"{target}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(_file_of(a.name) for a in node.names
                         if a.name.split(".")[0] == "analysis")
    return tuple(sorted(f for f in found if f is not None and f != path))


def _file_of(name: str):
    """The file of a package module or package (dotted, with or without the
    leading ``analysis``), or None when it is not one (e.g. a class)."""
    parts = name.split(".")
    parts = parts[1:] if parts[0] == "analysis" else parts
    base = paths.PACKAGE.joinpath(*parts)
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if parts and p.is_file():
            return p
    return paths.PACKAGE / "__init__.py" if not parts else None


def _module_name(path: Path) -> str:
    rel = path.relative_to(paths.PACKAGE).with_suffix("")
    parts = ["analysis", *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parents(name: str) -> list:
    """The __init__.py of every package that contains module ``name``."""
    parts = name.split(".")
    return [_file_of(".".join(parts[:i])) for i in range(1, len(parts))]


def package_versions(names) -> dict:
    """{distribution name: installed version, or None when not installed}."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def read_stamp(out_dir, stamp_name: str) -> dict | None:
    """A stage's stamp as a dict; None when missing or unreadable."""
    try:
        return json.loads((Path(out_dir) / stamp_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
