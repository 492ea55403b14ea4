"""Agreement: between human coders, and of the dictionary coder with them.

Pure functions over DataFrames; the validation notebook and the command line
call them.

- ``alpha_table``: Krippendorff's alpha (nominal) between human coders per
  code and pooled, computed by the ``krippendorff`` package, with n.
- ``consensus``: the human coders' majority value per unit and code; a tie is
  left unresolved (and kept out of every comparison, with its count shown).
- ``dictionary_values``: the dictionary coder's value for the same units.
- ``agreement``: precision, recall, F1 and Krippendorff's alpha of the
  dictionary coder against the consensus, per unit level and code, with n
  and bootstrap intervals (``bootstrap``, over units); ``by_set`` apart for
  the evaluation and the development sheets.
- ``disagreements``: every unit and code where they differ, with the
  dictionary's evidence and the human coder's note.
"""

import krippendorff
import numpy as np
import pandas as pd

from .sheets import SETS

RELIABLE, TENTATIVE = 0.800, 0.667


def alpha(values: pd.DataFrame) -> float | None:
    """Krippendorff's alpha (nominal) of rows (unit_key, coder, value): the
    coders × units matrix with missing cells, as the method requires (units
    coded once are unpairable and do not count). None when no unit has two
    codings or every value is the same (alpha is then undefined)."""
    matrix = values.pivot_table(index="coder", columns="unit_key", values="value",
                                aggfunc="first")
    pairable = matrix.notna().sum(axis=0) >= 2
    matrix = matrix.loc[:, pairable]
    if matrix.empty or matrix.stack().nunique() < 2:
        return None
    return float(krippendorff.alpha(reliability_data=matrix.to_numpy(dtype=float),
                                    level_of_measurement="nominal"))


def verdict(a) -> str:
    """The conventional reading of an alpha (Krippendorff 2004)."""
    if a is None or pd.isna(a):
        return "undefined"
    return "reliable" if a >= RELIABLE else "tentative" if a >= TENTATIVE else "unreliable"


def alpha_table(sheet: pd.DataFrame, coders=None) -> pd.DataFrame:
    """Alpha between ``coders`` (all in the sheet when None) per unit level
    and code, and pooled over codes per level: columns unit, code, units
    (pairable units: coded by two or more), coders, alpha, verdict."""
    if coders is not None:
        sheet = sheet[sheet["coder"].isin(list(coders))]
    sheet = sheet.assign(unit_key=sheet["doc_id"] + "\0" + sheet["segment_id"])
    rows = []
    for (unit, code), g in sheet.groupby(["unit", "code"], sort=True):
        rows.append(alpha_row(unit, code, g))
    for unit, g in sheet.groupby("unit", sort=True):
        rows.append(alpha_row(unit, "(pooled)", g.assign(unit_key=g["unit_key"] + "\0"
                                                         + g["code"])))
    return pd.DataFrame(rows, columns=["unit", "code", "units", "coders", "alpha", "verdict"]
                        ).astype({"alpha": "float64"})


def alpha_row(unit, code, g) -> dict:
    """One row of ``alpha_table`` for the rows ``g`` (unit_key, coder, value)."""
    counts = g.groupby("unit_key")["coder"].nunique()
    a = alpha(g)
    return {"unit": unit, "code": code, "units": int((counts >= 2).sum()),
            "coders": int(g["coder"].nunique()), "alpha": a, "verdict": verdict(a)}


KEY = ["unit", "doc_id", "segment_id", "code"]
EXCERPT = 240


def consensus(coded: pd.DataFrame) -> pd.DataFrame:
    """Per unit and code: the majority value of the human coders (``value``:
    1, 0, or NaN for a tie), how many coded it, and whether they all agreed."""
    g = coded.groupby(KEY, sort=True)["value"]
    out = g.agg(mean="mean", coders="count").reset_index()
    out["value"] = np.where(out["mean"] > 0.5, 1.0, np.where(out["mean"] < 0.5, 0.0, np.nan))
    out["unanimous"] = out["mean"].isin([0.0, 1.0])
    return out.drop(columns="mean")


def dictionary_values(units: pd.DataFrame, codes: pd.DataFrame) -> pd.Series:
    """The dictionary coder's 0/1 for each row of ``units`` (columns unit,
    doc_id, segment_id, code): a paragraph carries a code when the coder found
    evidence for it in that body paragraph, a document when it did in any of
    its body paragraphs (the rule human coders follow too)."""
    body = codes.loc[(codes["role"] == "body") & codes["doc_id"].isin(units["doc_id"]),
                     ["doc_id", "segment_id", "code"]]
    para = body.drop_duplicates().assign(_hit=1)
    doc = body[["doc_id", "code"]].drop_duplicates().assign(_hit=1)
    is_doc = units["unit"] == "document"
    hit = pd.concat([
        units[~is_doc].merge(para, on=["doc_id", "segment_id", "code"], how="left")
        .set_axis(units.index[~is_doc])["_hit"],
        units[is_doc].merge(doc, on=["doc_id", "code"], how="left")
        .set_axis(units.index[is_doc])["_hit"]])
    return hit.reindex(units.index).fillna(0).astype("int64")


