"""Faults during a run: a second run on the same folder, a killed run, an
empty corpus, an OS error. Each through the command line, checking the
message and that earlier outputs are intact."""

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ANALYSIS, ARTICLE, run_cli, table, write_corpus

from analysis.cli import os_error_message


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _children(pid: int) -> list:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@contextlib.contextmanager
def _another_run_holds(folder):
    """A separate process holding ``folder``'s lock, as a running build or
    report would, until the block ends (then it is killed, as with kill -9)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom analysis.core.locks import folder_lock\n"
         f"with folder_lock({str(folder)!r}, 'x'):\n    print('held', flush=True)\n"
         "    time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_on_a_locked_folder_is_refused_and_changes_nothing(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    out = tmp_path / "o"
    run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    before = _snapshot(out)
    with _another_run_holds(out):
        (corpus / "b.txt").write_text("Another headline\n\nA second article's only paragraph.\n")
        run_cli("add", corpus / "b.txt", "--corpus", corpus, check=0)
        proc = run_cli("build", "--corpus", corpus, "--processed", out, check=2)
        assert ("another `analysis` run is writing the processed tables there now; wait for "
                "it to finish (or stop it) and run again. Nothing was written.") in proc.stderr
        assert _snapshot(out) == before
    run_cli("build", "--corpus", corpus, "--processed", out, check=0)  # the lock died with its holder
    assert len(table(out, "documents")) == 2


def test_a_report_on_a_locked_report_folder_is_refused_before_anything_runs(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "index.html").write_text("<p>the last good report</p>\n")
    with _another_run_holds(reports):
        (reports / ".staging").mkdir()  # the holder's: a refused run must not touch it
        proc = run_cli("report", "--processed", tmp_path / "processed", "--out", reports,
                       check=2)
        assert "another `analysis` run is writing the report there now" in proc.stderr
        assert not (tmp_path / "processed").exists()  # the pipeline did not start
        assert (reports / ".staging").is_dir()
        assert (reports / "index.html").read_text() == "<p>the last good report</p>\n"


@pytest.mark.slow
def test_a_killed_build_leaves_no_worker_and_the_next_run_clears_its_temporary_folder(tmp_path):
    corpus = tmp_path / "synthetic"
    run_cli("synth", "--out", corpus, "--n", "3000", check=0)
    out = tmp_path / "o"
    build = subprocess.Popen([str(ANALYSIS), "build", "--corpus", corpus, "--processed", out,
                              "--jobs", "2"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = [p for p in _children(build.pid) if _alive(p) and "spawn_main" in _cmdline(p)]
        time.sleep(0.05)
    assert len(workers) >= 2, "the build never started its workers"
    while not list(out.glob(".build-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 30  # they look every half second; a loaded machine is slow
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), [
        (p, _cmdline(p)) for p in workers if _alive(p)]
    assert list(out.glob(".build-*")), "the killed build should have left its temporary folder"
    run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    assert not list(out.glob(".build-*"))
    assert len(table(out, "documents")) == 3000


def test_an_empty_corpus_does_not_replace_good_outputs_unless_asked(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    out = tmp_path / "o"
    run_cli("build", "--corpus", corpus, "--processed", out, check=0)
    before = _snapshot(out)
    (corpus / "manifest.csv").write_text("doc_id,file,sha256\n")  # header only
    proc = run_cli("build", "--corpus", corpus, "--processed", out, check=2)
    assert (f"{corpus}: no usable document (0 manifest row(s), 1 set aside), but {out} holds "
            "1 document(s) from the last build; nothing was replaced.") in proc.stderr
    assert "pass --allow-empty" in proc.stderr
    assert _snapshot(out) == before
    assert not list(out.glob(".build-*"))
    run_cli("build", "--corpus", corpus, "--processed", out, "--allow-empty", check=0)
    assert len(table(out, "documents")) == 0


def test_an_os_error_names_the_path_and_the_fix(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.txt": ARTICLE.encode()})
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should go\n")
    proc = run_cli("build", "--corpus", corpus, "--processed", blocker, check=3)
    assert proc.stderr.startswith(f"error: {blocker}: File exists; a file stands where a "
                                  "folder is needed: move it, or choose another folder.")
    assert "Traceback" not in proc.stderr
    assert blocker.read_text() == "a file where the output folder should go\n"
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "x.parquet"))
    assert os_error_message(full).startswith(
        f"{tmp_path / 'o' / 'x.parquet'}: No space left on device; the disk is full: free some "
        "space")
