"""The pinned environment: read requirements.lock, write environment.yml.

``requirements.lock`` is compiled by pip-tools (``make lock``); conda and
Binder users get the same pins through ``environment.yml``, which this module
generates from the lock (run ``python -m analysis.release.lockfile``). Never edit
either by hand.
"""

import re
import sys
from pathlib import Path

from ..core import paths
from ..core.fileio import write_bytes_atomic

LOCK = paths.ROOT / "requirements.lock"
NODEPS_IN = paths.ROOT / "requirements-nodeps.in"
NODEPS_LOCK = paths.ROOT / "requirements-nodeps.lock"
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
        "# Release tooling (cffconvert) installs apart, without dependencies:",
        "#   pip install --require-hashes --no-deps -r requirements-nodeps.lock",
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


def pin_nodeps(source=NODEPS_IN, dest=NODEPS_LOCK) -> bool:
    """Pin the exact versions listed in ``source`` with the sha256 of every
    file the package index offers for them (pip download, no dependencies),
    in requirements format; returns whether ``dest`` changed."""
    import hashlib
    import subprocess
    import tempfile

    pins = [ln.strip() for ln in Path(source).read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    out = ["# Generated from requirements-nodeps.in by `make lock`; do not edit by hand.",
           "# Installed with --no-deps after requirements.lock (see requirements-nodeps.in)."]
    for pin in pins:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--no-build-isolation", "-d", tmp, pin], check=True)
            hashes = sorted(hashlib.sha256(p.read_bytes()).hexdigest()
                            for p in Path(tmp).iterdir())
        out.append(f"{pin} \\\n" + " \\\n".join(f"    --hash=sha256:{h}" for h in hashes))
    return write_bytes_atomic(dest, ("\n".join(out) + "\n").encode())


def main() -> int:
    changed = write_bytes_atomic(ENVIRONMENT, render_environment(read_lock()).encode())
    print(f"environment.yml {'updated' if changed else 'already matches the lock'}.")
    if "--nodeps" in sys.argv:
        changed = pin_nodeps()
        print(f"requirements-nodeps.lock {'updated' if changed else 'unchanged'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