def scores(human: np.ndarray, machine: np.ndarray) -> dict:
    """Counts, precision, recall and F1 of ``machine`` against ``human`` (0/1
    arrays); a ratio with nothing to divide by is None (undefined)."""
    tp = int(((human == 1) & (machine == 1)).sum())
    fp = int(((human == 0) & (machine == 1)).sum())
    fn = int(((human == 1) & (machine == 0)).sum())
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None}


BOOTSTRAP = 1000  # resamples behind each interval
LEVEL = 0.95


def agreement(cons: pd.DataFrame, machine: pd.Series, codes_order: list, seed: int = 0,
              n_boot: int = BOOTSTRAP) -> pd.DataFrame:
    """The dictionary coder (``machine``, aligned with ``cons``) against the
    human consensus, per unit level and code in ``codes_order``, then pooled
    over codes: units compared (n), ties left out, positives on each side,
    tp/fp/fn, precision, recall, F1, alpha and its reading, and 95%
    bootstrap intervals for F1 and alpha (``bootstrap``; pooled rows resample
    units with all their codes)."""
    df = cons.assign(machine=machine)
    rows = []
    for unit, level in df.groupby("unit", sort=True):
        for code in list(codes_order) + ["(pooled)"]:
            g = level if code == "(pooled)" else level[level["code"] == code]
            if g.empty:
                continue
            rows.append({"unit": unit, "code": code, **_compare(g, seed, n_boot)})
    return pd.DataFrame(rows, columns=COLUMNS).astype({c: "float64" for c in FLOATS})


COLUMNS = ["unit", "code", "units", "ties", "human", "dictionary", "tp", "fp", "fn", "precision",
           "recall", "f1", "f1_low", "f1_high", "alpha", "alpha_low", "alpha_high", "verdict"]
FLOATS = ("precision", "recall", "f1", "f1_low", "f1_high", "alpha", "alpha_low", "alpha_high")


def by_set(coded: pd.DataFrame, codes: pd.DataFrame, codes_order: list, seed: int = 0,
           n_boot: int = BOOTSTRAP) -> pd.DataFrame:
    """``agreement`` of the dictionary coder (``codes``) with the human
    consensus, computed apart for each set of sheets in ``coded`` (column
    ``set``): evaluation first, then development, a set without rows left
    out; the set is the first column. The sets never share a consensus, so
    an evaluation figure owes nothing to the development units."""
    parts = []
    for name in SETS:
        rows = coded[coded["set"] == name]
        if len(rows):
            cons = consensus(rows)
            parts.append(agreement(cons, dictionary_values(cons, codes), codes_order, seed,
                                   n_boot).assign(set=name))
    if not parts:
        return pd.DataFrame(columns=["set", *COLUMNS]).astype({c: "float64" for c in FLOATS})
    return pd.concat(parts, ignore_index=True)[["set", *COLUMNS]]


def _compare(g: pd.DataFrame, seed: int, n_boot: int) -> dict:
    resolved = g[g["value"].notna()]
    human = resolved["value"].to_numpy(dtype="int64")
    machine = resolved["machine"].to_numpy(dtype="int64")
    key = (resolved["doc_id"] + "\0" + resolved["segment_id"] + "\0" + resolved["code"])
    a = alpha(pd.concat([pd.DataFrame({"unit_key": key, "coder": "human", "value": human}),
                         pd.DataFrame({"unit_key": key, "coder": "dictionary",
                                       "value": machine})]))
    units = (resolved["doc_id"] + "\0" + resolved["segment_id"]).to_numpy()
    ci = bootstrap(human, machine, units, seed, n_boot)
    return {"units": len(resolved), "ties": int(g["value"].isna().sum()),
            "human": int(human.sum()), "dictionary": int(machine.sum()),
            **scores(human, machine), **ci, "alpha": a, "verdict": verdict(a)}


def bootstrap_draws(human, machine, units, seed: int, n_boot: int = BOOTSTRAP):
    """F1 and alpha (arrays of ``n_boot``; NaN where undefined) of resamples
    of ``units`` with replacement: each resample weighs every unit by how
    often it was drawn, its rows together."""
    ids, inverse = np.unique(np.asarray(units), return_inverse=True)
    h, m = np.asarray(human, dtype="int64"), np.asarray(machine, dtype="int64")
    # per unit: tp, fp, fn, disagreements, ones (both coders), values
    stats = np.stack([np.bincount(inverse, weights=w, minlength=len(ids)) for w in (
        h & m, (1 - h) & m, h & (1 - m), h != m, h + m, np.full(len(h), 2))], axis=1)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=n_boot)
    return f1_alpha(*(weights @ stats).T)


