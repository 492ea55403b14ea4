"""Frozen releases that anyone can verify.

- ``make_release`` (``analysis release``) refuses on a dirty tree, a tracked
  symbolic link or submodule, a version already released or citation
  metadata that does not match the version; copies the tracked files (and
  nothing else: no ignored or untracked file) into a temporary folder and
  rebuilds the report there from scratch; writes ``RELEASE_MANIFEST.json``
  (every file of the release, code and top-level files included, with its
  checksum) and a deterministic archive of exactly those files and the
  manifest in ``dist/``; and tags the commit ``vX.Y.Z``.
- ``verify`` (``analysis verify``) checks an archive's SHA-256 when given,
  unpacks it (regular files under one top folder only) or copies a folder,
  and checks every file against the manifest: a file missing, added or
  changed is refused before anything of the release runs. Only then does it
  rebuild the release (in a fresh environment made from the release's own
  lock files, unless told to use the current one) and compare every output's
  checksum with the manifest.

A release holds regular files only, and no file is ever opened through a
symbolic link, so nothing outside the repository is read or archived. Every
refusal is an InputError naming the file and the fix.

Versions: the release is the package version (semantic: major for changes
that alter what existing outputs mean or their layout, minor for new
analyses or outputs, patch for fixes that change no output); the codebook,
cleaning rules and case registry carry their own versions, and the manifest
and the report show them all.
"""

import fnmatch
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

from ..core.errors import InputError
from ..core.fileio import NotRegular, open_regular, sha256_file, write_bytes_atomic
from .citation import CFF, cite_text, placeholders, read_citation

NAME = "china-metoo-news"
MANIFEST = "RELEASE_MANIFEST.json"
DERIVED_DIRS = ("data/processed", "reports")  # rebuilt by `analysis report`
# What using a release folder leaves in it (an environment, caches, notebook
# checkpoints): verify never copies them, so they neither count nor run.
WORKING_FILES = (".git", ".venv", "dist", "__pycache__", "*.egg-info", ".ipynb_checkpoints",
                 ".pytest_cache", ".checksums.json", ".checksums.parquet",
                 ".manifest.arrow")
MANIFEST_TEXT = ("name", "version", "commit", "codebook_version")  # and "files"
SHA256 = re.compile(r"[0-9a-f]{64}")


# -- helpers -----------------------------------------------------------------------

def _git(root: Path, *args) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if proc.returncode:
        raise InputError(f"{root}: `git {' '.join(args)}` failed: {proc.stderr.strip()}; a "
                         "release is made from a git checkout.")
    return proc.stdout


