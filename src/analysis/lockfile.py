"""The pinned environment: read requirements.lock, write environment.yml.

``requirements.lock`` is compiled by pip-tools (``make lock``); conda and
Binder users get the same pins through ``environment.yml``, which this module
generates from the lock (run ``python -m analysis.lockfile``). Never edit
either by hand.
"""

import re
import sys
from pathlib import Path

from . import paths
from .fileio import write_bytes_atomic

LOCK = paths.ROOT / "requirements.lock"
ENVIRONMENT = paths.ROOT / "environment.yml"
PYTHON = "3.11"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.M)


def read_lock(path=LOCK) -> dict:
    """{package name (lower case): version} for every pin in the lock."""
    return {name.lower(): version for name, version in _PIN.findall(Path(path).read_text())}


def render_environment(pins: dict, python: str = PYTHON) -> str:
    lines = [
        "# Generated from requirements.lock by `make lock`; do not edit by hand.",
        "# conda env create -f environment.yml  (Binder reads it too)",
        "name: china-metoo-analysis",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={python}",
        f"  - pip={pins['pip']}",
        "  - pip:",
    ]
    lines += [f"      - {name}=={version}" for name, version in sorted(pins.items())
              if name != "pip"]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def environment_pins(path=ENVIRONMENT) -> dict:
    """The pins environment.yml carries, in the same form as read_lock."""
    import yaml

    doc = yaml.safe_load(Path(path).read_text())
    pins = {}
    for dep in doc["dependencies"]:
        if isinstance(dep, dict):
            for item in dep.get("pip", []):
                m = _PIN.match(item)
                if m:
                    pins[m.group(1).lower()] = m.group(2)
        elif dep.startswith("pip="):
            pins["pip"] = dep.split("=", 1)[1]
    return pins


def main() -> int:
    changed = write_bytes_atomic(ENVIRONMENT, render_environment(read_lock()).encode())
    print(f"environment.yml {'updated' if changed else 'already matches the lock'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
