"""The contract with users: pinned environment, the two commands, CI."""

import re
import subprocess
import tomllib

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from analysis.core import paths
from analysis.release.lockfile import (DEV_LOCK, ENVIRONMENT, LOCK, environment_pins, pins_for,
                                       read_lock, render_environment)

# the marker variables of a CPython 3.11 on each system the lock must serve
PLATFORMS = {
    system: {"python_version": "3.11", "python_full_version": "3.11.9",
             "implementation_name": "cpython", "platform_python_implementation": "CPython",
             **values}
    for system, values in {
        "linux": {"sys_platform": "linux", "os_name": "posix", "platform_system": "Linux",
                  "platform_machine": "x86_64"},
        "macos": {"sys_platform": "darwin", "os_name": "posix", "platform_system": "Darwin",
                  "platform_machine": "arm64"},
        "windows": {"sys_platform": "win32", "os_name": "nt", "platform_system": "Windows",
                    "platform_machine": "AMD64"},
    }.items()}


def project_requirements(extra=None) -> set:
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return {canonicalize_name(Requirement(r).name) for r in reqs}


def test_every_locked_package_is_pinned_with_hashes():
    for lock in (LOCK, DEV_LOCK):
        text = lock.read_text()
        assert len(read_lock(lock)) > 50
        blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2])
        for block in blocks:
            if block.strip() and not block.startswith("#"):
                assert "==" in block.split()[0] and "--hash=sha256:" in block, block[:80]
        assert "--find-links" not in text and "file://" not in text  # no machine paths


def test_the_locks_resolve_for_linux_macos_and_windows():
    runtime, dev = read_lock(LOCK), read_lock(DEV_LOCK)
    chosen = {}
    for system, env in PLATFORMS.items():
        applies = [n for n, _, m in runtime if not m or Marker(m).evaluate(env)]
        assert len(applies) == len(set(applies)), system  # one version of each package
        chosen[system] = pins_for(runtime, env)
        assert project_requirements() <= set(chosen[system]), system
        # the dev lock adds the test and lock tools, and changes no runtime pin
        with_dev = pins_for(dev, env)
        assert project_requirements("dev") <= set(with_dev), system
        assert {n: with_dev[n] for n in chosen[system]} == chosen[system], system
    # what only one system needs is there for it, and only for it
    assert "appnope" in chosen["macos"] and "appnope" not in chosen["linux"]
    assert "pywinpty" in chosen["windows"] and "pywinpty" not in chosen["macos"]
    assert "colorama" in chosen["windows"] and "colorama" not in chosen["linux"]
    # the tools to test and lock are kept out of what runs the report
    assert not {"pytest", "pytest-xdist", "uv"} & set(chosen["linux"])


def test_environment_yml_carries_exactly_the_lock_pins():
    assert environment_pins() == sorted(read_lock())
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


def test_every_command_has_a_description_and_examples_and_one_name_per_meaning():
    from analysis.cli import _parser
    from analysis.core import paths as p

    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"build", "report", "kwic", "sheet", "agreement", "verify"} <= set(commands)
    for name, sub in commands.items():
        assert sub.description and len(sub.description) > 40, name
        examples = sub.epilog.split("examples:\n", 1)[1].splitlines()
        assert examples and all(e.strip().startswith(f"analysis {name}") for e in examples), name
        # each example parses: the options it shows exist
        for example in examples:
            command = example.split(" > ")[0]  # a shell redirection is not the command's
            parser.parse_args([w.strip('"') for w in re.findall(r'"[^"]*"|\S+', command)][1:])
        options = {o: a for a in sub._actions for o in a.option_strings}
        # one name, one meaning: --processed is always the processed tables' folder,
        # --corpus the corpus folder
        if "--processed" in options:
            assert options["--processed"].default == p.PROCESSED, name
        if "--corpus" in options:
            assert options["--corpus"].default == p.RAW, name
        assert not ("--out" in options and options["--out"].default == p.PROCESSED), name