def _version(root: Path) -> str:
    text = (Path(root) / "src" / "analysis" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def _open_regular(root: Path, rel: str):
    """``root/rel`` open for reading (binary) when it is a regular file reached
    through no symbolic link; None when it is anything else (a link, a file in
    a linked folder, a folder, a pipe, a device) or missing."""
    path = os.path.join(os.path.realpath(root), rel)
    if os.path.realpath(path) != path:
        return None
    try:
        return open_regular(path)
    except (NotRegular, OSError):
        return None


def _sha256(root: Path, rel: str):
    """Hex SHA-256 of ``root/rel`` when it is a regular file, else None."""
    f = _open_regular(root, rel)
    if f is None:
        return None
    with f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _irregular(where, rels) -> InputError:
    return InputError([
        f"{where}: {rel} is not a regular file (a symbolic link, a file in a linked folder, a "
        "pipe or a device); a release holds regular files only, so that nothing outside it is "
        "read: replace the link with the file it points to, or remove it." for rel in rels])


def _files_under(root: Path, under=("",), skip=()) -> list:
    """Every file under ``root`` (or its folders ``under``), relative to it and
    sorted. A symbolic link is listed as a file and never followed; a name that
    matches a pattern in ``skip`` is left out with all it holds."""
    def kept(name):
        return not any(fnmatch.fnmatch(name, p) for p in skip)

    found = []
    for d in under:
        for folder, dirs, files in os.walk(Path(root) / d):
            dirs[:] = [n for n in dirs if kept(n)]
            links = [n for n in dirs if os.path.islink(os.path.join(folder, n))]
            found += [os.path.join(folder, n) for n in files + links if kept(n)]
    return sorted(Path(p).relative_to(root).as_posix() for p in found)


def _copy_files(src: Path, rels: list, dest: Path) -> None:
    """Copy ``rels`` from ``src`` to ``dest``, keeping the executable bit;
    InputError naming every one that is not a regular file (nothing read
    through a link)."""
    irregular = []
    for rel in rels:
        f = _open_regular(src, rel)
        if f is None:
            irregular.append(rel)
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        with f, open(out, "wb") as g:
            shutil.copyfileobj(f, g)
            os.chmod(out, 0o755 if os.fstat(f.fileno()).st_mode & stat.S_IXUSR else 0o644)
    if irregular:
        raise _irregular(src, irregular)


def write_archive(root: Path, members: list, dest: Path, mtime: int) -> None:
    """A .tar.gz of ``members`` (paths relative to ``root``) under the folder
    NAME-version, in sorted order, with a fixed time, owner and modes, and a
    gzip header without name or time: the same files give the same bytes.
    InputError when a member is not a regular file (never read through a link)."""
    prefix = dest.name.removesuffix(".tar.gz")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(set(members)):
            f = _open_regular(root, rel)
            if f is None:
                raise _irregular(root, [rel])
            with f:
                st = os.fstat(f.fileno())
                info = tarfile.TarInfo(f"{prefix}/{rel}")
                info.size = st.st_size
                info.mtime = mtime
                info.mode = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, f)
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    write_bytes_atomic(dest, packed.getvalue())


def _clear_derived(root: Path) -> None:
    for d in DERIVED_DIRS:
        for p in sorted((root / d).glob("*"), reverse=True):
            if p.name == "README.md":
                continue
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def _run_report(root: Path, python: str, env_extra: dict) -> float:
    """`analysis report --force` in ``root`` with ``python``; its seconds."""
    env = {**os.environ, **env_extra}
    t = time.perf_counter()
    proc = subprocess.run([python, "-m", "analysis.cli", "report", "--force"], cwd=root,
                          env=env, capture_output=True, text=True)
    if proc.returncode:
        raise InputError(f"rebuilding the report in {root} failed (exit {proc.returncode}):\n"
                         + (proc.stderr.strip() or proc.stdout.strip())[-2000:])
    return time.perf_counter() - t


# -- release -----------------------------------------------------------------------

def check_ready(root: Path) -> tuple:
    """Refuse (InputError listing every reason) unless ``root`` can be
    released: a clean git tree of regular files (no tracked symbolic link or
    submodule), valid citation metadata for this version with every field
    filled in, a CHANGELOG section for it, and no tag or archive for it yet.
    Returns (version, citation dict, commit)."""
    root = Path(root)
    problems = []
    dirty = _git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    if dirty:
        problems.append("the working tree has uncommitted changes; commit or remove them "
                        "first: " + ", ".join(line[3:] for line in dirty[:10])
                        + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else ""))
    for entry in filter(None, _git(root, "ls-files", "--stage", "-z").split("\0")):
        mode, path = entry.split(" ", 1)[0], entry.split("\t", 1)[1]
        if mode not in ("100644", "100755"):
            what = {"120000": "a symbolic link", "160000": "a submodule"}.get(mode, f"mode {mode}")
            problems.append(f"{path} is tracked as {what}, not a regular file; a release holds "
                            "regular files only, so that nothing outside the repository is "
                            "read or archived: replace it with the file it points to, or "
                            "remove it (`git rm`), and commit.")
    version = _version(root)
    cff = read_citation(root)
    if str(cff.get("version")) != version:
        problems.append(f"{CFF}: version is {cff.get('version')!r} but the package is "
                        f"{version!r} (src/analysis/__init__.py); make them equal.")
    date = str(cff.get("date-released") or "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        problems.append(f"{CFF}: date-released is missing; write the release day as "
                        "\"YYYY-MM-DD\".")
    pref = cff.get("preferred-citation", {})
    if str(pref.get("version", version)) != version:
        problems.append(f"{CFF}: preferred-citation.version differs from version {version}.")
    if unfilled := placeholders(cff):
        problems.append(f"{CFF}: {', '.join(unfilled)} still hold(s) a placeholder; fill "
                        "them in.")
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    if not re.search(rf"^## {re.escape(version)} - {re.escape(date)}\s*$", changelog, re.M):
        problems.append(f"CHANGELOG.md has no section '## {version} - {date}'; move the "
                        "release's entries under it.")
    tag = f"v{version}"
    if _git(root, "tag", "--list", tag).strip():
        problems.append(f"version {version} is already released (tag {tag}); raise the "
                        "version for a new release.")
    archive = root / "dist" / f"{NAME}-{version}.tar.gz"
    if archive.exists():
        problems.append(f"{archive} already exists; version {version} was built already.")
    if problems:
        raise InputError([f"cannot release {root}: {p}" for p in problems])
    return version, cff, _git(root, "rev-parse", "HEAD").strip()


