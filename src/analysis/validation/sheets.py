"""Manual coding sheets: drawing units to code, writing blank sheets, and
reading filled ones back, checked.

A coding sheet is a CSV with one row per unit, coder and code id:

    unit       document or paragraph
    doc_id     the article (documents.parquet)
    segment_id the paragraph (p1, p2, ...); empty for a document
    coder      a coder id registered in data/coding/coders.csv
    code       a code id of the codebook (frame questions, issue frames,
               backlash themes; a generic frame itself may be coded too)
    value      1 (present), 0 (absent), or empty (not coded yet)
    note       optional: the coder's remark
    text       optional, ignored on load: the unit's text, for the coder

``blank_sheet`` writes one for a sample of units (``sample_units``);
``read_sheets`` checks sheets on load and refuses them with every problem
named by file, line and column.

A coding folder holds two sets of sheets. The sheets directly in it are the
development set: the codebook may be revised on what they show, so agreement
on them is fit. The sheets in its ``evaluation/`` subfolder are the
evaluation set: units drawn from documents no development sheet codes, coded
blind after the codebook was frozen, so agreement on them is the result
(``coding_sets``, ``held_out_problems``).
"""

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.fileio import from_spreadsheet

UNITS = ("document", "paragraph")
REQUIRED = ("unit", "doc_id", "segment_id", "coder", "code", "value")
OPTIONAL = ("note", "text")
VALUES = ("0", "1")
CODER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
SHEET_FAMILIES = ("generic_frame", "issue_frame", "backlash")
EVALUATION = "evaluation"  # the subfolder of a coding folder holding evaluation sheets
SETS = (EVALUATION, "development")  # the order reports show them in


def coding_sets(folder, coders_file: str) -> dict:
    """{set name: [sheet paths]} of a coding folder: ``development`` the CSVs
    directly in it but the coders file, ``evaluation`` the CSVs in its
    evaluation/ subfolder; sorted by name, a set without sheets left out."""
    folder = Path(folder)
    found = {EVALUATION: sorted((folder / EVALUATION).glob("*.csv")),
             "development": sorted(p for p in folder.glob("*.csv") if p.name != coders_file)}
    return {k: v for k, v in found.items() if v}


def sheet_documents(files) -> set:
    """The doc ids a set of sheets names, coded or not yet."""
    out = set()
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as f:
            out.update((row.get("doc_id") or "").strip() for row in csv.DictReader(f))
    return out - {""}


def held_out_problems(coded: pd.DataFrame) -> list:
    """The evaluation rows (column ``set``) whose document a development sheet
    codes too, once per sheet and document, with the fix: an evaluation figure
    is only a result on documents the codebook was never revised on."""
    dev = set(coded.loc[coded["set"] == "development", "doc_id"])
    leaked = coded[(coded["set"] == EVALUATION) & coded["doc_id"].isin(dev)]
    first = leaked.drop_duplicates(["sheet", "doc_id"]).sort_values(["sheet", "line"])
    return [f"{r.sheet}, line {r.line}, column doc_id: {r.doc_id} is coded in a development "
            "sheet too, so it is not held out; draw evaluation units with `analysis sheet "
            "--evaluation` (it leaves development documents out), or move this sheet out of "
            f"{EVALUATION}/ to count it as development." for r in first.itertuples()]


def sheet_codes(labels: pd.DataFrame) -> list:
    """The codes a blank sheet asks about, in codebook order: the generic
    frames' questions (a frame is present when any question is), the issue
    frames and the backlash themes."""
    rows = labels[labels["family"].isin(SHEET_FAMILIES)]
    rows = rows[~((rows["family"] == "generic_frame") & rows["parent"].isna())]
    return rows["code"].tolist()


