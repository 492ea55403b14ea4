"""The shared core every stage uses: ``paths`` (every path, from the
repository root), ``errors`` (bad input in words a researcher can act on),
``fileio`` (checksums and atomic writes), ``stages`` (stage stamps and code
fingerprints), ``parallel`` (an ordered map over worker processes),
``parquet`` (processed tables, streamed by document) and ``text``
(normalisation with offsets into the raw text). It imports no stage.
"""