def make_release(root, say=print, tag=True) -> Path:
    """Check; copy the tracked files into a temporary folder and rebuild the
    report there from scratch (so no ignored or untracked file reaches the
    outputs); write the manifest and the archive of exactly the tracked files,
    the outputs and the manifest; tag. The checkout's own data/processed and
    reports are left as they are."""
    root = Path(root).resolve()
    version, cff, commit = check_ready(root)
    archive = root / "dist" / f"{NAME}-{version}.tar.gz"
    say(f"Releasing {NAME} {version} from commit {commit[:12]}: rebuilding the report from "
        "scratch from the tracked files ...")
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        tree = Path(tmp) / archive.name.removesuffix(".tar.gz")
        tracked = [f for f in _git(root, "ls-files", "-z").split("\0") if f]
        _copy_files(root, tracked, tree)
        seconds = _run_report(tree, sys.executable, {"PYTHONPATH": str(tree / "src")})
        say(f"Rebuilt data/processed and reports in {seconds:.1f} s.")
        members = sorted(set(tracked) | set(_files_under(tree, DERIVED_DIRS, WORKING_FILES)))
        files = {f: _sha256(tree, f) for f in members}
        if None in files.values():
            raise _irregular(f"cannot release {root}", [f for f, s in files.items() if s is None])
        codebook = _codebook_version(tree)
        manifest = {
            "name": NAME, "version": version, "commit": commit,
            "date_released": str(cff["date-released"]), "codebook_version": codebook,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "cite_as": cite_text(cff, codebook), "files": files,
        }
        data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
        write_bytes_atomic(root / "dist" / MANIFEST, data)
        write_bytes_atomic(tree / MANIFEST, data)
        day = datetime.strptime(manifest["date_released"], "%Y-%m-%d").replace(
            tzinfo=timezone.utc)
        write_archive(tree, members + [MANIFEST], archive, int(day.timestamp()))
    say(f"Wrote {archive} ({archive.stat().st_size:,} bytes, {len(members) + 1} files, "
        f"sha256 {sha256_file(archive)}) and dist/{MANIFEST} ({len(files)} files listed).")
    if tag:
        _git(root, "tag", "-a", f"v{version}", "-m", f"{NAME} {version} (codebook {codebook})")
        say(f"Tagged {commit[:12]} as v{version}.")
    return archive


def _codebook_version(root: Path):
    import yaml

    book = yaml.safe_load((root / "src/analysis/instruments/codebook.yaml").read_text(
        encoding="utf-8"))
    return str(book.get("version"))


# -- verify ------------------------------------------------------------------------

