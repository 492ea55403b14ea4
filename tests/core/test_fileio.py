"""CSV that a spreadsheet cannot turn into a formula, and reads back whole."""

import numpy as np
import pandas as pd
import pytest

from analysis.core.fileio import csv_bytes, from_spreadsheet, spreadsheet_safe


def test_text_that_starts_like_a_formula_gets_an_apostrophe_and_numbers_do_not():
    assert [spreadsheet_safe(v) for v in ("=SUM(A1:A9)", "+1 555", "@cmd", "-x", "\tx",
                                          "plain", "-0.5", "+3", 7, None)] == [
        "'=SUM(A1:A9)", "'+1 555", "'@cmd", "'-x", "'\tx", "plain", "-0.5", "+3", 7, None]
    for value in ("=SUM(A1:A9)", "-x", "plain", "'quoted", "'"):
        assert from_spreadsheet(spreadsheet_safe(value)) == value


def test_csv_bytes_neutralises_text_columns_only_and_keeps_the_layout():
    df = pd.DataFrame({"text": ["=1+1", "fine", None], "n": [-1, 2, 3],
                       "share": [-0.5, 0.25, 1.0]})
    assert csv_bytes(df) == b"text,n,share\n'=1+1,-1,-0.5\nfine,2,0.25\n,3,1.0\n"
    plain = pd.DataFrame({"a": ["x", "y"], "b": [1, 2]})
    assert csv_bytes(plain) == plain.to_csv(index=False, lineterminator="\n").encode()


def _counting(monkeypatch):
    """Count the files sha256_file actually reads."""
    from analysis.core import fileio

    reads = []
    real = fileio._hash_file
    monkeypatch.setattr(fileio, "_hash_file", lambda p: reads.append(p) or real(p))
    return reads


@pytest.fixture
def remembering(tmp_path, monkeypatch):
    """(fileio, the files it reads, an empty corpus folder, a cache path),
    with every file settled at once (no two-second wait)."""
    from analysis.core import fileio

    monkeypatch.setattr(fileio, "_SETTLED_NS", 0)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return fileio, _counting(monkeypatch), corpus, tmp_path / ".checksums.parquet"


def test_an_unchanged_file_is_read_once_across_runs_and_an_edit_is_always_seen(tmp_path,
                                                                               monkeypatch):
    import hashlib
    import os
    import time

    from analysis.core import fileio

    monkeypatch.setattr(fileio, "_SETTLED_NS", 0)  # settled at once, for the test
    reads = _counting(monkeypatch)
    f, cache = tmp_path / "article.txt", tmp_path / "processed" / ".checksums.parquet"
    cache.parent.mkdir()
    f.write_bytes(b"first text")
    for _ in range(2):  # two runs: the second reads nothing
        with fileio.remembered_checksums(cache):
            assert fileio.sha256_file(f) == hashlib.sha256(b"first text").hexdigest()
    assert len(reads) == 1
    # the same size, and the modification time set back: the change time still moves
    st = f.stat()
    time.sleep(0.05)  # past the file system's clock tick (the settling rule is off here)
    f.write_bytes(b"other text")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    with fileio.remembered_checksums(cache):
        assert fileio.sha256_file(f) == hashlib.sha256(b"other text").hexdigest()
    assert len(reads) == 2
    # outside a run every file is read
    fileio.sha256_file(f)
    assert len(reads) == 3


def test_a_file_changed_just_now_is_not_remembered_and_a_bad_cache_is_ignored(tmp_path,
                                                                             monkeypatch):
    from analysis.core import fileio

    reads = _counting(monkeypatch)
    f, cache = tmp_path / "article.txt", tmp_path / ".checksums.parquet"
    f.write_bytes(b"text")
    cache.write_text("{not json")
    for _ in range(2):
        with fileio.remembered_checksums(cache):
            fileio.sha256_file(f)
    assert len(reads) == 2  # within its timestamps' resolution it could change unseen
    assert cache.read_text() == "{not json"  # nothing learnt, nothing written


