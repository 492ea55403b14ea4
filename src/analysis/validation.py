"""The automated coder against human coding, a supervised baseline, and topics.

Pure functions over DataFrames; the validation notebook calls them.

- ``consensus``: the human coders' majority value per unit and code; a tie is
  left unresolved (and kept out of every comparison, with its count shown).
- ``dictionary_values``: the dictionary coder's value for the same units.
- ``agreement``: precision, recall, F1 and Krippendorff's alpha of the
  dictionary coder against the consensus, per unit level and code, with n.
- ``disagreements``: every unit and code where they differ, with the
  dictionary's evidence and the human coder's note.
- ``baseline``: a TF-IDF and logistic-regression classifier per code, trained
  on the hand-coded paragraphs and scored by stratified cross-validation with
  a fixed seed, beside the dictionary coder on the same paragraphs.
- ``topics`` and ``topic_alignment``: an NMF topic model of body paragraphs
  and how its topics line up with the coded themes.
"""

import numpy as np
import pandas as pd

from .reliability import alpha, verdict

KEY = ["unit", "doc_id", "segment_id", "code"]
# words of two or more letters, or single CJK characters (Chinese text is
# written without spaces; its characters are its tokens)
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN_PATTERN = rf"[{CJK}]|[^\W\d_{CJK}]{{2,}}"
FOLDS = 5
MIN_EXAMPLES = 5
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


def agreement(cons: pd.DataFrame, machine: pd.Series, codes_order: list) -> pd.DataFrame:
    """The dictionary coder (``machine``, aligned with ``cons``) against the
    human consensus, per unit level and code in ``codes_order``, then pooled
    over codes: units compared (n), ties left out, positives on each side,
    tp/fp/fn, precision, recall, F1, alpha and its reading."""
    df = cons.assign(machine=machine)
    rows = []
    for unit, level in df.groupby("unit", sort=True):
        for code in list(codes_order) + ["(pooled)"]:
            g = level if code == "(pooled)" else level[level["code"] == code]
            if g.empty:
                continue
            rows.append({"unit": unit, "code": code, **_compare(g)})
    return pd.DataFrame(rows, columns=["unit", "code", "units", "ties", "human", "dictionary",
                                       "tp", "fp", "fn", "precision", "recall", "f1", "alpha",
                                       "verdict"]).astype(
        {c: "float64" for c in ("precision", "recall", "f1", "alpha")})


def _compare(g: pd.DataFrame) -> dict:
    resolved = g[g["value"].notna()]
    human = resolved["value"].to_numpy(dtype="int64")
    machine = resolved["machine"].to_numpy(dtype="int64")
    key = (resolved["doc_id"] + "\0" + resolved["segment_id"] + "\0" + resolved["code"])
    a = alpha(pd.concat([pd.DataFrame({"unit_key": key, "coder": "human", "value": human}),
                         pd.DataFrame({"unit_key": key, "coder": "dictionary",
                                       "value": machine})]))
    return {"units": len(resolved), "ties": int(g["value"].isna().sum()),
            "human": int(human.sum()), "dictionary": int(machine.sum()),
            **scores(human, machine), "alpha": a, "verdict": verdict(a)}


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


# -- supervised baseline ---------------------------------------------------------

def classifier(seed: int):
    """TF-IDF of single words (and CJK characters) into a class-balanced
    logistic regression. C = 10 regularises lightly: L2-normalised TF-IDF
    values are small, and with a few dozen training paragraphs the default
    C = 1 drowns even a word that alone decides the code."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(token_pattern=TOKEN_PATTERN, sublinear_tf=True),
        LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear",
                           random_state=seed))


def cross_validated(texts, y, seed: int, folds: int = FOLDS) -> np.ndarray:
    """Out-of-fold 0/1 predictions for ``texts`` from stratified ``folds``-fold
    cross-validation, the folds shuffled with ``seed``."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(classifier(seed), pd.Series(texts).tolist(),
                             np.asarray(y, dtype="int64"), cv=cv)