def read_coders(path) -> dict:
    """{coder id: description} from a coders CSV (columns coder, description);
    InputError naming the line for a malformed or repeated id."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise InputError(f"{path}: cannot read the coders file ({e.strerror}); create it with "
                         "columns coder,description.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if "coder" not in [h.strip() for h in reader.fieldnames or []]:
        raise InputError(f"{path}: needs a header line with the columns coder,description.")
    problems, out = [], {}
    for i, row in enumerate(reader, 2):
        coder = (row.get("coder") or "").strip()
        if not CODER_RE.fullmatch(coder):
            problems.append(f"{path}, line {i}: coder {coder!r} is not a valid id; use letters, "
                            "digits, '_', '.' or '-'.")
        elif coder in out:
            problems.append(f"{path}, line {i}: coder {coder!r} is listed twice; keep one row.")
        else:
            out[coder] = (row.get("description") or "").strip()
    if problems:
        raise InputError(problems)
    return out


def read_sheets(paths, codes: list, documents: pd.DataFrame, segments: pd.DataFrame,
                coders: dict) -> pd.DataFrame:
    """Every row of the sheets with a value, as a DataFrame (sheet, line, unit,
    doc_id, segment_id, coder, code, value as int, note). Refuses the sheets
    (InputError listing every problem with file, line and column) for missing
    columns, unknown units, documents, paragraphs, coders or code ids, values
    other than 0, 1 or empty, and a unit coded twice by one coder."""
    known_codes, docs = set(codes), set(documents["doc_id"])
    paras = body_paragraphs(segments)
    problems, frames, seen = [], [], {}
    for path in map(Path, paths):
        rows = []
        for line, row in sheet_rows(path, REQUIRED, OPTIONAL, "the", problems):
            where = f"{path}, line {line}"
            unit, doc, seg = row["unit"], row["doc_id"], row["segment_id"]
            if unit not in UNITS:
                problems.append(f"{where}, column unit: {unit!r} is not a unit; write document "
                                "or paragraph.")
            elif doc not in docs:
                problems.append(f"{where}, column doc_id: {doc!r} is not a document of the "
                                "processed corpus; check the id against documents.parquet.")
            elif unit == "document" and seg:
                problems.append(f"{where}, column segment_id: a document unit has no "
                                f"segment_id (found {seg!r}); leave it empty.")
            elif unit == "paragraph" and (doc, seg) not in paras:
                problems.append(f"{where}, column segment_id: {seg!r} is not a body paragraph "
                                f"of {doc}; use an id such as p1 from segments.parquet.")
            if row["coder"] not in coders:
                problems.append(f"{where}, column coder: {row['coder']!r} is not a registered "
                                "coder; add them to data/coding/coders.csv.")
            if row["code"] not in known_codes:
                problems.append(f"{where}, column code: {row['code']!r} is not a code id a "
                                "sheet may carry; see `analysis methods` for the ids.")
            if row["value"] not in VALUES + ("",):
                problems.append(f"{where}, column value: {row['value']!r} is not allowed; "
                                "write 1 (present), 0 (absent) or leave it empty (not coded).")
            key = (unit, doc, seg, row["coder"], row["code"])
            if key in seen:
                problems.append(f"{where}: {row['coder']} coded {row['code']} for this unit "
                                f"already ({seen[key]}); keep one row.")
            seen[key] = f"{path.name}, line {line}"
            if row["value"]:
                rows.append({"sheet": path.name, "line": line, "unit": unit, "doc_id": doc,
                             "segment_id": seg, "coder": row["coder"], "code": row["code"],
                             "value": row["value"],
                             "note": from_spreadsheet(row.get("note") or "")})
        frames.append(pd.DataFrame(rows, columns=["sheet", "line", "unit", "doc_id",
                                                  "segment_id", "coder", "code", "value",
                                                  "note"]))
    if problems:
        raise InputError(problems)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["sheet", "line", "unit", "doc_id", "segment_id", "coder", "code", "value",
                 "note"])
    out["value"] = out["value"].astype("int64")
    return out


def body_paragraphs(segments: pd.DataFrame) -> set:
    """The (doc_id, segment_id) of every body paragraph."""
    body = segments[(segments["unit"] == "paragraph") & (segments["role"] == "body")]
    return set(zip(body["doc_id"], body["segment_id"]))


def sheet_rows(path: Path, required: tuple, optional: tuple, kind: str, problems: list):
    """The rows of one sheet as (line number, {column: stripped text}); none,
    with the problem added to ``problems``, when the file cannot be read as
    UTF-8 CSV or its columns are not ``required`` and ``optional`` (``kind``
    names the sheet in the message: "the", "an event sheet's")."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{path}: cannot read the sheet ({e}); save it as UTF-8 CSV.")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    extra = [c for c in header if c not in required + optional]
    if missing or extra:
        problems.append(f"{path}: " + "; ".join(
            ([f"missing column(s) {', '.join(missing)}"] if missing else [])
            + ([f"unknown column(s) {', '.join(extra)}"] if extra else []))
            + f"; {kind} columns are {', '.join(required + optional)} "
            f"({' and '.join(optional)} optional).")
        return
    for line, raw in enumerate(reader, 2):
        yield line, {k.strip(): (v or "").strip() for k, v in raw.items() if k}


