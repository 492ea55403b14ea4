"""Key words in context: a code's evidence with the raw text around it."""

import pandas as pd
import pyarrow as pa

from ..core.text import normalize


def kwic(codes, segments, code, width: int = 60):
    """Key words in context for one code: its evidence with up to ``width``
    characters either side, from the paragraph's raw text, normalised for
    reading. Returns a pandas DataFrame (doc_id, segment_id, role, indicator,
    left, evidence, right, start, end), in reading order. ``segments`` needs
    only the paragraphs' doc_id, segment_id, raw and start. ``code`` may be a
    list of codes: then the rows of all of them, in reading order, with a
    first column ``code``."""
    if isinstance(codes, pa.Table):
        codes = codes.to_pandas()
    if isinstance(segments, pa.Table):
        segments = segments.to_pandas()
    several = not isinstance(code, str)
    columns = [*(["code"] if several else []), "doc_id", "segment_id", "role", "indicator",
               "left", "evidence", "right", "start", "end"]
    wanted = codes["code"].isin(list(code)) if several else codes["code"] == code
    hits = codes.loc[wanted, [*(["code"] if several else []), "doc_id", "segment_id", "role",
                              "indicator", "evidence", "start", "end"]]
    if "unit" in segments.columns:
        segments = segments[segments["unit"] == "paragraph"]
    paras = segments[["doc_id", "segment_id", "raw", "start"]].rename(
        columns={"start": "p_start"})
    rows = hits.merge(paras, on=["doc_id", "segment_id"], how="left", sort=False)
    if rows.empty:
        return pd.DataFrame(columns=columns)
    s = (rows["start"] - rows["p_start"]).to_numpy()
    e = (rows["end"] - rows["p_start"]).to_numpy()
    lens = rows["raw"].str.len().to_numpy()
    raw = rows["raw"].tolist()
    rows["left"] = [("..." if a > width else "") + normalize(t[max(0, a - width):a])
                    for t, a in zip(raw, s)]
    rows["right"] = [normalize(t[b:b + width]) + ("..." if b + width < n else "")
                     for t, b, n in zip(raw, e, lens)]
    rows["evidence"] = [normalize(t) for t in rows["evidence"]]
    return rows[columns].reset_index(drop=True)