def verify(target, fresh=True, say=print, python=None, sha256=None) -> int:
    """Check a release (archive or folder) against its manifest, then rebuild
    it and compare every output; returns the number of differences after the
    rebuild (0: reproduced). InputError, with nothing of the release run, when
    the archive is not ``sha256`` (hex, when given) or is unsafe or
    unreadable, the manifest is missing or malformed, or a shipped file is
    missing, added or changed."""
    target = Path(target)
    with tempfile.TemporaryDirectory(prefix="verify-") as tmp:
        tmp = Path(tmp).resolve()
        root = _unpacked(target, tmp / "release", sha256, say)
        manifest = _read_manifest(root, target)
        expected = manifest["files"]
        say(f"Verifying {manifest['name']} {manifest['version']} (commit "
            f"{manifest['commit'][:12]}, codebook {manifest['codebook_version']}): "
            f"{len(expected)} files listed.")
        shipped = _differences(root, expected, [f for f in _files_under(root) if f != MANIFEST])
        if shipped:
            raise InputError(f"{target} is not the release its manifest describes, so nothing "
                             "of it was run:\n" + "\n".join(f"  as shipped: {d}" for d in shipped)
                             + "\nGet the release again from where it was published.")
        say(f"  as shipped: all {len(expected)} files match.")
        if fresh:
            t = time.perf_counter()
            py = _fresh_environment(root, tmp / "venv", python or sys.executable)
            say(f"Created a fresh environment from the release's lock files in "
                f"{time.perf_counter() - t:.1f} s.")
            env = {}
        else:
            py = sys.executable
            env = {"PYTHONPATH": str(root / "src")}
            say("Using the current environment (--current-env), with the release's code.")
        _clear_derived(root)
        seconds = _run_report(root, py, env)
        say(f"Rebuilt data/processed and reports from data/raw in {seconds:.1f} s.")
        # the shipped files again, and every output; not what running left
        # elsewhere (caches, the package's egg-info)
        derived = tuple(f"{d}/" for d in DERIVED_DIRS)
        rebuilt = _differences(root, expected, [f for f in _files_under(root, skip=WORKING_FILES)
                                                if f in expected or f.startswith(derived)])
    for d in rebuilt:
        say(f"  rebuilt: {d}")
    if rebuilt:
        say(f"NOT REPRODUCED: {len(rebuilt)} difference(s) from the manifest.")
    else:
        say(f"  rebuilt: all {len(expected)} files match.")
        say(f"Reproduced: every one of the {len(expected)} files matches the manifest.")
    return len(rebuilt)


