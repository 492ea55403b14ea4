"""The contract with users: pinned environment, the two commands, CI."""

import re
import subprocess

from analysis.core import paths
from analysis.release.lockfile import (ENVIRONMENT, LOCK, environment_pins, read_lock,
                                       render_environment)


def test_every_locked_package_is_pinned_with_hashes():
    text = LOCK.read_text()
    pins = read_lock()
    assert len(pins) > 50 and {"pandas", "papermill", "jupyterlab", "pyarrow"} <= set(pins)
    blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n\n", 1)[1])
    for block in blocks:
        if block.strip() and not block.startswith("#"):
            assert "==" in block.split()[0] and "--hash=sha256:" in block, block[:80]
    assert "--find-links" not in text and "file://" not in text  # no machine paths


def test_environment_yml_carries_exactly_the_lock_pins():
    assert environment_pins() == read_lock()
    assert ENVIRONMENT.read_text() == render_environment(read_lock()), (
        "environment.yml is stale: run `make lock`")


def test_make_alone_lists_the_targets_with_help():
    out = subprocess.run(["make", "-s"], cwd=paths.ROOT, capture_output=True, text=True,
                         check=True).stdout
    for target in ("report", "test", "lab", "bench", "lock"):
        assert re.search(rf"make {target}\s+\S", out), out


def test_readme_documents_the_two_commands_and_ci_calls_the_test_one():
    readme = (paths.ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme
    assert "make test" in (paths.ROOT / ".ci" / "run").read_text()


def test_the_seed_corpus_manifest_matches_the_files_byte_for_byte():
    import hashlib

    from analysis.corpus.manifest import read_manifest

    entries = read_manifest(paths.RAW)
    assert [e.file for e in entries] == sorted(p.name for p in paths.RAW.glob("*.txt"))
    for e in entries:
        assert hashlib.sha256((paths.RAW / e.file).read_bytes()).hexdigest() == e.sha256
