"""The heavy stages on Dask: the same chunks, mapped by a local Dask cluster
instead of the local process pool, give the same bytes."""

import pyarrow.parquet as pq
import pytest

from analysis.cases.stage import BATCH_ROWS
from analysis.core.parallel import use_dask
from analysis.corpus.build import CHUNK
from analysis.workflow import CHECKSUMS
from conftest import run_cli


@pytest.mark.slow
def test_a_dask_cluster_and_the_process_pool_write_the_same_bytes(tmp_path):
    corpus = tmp_path / "corpus"
    run_cli("synth", "--out", corpus, "--n", 1800, "--seed", 3, check=0)
    pool, dask = tmp_path / "pool", tmp_path / "dask"
    run_cli("build", "--corpus", corpus, "--processed", pool, "--jobs", 2, check=0)
    # every stage has more than one chunk of work, so each one is distributed
    assert 1800 > CHUNK
    assert pq.ParquetFile(pool / "segments.parquet").metadata.num_rows > BATCH_ROWS
    try:
        run_cli("build", "--corpus", corpus, "--processed", dask, "--dask", "local", check=0)
    finally:
        use_dask(None)  # this process goes back to the local pool
    # the tables, not the checksum cache (a working file of paths and times)
    tables = sorted(p.name for p in pool.glob("*.parquet") if p.name != CHECKSUMS)
    assert len(tables) >= 12
    for name in tables:
        assert (dask / name).read_bytes() == (pool / name).read_bytes(), name