def f1_alpha(tp, fp, fn, d, ones, n):
    """F1 and two-coder nominal alpha from counts (arrays alike): true and
    false positives, misses, pairs that disagree, ones among the ``n`` values
    (two per pair); NaN where undefined."""
    tp, fp, fn, d, ones, n = (np.asarray(x, dtype="float64") for x in (tp, fp, fn, d, ones, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        zeros = n - ones
        a = np.where(ones * zeros > 0, 1 - (n - 1) * d / (ones * zeros), np.nan)
    return f1, a


def bootstrap(human: np.ndarray, machine: np.ndarray, units: np.ndarray, seed: int,
              n_boot: int = BOOTSTRAP, level: float = LEVEL) -> dict:
    """Percentile bootstrap intervals for F1 and alpha of two coders' 0/1
    values (``human``, ``machine``; one pair per row), resampling ``units``
    (each row's unit: its rows go together) with replacement ``n_boot``
    times with ``seed``. A resample where a figure is undefined (no positive
    on either side for F1; one value only for alpha) does not count; the
    bounds are None when fewer than half the resamples define it, and when
    there is a single unit (every resample would be that unit).

    Alpha is Krippendorff's nominal alpha for two coders with no missing
    value: 1 - (N - 1) d / (n0 n1), with N = 2 x pairs, d the pairs that
    disagree and n0, n1 the zeros and ones among all N values."""
    out = dict.fromkeys(("f1_low", "f1_high", "alpha_low", "alpha_high"))
    if len(np.unique(np.asarray(units))) < 2 or not n_boot:  # one unit: nothing to resample
        return out
    f1, a = bootstrap_draws(human, machine, units, seed, n_boot)
    tail = (1 - level) / 2 * 100
    for name, values in (("f1", f1), ("alpha", a)):
        values = values[~np.isnan(values)]
        if len(values) * 2 >= n_boot:
            low, high = np.percentile(values, [tail, 100 - tail])
            out[f"{name}_low"], out[f"{name}_high"] = float(low), float(high)
    return out


def disagreements(cons: pd.DataFrame, machine: pd.Series, codes: pd.DataFrame,
                  coded: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """Every unit and code where the dictionary coder and the human consensus
    differ: ``missed`` (human 1, dictionary 0) or ``extra`` (human 0,
    dictionary 1), with the dictionary's evidence (indicator: matched text,
    and the paragraph for a document), the human coders' notes, and the start
    of the unit's text (``texts``: doc_id, segment_id, text; a document's
    segment_id is empty)."""
    df = cons.assign(machine=machine)
    df = df[df["value"].notna() & (df["value"] != df["machine"])].copy()
    # only the evidence and texts of the units listed (the tables may be large)
    body = codes[(codes["role"] == "body") & codes["doc_id"].isin(df["doc_id"])
                 & codes["code"].isin(df["code"])]
    texts = texts[texts["doc_id"].isin(df["doc_id"])]
    ev = body.assign(item=body["indicator"] + ": " + body["evidence"])
    para_ev = ev.groupby(["doc_id", "segment_id", "code"])["item"].agg("; ".join)
    doc_ev = (ev.assign(item=ev["segment_id"] + " " + ev["item"])
              .groupby(["doc_id", "code"])["item"].agg("; ".join))
    notes = coded[coded["note"].fillna("") != ""]
    notes = (notes.assign(n=notes["coder"] + ": " + notes["note"])
             .groupby(KEY)["n"].agg(" | ".join))
    df["kind"] = np.where(df["value"] == 1, "missed", "extra")
    df["evidence"] = [
        (doc_ev.get((d, c), "") if u == "document" else para_ev.get((d, s, c), ""))
        for u, d, s, c in df[["unit", "doc_id", "segment_id", "code"]].itertuples(index=False)]
    df["human_note"] = [notes.get(k, "") for k in df[KEY].itertuples(index=False, name=None)]
    excerpt = texts.set_index(["doc_id", "segment_id"])["text"].map(_excerpt)
    df["text"] = [excerpt.get((d, s), "") for d, s in zip(df["doc_id"], df["segment_id"])]
    df = df.rename(columns={"value": "human", "machine": "dictionary"})
    df["human"] = df["human"].astype("int64")
    return df[["unit", "doc_id", "segment_id", "code", "kind", "human", "dictionary",
               "evidence", "human_note", "text"]].reset_index(drop=True)


def _excerpt(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"
