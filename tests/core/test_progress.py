"""Progress of the long stages: every stage reports how far it is, up to
the whole, and the bar stays out of logs and short runs."""

import io
import shutil

import pyarrow.parquet as pq

from analysis.cases.stage import link_corpus
from analysis.coding.stage import code_corpus
from analysis.core.progress import Progress


def test_coding_and_linking_report_progress_up_to_every_segment(seed_build, tmp_path):
    out = shutil.copytree(seed_build, tmp_path / "processed")
    total = pq.ParquetFile(out / "segments.parquet").metadata.num_rows
    for stage in (code_corpus, link_corpus):
        seen = []
        stage(out, force=True, progress=lambda done, whole: seen.append((done, whole)))
        assert seen and seen[-1] == (total, total), stage.__name__
        assert all(whole == total for _, whole in seen)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)  # never goes back


def test_the_bar_is_not_drawn_where_no_one_watches():
    # a log file is not a terminal: nothing is written to it
    class Log(io.StringIO):
        def isatty(self):
            return False

    log = Log()
    import analysis.core.progress as progress

    saved, progress.sys.stderr = progress.sys.stderr, log
    try:
        p = Progress("Coding paragraphs", "segments")
        for done in range(0, 101, 10):
            p(done, 100)
    finally:
        progress.sys.stderr = saved
    assert log.getvalue() == ""