def sample_units(documents: pd.DataFrame, segments: pd.DataFrame, unit: str, n: int,
                 seed: int, stratify: str | None = None, exclude=()) -> pd.DataFrame:
    """``n`` units (body paragraphs or documents) drawn without replacement
    with ``seed`` from the documents not in ``exclude`` (doc ids); with
    ``stratify`` (a documents column such as outlet), each stratum gets its
    share of ``n`` by size (largest remainders), at least one unit when ``n``
    allows. Returns unit, doc_id, segment_id, text, in reading order."""
    if unit not in UNITS:
        raise InputError(f"--unit: {unit!r} is not a unit; use document or paragraph.")
    if len(exclude):
        documents = documents[~documents["doc_id"].isin(list(exclude))]
        segments = segments[segments["doc_id"].isin(documents["doc_id"])]
    if unit == "document":
        pool = pd.DataFrame({"unit": "document", "doc_id": documents["doc_id"],
                             "segment_id": "", "text": documents["title"].fillna("")})
    else:
        body = segments[(segments["unit"] == "paragraph") & (segments["role"] == "body")]
        pool = pd.DataFrame({"unit": "paragraph", "doc_id": body["doc_id"],
                             "segment_id": body["segment_id"], "text": body["text"]})
    pool = pool.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    if stratify:
        if stratify not in documents.columns:
            raise InputError(f"--stratify: {stratify!r} is not a documents column; use e.g. "
                             "outlet or kind.")
        strata = pool["doc_id"].map(documents.set_index("doc_id")[stratify]).fillna(
            "(not given)")
        sizes = strata.value_counts().sort_index()
        quota = _quotas(sizes, min(n, len(pool)))
        picked = [rng.choice(np.flatnonzero((strata == s).to_numpy()), q, replace=False)
                  for s, q in quota.items() if q]
        idx = np.concatenate(picked) if picked else np.array([], dtype=int)
    else:
        idx = draw_positions(len(pool), n, seed)
    return reading_order(pool.loc[np.sort(idx)])


def draw_positions(size: int, n: int, seed: int) -> np.ndarray:
    """The places of ``n`` units drawn without replacement with ``seed`` from
    a pool of ``size`` (``sample_units`` unstratified; a notebook draws from a
    table too large to load by these places)."""
    return np.random.default_rng(seed).choice(size, min(n, size), replace=False)


def reading_order(units: pd.DataFrame) -> pd.DataFrame:
    """Units (doc_id, segment_id, ...) by document, then paragraph number."""
    order = units["segment_id"].str.extract(r"(\d+)$")[0].fillna("0").astype(int)
    return units.assign(_o=order).sort_values(["doc_id", "_o"]).drop(columns="_o").reset_index(
        drop=True)


def _quotas(sizes: pd.Series, n: int) -> pd.Series:
    """Units per stratum: proportional to size, largest remainders, each
    stratum at least one while ``n`` lasts."""
    share = sizes / sizes.sum() * n
    quota = np.floor(share).astype(int).clip(upper=sizes)
    if n >= len(sizes):
        quota = quota.clip(lower=1)
    while quota.sum() > n:
        quota[quota.idxmax()] -= 1
    remainder = (share - quota).sort_values(ascending=False, kind="stable")
    for s in remainder.index:
        if quota.sum() >= n:
            break
        if quota[s] < sizes[s]:
            quota[s] += 1
    return quota


def blank_sheet(units: pd.DataFrame, codes: list, coder: str) -> pd.DataFrame:
    """A sheet to fill in: every unit × code, value and note empty, the unit's
    text in the last column for reading."""
    rows = units.merge(pd.DataFrame({"code": codes}), how="cross")
    rows["coder"], rows["value"], rows["note"] = coder, "", ""
    return rows[["unit", "doc_id", "segment_id", "coder", "code", "value", "note", "text"]]
