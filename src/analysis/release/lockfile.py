"""The pinned environment: read the locks, write environment.yml.

``requirements.lock`` (what runs the report) and ``requirements-dev.lock``
(that, and the tools to test and to lock) are compiled by uv from
pyproject.toml (``make lock``) for every platform at once: a package only
one system needs carries an environment marker (``appnope==1.0.0 ;
sys_platform == 'darwin'``), and pip installs only what applies. conda and
Binder users get the runtime pins, markers included, through
``environment.yml``, which this module generates from the lock (run
``python -m analysis.release.lockfile``). Never edit either by hand.
"""

import re
import sys
from pathlib import Path

from ..core import paths
from ..core.fileio import write_bytes_atomic

LOCK = paths.ROOT / "requirements.lock"
DEV_LOCK = paths.ROOT / "requirements-dev.lock"
ENVIRONMENT = paths.ROOT / "environment.yml"
PYTHON = "3.11"
# name==version, then an optional "; marker" up to the line's continuation
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)(?:[ \t]*;[ \t]*([^\\\n]*?))?"
                  r"[ \t]*(?:\\)?$", re.M)


def read_lock(path=LOCK) -> list:
    """Every pin of a lock as (name in lower case, version, marker or ""),
    in file order."""
    return [(n.lower(), v, m.strip()) for n, v, m in _PIN.findall(Path(path).read_text())]


def pins_for(entries: list, environment: dict) -> dict:
    """{name: version} of the pins that apply in ``environment`` (marker
    variables such as sys_platform, python_full_version); InputError-free:
    a marker is evaluated as pip would evaluate it."""
    from packaging.markers import Marker

    return {n: v for n, v, m in entries if not m or Marker(m).evaluate(environment)}


def render_environment(entries: list, python: str = PYTHON) -> str:
    pip = next(v for n, v, m in entries if n == "pip" and not m)
    lines = [
        "# Generated from requirements.lock by `make lock`; do not edit by hand.",
        "# conda env create -f environment.yml  (Binder reads it too, then runs postBuild)",
        "name: china-metoo-analysis",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={python}",
        f"  - pip={pip}",
        "  - pip:",
    ]
    lines += [f"      - \"{n}=={v}" + (f" ; {m}" if m else "") + '"'
              for n, v, m in sorted(entries) if n != "pip"]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def environment_pins(path=ENVIRONMENT) -> list:
    """The pins environment.yml carries, in the form of read_lock, sorted."""
    import yaml

    doc = yaml.safe_load(Path(path).read_text())
    pins = []
    for dep in doc["dependencies"]:
        if isinstance(dep, dict):
            for item in dep.get("pip", []):
                name, _, rest = item.partition("==")
                if rest:
                    version, _, marker = rest.partition(";")
                    pins.append((name.strip().lower(), version.strip(), marker.strip()))
        elif dep.startswith("pip="):
            pins.append(("pip", dep.split("=", 1)[1], ""))
    return sorted(pins)


def main() -> int:
    changed = write_bytes_atomic(ENVIRONMENT, render_environment(read_lock()).encode())
    print(f"environment.yml {'updated' if changed else 'already matches the lock'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