def _unpacked(target: Path, dest: Path, sha256, say) -> Path:
    """The release at ``target`` (an archive or a folder) as a folder in
    ``dest`` holding regular files only; its path."""
    if sha256 is not None:
        given, sha256 = sha256, sha256.strip().lower()
        if not SHA256.fullmatch(sha256):
            raise InputError(f"--sha256 {given!r} is not a SHA-256 checksum; give the 64 "
                             "hexadecimal digits published beside the archive.")
        if target.is_dir():
            raise InputError(f"--sha256 checks an archive file, but {target} is a folder; give "
                             "the .tar.gz archive, or leave --sha256 out.")
    if target.is_dir():
        root = dest / target.resolve().name
        _copy_files(target, _files_under(target, skip=WORKING_FILES), root)
        return root
    if not target.is_file():
        raise InputError(f"{target}: no such archive or folder.")
    with open(target, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
        if sha256 is not None and digest != sha256:
            raise InputError(f"{target}: its sha256 is {digest}, but {sha256} was expected "
                             "(--sha256); it is not the archive that was published (damaged "
                             "or altered): download it again.")
        say(f"{target}: sha256 {digest}" + (" matches --sha256." if sha256 else
                                             " (give the published one with --sha256)."))
        f.seek(0)
        return _unpack(f, target, dest)


def _unpack(f, target: Path, dest: Path) -> Path:
    """Unpack the release archive open as ``f`` into ``dest`` after checking
    every member (nothing is written when one is unsafe); its top folder."""
    try:
        with tarfile.open(fileobj=f, mode="r:*") as tar:
            members = tar.getmembers()
            unsafe = [why for m in members if (why := _unsafe(m, dest))]
            if unsafe:
                raise InputError([f"{target}: {why}." for why in unsafe]
                                 + [f"{target}: nothing was unpacked; a release made by "
                                    "`analysis release` holds none of these: do not unpack "
                                    "it with another tool either."])
            tops = sorted({m.name.split("/")[0] for m in members})
            if len(tops) != 1 or any(m.name == tops[0] and not m.isdir() for m in members):
                raise InputError(f"{target}: not a release archive: a release holds one folder "
                                 f"({NAME}-X.Y.Z), this one holds "
                                 + (", ".join(tops[:5]) or "nothing") + " at its top.")
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise InputError(f"{target}: not a readable .tar.gz archive ({e}); a release archive "
                         "is made by `analysis release`: download it again.") from None
    return dest / tops[0]


def _unsafe(member: tarfile.TarInfo, dest: Path):
    """Why ``member`` must not be unpacked into ``dest``, or None: a release
    holds regular files and folders inside its folder, nothing else."""
    if member.name.startswith("/"):  # the data filter would quietly drop the "/"
        return f"{member.name!r} has an absolute path"
    try:
        tarfile.data_filter(member, str(dest))  # "..", links leading out, devices
    except tarfile.FilterError as e:
        return str(e)
    if not (member.isreg() or member.isdir()):
        kind = "a symbolic link" if member.issym() else "a hard link" if member.islnk() \
            else "a special file"
        return f"{member.name!r} is {kind}; a release holds regular files only"
    return None


def _read_manifest(root: Path, target: Path) -> dict:
    """The release's manifest; InputError naming what is wrong with it."""
    f = _open_regular(root, MANIFEST)
    if f is None:
        raise InputError(f"{target}: no {MANIFEST} inside; is this a release made by "
                         "`analysis release`?")
    with f:
        raw = f.read()
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise InputError(f"{target}: {MANIFEST} is not valid JSON ({e}); the release is "
                         "damaged: get it again from where it was published.") from None
    if not isinstance(manifest, dict):
        problems = ["it is not a JSON object"]
    else:
        problems = [f"{k!r} is missing or not text" for k in MANIFEST_TEXT
                    if not isinstance(manifest.get(k), str)]
        files = manifest.get("files")
        if not isinstance(files, dict) or not files:
            problems.append("'files' is missing or not a mapping of paths to checksums")
        else:
            bad = [p for p, s in files.items() if not (isinstance(s, str) and SHA256.fullmatch(s))]
            if bad:
                problems.append(f"'files' gives {len(bad)} path(s) a value that is not a "
                                "SHA-256 checksum: " + ", ".join(bad[:5])
                                + (" ..." if len(bad) > 5 else ""))
    if problems:
        raise InputError(f"{target}: {MANIFEST} is not a release manifest: "
                         + "; ".join(problems) + ". The release is damaged or was not made by "
                         "`analysis release`: get it again from where it was published.")
    return manifest


def _differences(root: Path, expected: dict, present: list) -> list:
    """One line for each file of ``expected`` ({path: sha256}) missing from
    ``present`` (paths under ``root``), each one present but not expected, and
    each one that is not a regular file or has other bytes."""
    lines, present = [], set(present)
    for f in sorted(set(expected) | present):
        if f not in present:
            lines.append(f"{f} is missing")
        elif f not in expected:
            lines.append(f"{f} is not in the manifest")
        elif (digest := _sha256(root, f)) is None:
            lines.append(f"{f} is not a regular file")
        elif digest != expected[f]:
            lines.append(f"{f} differs (sha256 {digest[:16]}..., manifest "
                         f"{expected[f][:16]}...)")
    return lines


def _fresh_environment(root: Path, venv: Path, python: str) -> str:
    """A virtual environment with exactly the release's pins and its package."""
    try:
        subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True,
                       text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", None) or e
        raise InputError(f"--python {python}: cannot create a virtual environment with it "
                         f"({str(detail).strip()[-500:]}); give a Python 3.11 that has venv.") \
            from None
    py = str(venv / "bin" / "python")
    lock = "requirements.lock"
    proc = subprocess.run([py, "-m", "pip", "install", "--quiet", "--require-hashes",
                           "--no-deps", "-r", str(root / lock)], capture_output=True, text=True)
    if proc.returncode:
        raise InputError(f"installing {lock} into a fresh environment failed:\n"
                         + proc.stderr.strip()[-2000:])
    proc = subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "-e", str(root)], capture_output=True,
                          text=True)
    if proc.returncode:
        raise InputError("installing the release's package failed:\n"
                         + proc.stderr.strip()[-2000:])
    return py