def test_many_files_are_looked_up_in_blocks_and_a_deleted_file_is_forgotten(tmp_path,
                                                                            monkeypatch):
    import hashlib
    import time

    import pyarrow.parquet as pq

    from analysis.core import fileio

    monkeypatch.setattr(fileio, "_SETTLED_NS", 0)
    monkeypatch.setattr(fileio, "_LOOKUP_BLOCK", 3)  # blocks of 3 keys over 8 files
    reads = _counting(monkeypatch)
    corpus, cache = tmp_path / "corpus", tmp_path / ".checksums.parquet"
    (corpus / "sub").mkdir(parents=True)
    names = [f"sub/article-{i}.txt" if i % 2 else f"article-{i}.txt" for i in range(8)]
    for i, name in enumerate(names):
        (corpus / name).write_text(f"text of article {i}")
    truth = [hashlib.sha256(f"text of article {i}".encode()).hexdigest() for i in range(8)]
    for _ in range(2):
        with fileio.remembered_checksums(cache):
            assert fileio.sha256_files(corpus, names) == truth
    assert len(reads) == 8  # the second run read none of them
    time.sleep(0.05)
    (corpus / names[5]).write_text("edited")
    (corpus / names[2]).unlink()
    left = names[:2] + names[3:]
    with fileio.remembered_checksums(cache):
        got = fileio.sha256_files(corpus, left)
    assert got == truth[:2] + truth[3:5] + [hashlib.sha256(b"edited").hexdigest()] + truth[6:]
    assert reads[8:] == [str(corpus / names[5])]  # only the edited file was read again
    remembered = pq.read_table(cache).to_pydict()
    assert dict(zip(remembered["path"], (s.hex() for s in remembered["sha256"]))) == {
        str(corpus / n): sha for n, sha in zip(left, got)}


def test_files_whose_search_numbers_are_alike_are_told_apart_by_their_signatures(
        remembering, monkeypatch):
    import hashlib

    fileio, reads, corpus, cache = remembering
    names = [f"a{i}.txt" for i in range(6)]
    for i, name in enumerate(names):
        (corpus / name).write_text(f"article {i}")
    truth = [hashlib.sha256(f"article {i}".encode()).hexdigest() for i in range(6)]
    with fileio.remembered_checksums(cache):
        assert fileio.sha256_files(corpus, names) == truth
    # every file given the same search number: the signatures still tell them apart
    monkeypatch.setattr(fileio, "_file_keys", lambda sigs: np.zeros(len(sigs), np.uint64))
    with fileio.remembered_checksums(cache) as c:
        assert len(c.sigs) == 6 and fileio.sha256_files(corpus, names[::-1]) == truth[::-1]
    assert len(reads) == 6


def test_a_save_merges_what_was_learnt_into_the_rows_read_a_row_group_at_a_time(
        remembering, monkeypatch):
    """The cache is rewritten row group by row group, what a run learnt merged
    in by search number: the file stays sorted, holds each file once, and the
    next run reads nothing."""
    import hashlib
    import time

    import pyarrow.parquet as pq

    fileio, reads, corpus, cache = remembering
    monkeypatch.setattr(fileio, "_CACHE_GROUP_ROWS", 2)

    def write(i, text):
        (corpus / f"a{i}.txt").write_text(text)

    for i in range(7):
        write(i, f"article {i}")
    with fileio.remembered_checksums(cache):
        fileio.sha256_files(corpus, [f"a{i}.txt" for i in range(7)])
    time.sleep(0.05)
    write(1, "edited one")
    write(4, "edited four")
    (corpus / "a6.txt").unlink()
    for i in range(7, 12):
        write(i, f"new article {i}")
    names = [f"a{i}.txt" for i in range(12) if i != 6]
    truth = [hashlib.sha256((corpus / n).read_bytes()).hexdigest() for n in names]
    with fileio.remembered_checksums(cache):
        assert fileio.sha256_files(corpus, names) == truth
    f = pq.ParquetFile(cache)
    assert f.metadata.num_row_groups == 6  # 11 rows, two a group
    rows = f.read().to_pydict()
    assert dict(zip(rows["path"], (s.hex() for s in rows["sha256"]))) == {
        str(corpus / n): sha for n, sha in zip(names, truth)}
    before = len(reads)
    with fileio.remembered_checksums(cache) as c:
        assert c.loaded  # sorted as the loader demands
        assert fileio.sha256_files(corpus, names) == truth
    assert len(reads) == before