def baseline(cons: pd.DataFrame, machine: pd.Series, texts: pd.DataFrame, codes_order: list,
             seed: int, folds: int = FOLDS, min_examples: int = MIN_EXAMPLES) -> pd.DataFrame:
    """Per code, on the hand-coded paragraphs with a resolved consensus: the
    cross-validated classifier and the dictionary coder, each with precision,
    recall and F1 against the consensus, and the n behind them. A code with
    fewer than ``min_examples`` positive (or negative) paragraphs gets no
    classifier figures and a ``status`` that says why."""
    df = cons.assign(machine=machine)
    df = df[(df["unit"] == "paragraph") & df["value"].notna()]
    text = texts.set_index(["doc_id", "segment_id"])["text"]
    rows = []
    for code in codes_order:
        g = df[df["code"] == code].sort_values(["doc_id", "segment_id"])
        if g.empty:
            continue
        y = g["value"].to_numpy(dtype="int64")
        pos, neg = int(y.sum()), int(len(y) - y.sum())
        row = {"code": code, "paragraphs": len(y), "positives": pos}
        dic = scores(y, g["machine"].to_numpy(dtype="int64"))
        row.update({f"dictionary_{k}": dic[k] for k in ("precision", "recall", "f1")})
        need = max(min_examples, folds)
        if pos < need or neg < need:
            few = "positive" if pos < need else "negative"
            row["status"] = (f"too few {few} paragraphs to learn from ({min(pos, neg)} of "
                             f"{len(y)}; needs {need})")
        else:
            docs = [text.get((d, s), "") for d, s in zip(g["doc_id"], g["segment_id"])]
            clf = scores(y, cross_validated(docs, y, seed, folds))
            row.update({f"classifier_{k}": clf[k] for k in ("precision", "recall", "f1")})
            row["status"] = f"{folds}-fold cross-validation, seed {seed}"
        rows.append(row)
    return pd.DataFrame(rows, columns=[
        "code", "paragraphs", "positives", "classifier_precision", "classifier_recall",
        "classifier_f1", "dictionary_precision", "dictionary_recall", "dictionary_f1",
        "status"]).astype({c: "float64" for c in (
            "classifier_precision", "classifier_recall", "classifier_f1",
            "dictionary_precision", "dictionary_recall", "dictionary_f1")})


# -- exploratory topics ------------------------------------------------------------

def topics(texts: pd.Series, n_topics: int, seed: int, top_terms: int = 10,
           max_features: int = 20000):
    """An NMF topic model of ``texts`` (TF-IDF of words and CJK characters,
    English stop words removed; NNDSVDA start, so the fit is deterministic,
    ``seed`` fixed too). Returns (terms: topic, rank, term, weight; weights:
    texts × topics array), or (empty, None) when there are too few texts or
    words to fit ``n_topics``."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    empty = pd.DataFrame(columns=["topic", "rank", "term", "weight"])
    if len(texts) < max(2, n_topics):
        return empty, None
    vec = TfidfVectorizer(token_pattern=TOKEN_PATTERN, stop_words="english",
                          max_features=max_features, sublinear_tf=True, dtype=np.float64)
    try:
        x = vec.fit_transform(pd.Series(texts).tolist())
    except ValueError:  # no words left
        return empty, None
    if x.shape[1] < n_topics:
        return empty, None
    model = NMF(n_components=n_topics, init="nndsvda", random_state=seed, max_iter=1000)
    weights = model.fit_transform(x)
    vocab = vec.get_feature_names_out()
    rows = []
    for t, comp in enumerate(model.components_, 1):
        # ties broken by term so the order never depends on the sort algorithm
        order = sorted(range(len(comp)), key=lambda i: (-comp[i], vocab[i]))[:top_terms]
        rows += [{"topic": t, "rank": r, "term": vocab[i], "weight": float(comp[i])}
                 for r, i in enumerate(order, 1) if comp[i] > 0]
    return pd.DataFrame(rows, columns=empty.columns), weights


def topic_alignment(weights: np.ndarray, units: pd.DataFrame, carried: pd.DataFrame,
                    themes: list) -> pd.DataFrame:
    """Topics × themes: of the paragraphs whose strongest topic is t, the share
    that carry each theme (``carried``: doc_id, unit_id, code); ``units`` gives
    the paragraphs (doc_id, segment_id) in the order of ``weights``' rows.
    Paragraphs with no topic weight at all belong to no topic."""
    dominant = dominant_topic(weights)
    key = (units["doc_id"].astype(str) + "\0" + units["segment_id"].astype(str)).to_numpy()
    has = carried.assign(k=carried["doc_id"] + "\0" + carried["unit_id"])
    member = pd.crosstab(has["k"], has["code"]).clip(upper=1).reindex(
        index=key, columns=themes, fill_value=0)
    member.index = dominant
    topics_ = range(1, weights.shape[1] + 1)
    share = member[member.index > 0].groupby(level=0).mean().reindex(topics_)
    share.index.name = "topic"
    return share.fillna(0.0)


def dominant_topic(weights: np.ndarray) -> np.ndarray:
    """Each row's strongest topic (1-based); 0 for a row with no topic weight."""
    return np.where(weights.max(axis=1) > 0, weights.argmax(axis=1) + 1, 0)


def topic_summary(terms: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """One row per topic: its top terms in order, and the paragraphs whose
    strongest topic it is (count and share)."""
    dominant = dominant_topic(weights)
    out = terms.groupby("topic", sort=True)["term"].agg(", ".join).rename("top_terms")
    out = out.reindex(range(1, weights.shape[1] + 1), fill_value="").reset_index()
    out["paragraphs"] = [int((dominant == t).sum()) for t in out["topic"]]
    out["share"] = out["paragraphs"] / max(len(dominant), 1)
    return out