def test_what_a_run_learns_is_found_again_however_it_was_learnt_and_saved_once_per_file(
        remembering, monkeypatch):
    """Files learnt one at a time and in blocks are kept in a few sorted runs
    (here of at most 4 rows) and found again without reading them; a file
    rewritten after it was learnt is saved with what it holds now, once; the
    save merges the runs and the file read in small pieces, sorted."""
    import hashlib
    import time

    import pyarrow.parquet as pq

    fileio, reads, corpus, cache = remembering
    monkeypatch.setattr(fileio._Learnt, "RUN_ROWS", 4)
    monkeypatch.setattr(fileio, "_MERGE_ROWS", 3)
    monkeypatch.setattr(fileio, "_CACHE_GROUP_ROWS", 5)
    monkeypatch.setattr(fileio, "_LOOKUP_BLOCK", 4)
    names = [f"a{i:02d}.txt" for i in range(14)]
    for i, name in enumerate(names):
        (corpus / name).write_text(f"article {i}")
    with fileio.remembered_checksums(cache):
        fileio.sha256_files(corpus, names[:3])  # an earlier run: a file to merge with
    with fileio.remembered_checksums(cache) as c:
        for name in names[3:9]:  # one at a time
            fileio.sha256_file(corpus / name)
        # blocks of 4, one name twice in the first
        fileio.sha256_files(corpus, names[9:12] + names[9:10] + names[12:])
        runs = [len(run[0]) for run in c.learnt.runs]
        assert sum(runs) == 11 and max(runs) <= 4 and len(runs) <= 5
        assert len(reads) == 14  # each file read once
        assert fileio.sha256_files(corpus, names) == [
            hashlib.sha256(f"article {i}".encode()).hexdigest() for i in range(14)]
        assert len(reads) == 14  # found again in the runs and the file read
        time.sleep(0.05)
        (corpus / names[4]).write_text("rewritten")  # after it was learnt
        (corpus / names[1]).unlink()
        assert fileio.sha256_file(corpus / names[4]) == hashlib.sha256(b"rewritten").hexdigest()
    rows = pq.read_table(cache).to_pydict()
    keys = fileio._file_keys(fileio._signatures_of(pq.read_table(cache)))
    assert (keys[1:] >= keys[:-1]).all()  # sorted as the loader demands
    left = [n for n in names if n != names[1]]
    assert sorted(rows["path"]) == [str(corpus / n) for n in left]  # each file once
    before = len(reads)
    with fileio.remembered_checksums(cache) as c:
        assert c.loaded and not c.learnt.runs
        assert fileio.sha256_files(corpus, left)[3] == hashlib.sha256(b"rewritten").hexdigest()
    assert len(reads) == before


def test_a_file_name_that_is_not_utf8_is_hashed_every_run_and_the_others_are_remembered(
        remembering):
    import hashlib
    import os

    import pyarrow.parquet as pq

    fileio, reads, corpus, cache = remembering
    # a Latin-1 name, as an old archive may hold: not UTF-8
    (corpus / os.fsdecode(b"caf\xe9.txt")).write_text("accented")
    (corpus / "plain.txt").write_text("plain")
    names = sorted(os.listdir(corpus))
    truth = [hashlib.sha256((corpus / n).read_bytes()).hexdigest() for n in names]
    for _ in range(2):
        with fileio.remembered_checksums(cache):
            assert fileio.sha256_files(corpus, names) == truth
    assert pq.read_table(cache)["path"].to_pylist() == [str(corpus / "plain.txt")]
    assert sorted(reads) == sorted([str(corpus / names[0])] * 2 + [str(corpus / "plain.txt")])
