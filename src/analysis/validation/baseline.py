"""A supervised baseline beside the dictionary coder: a TF-IDF and
logistic-regression classifier per code, trained on the hand-coded paragraphs
and scored by stratified cross-validation with a fixed seed."""

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from .agreement import scores

# words of two or more letters, or single CJK characters (Chinese text is
# written without spaces; its characters are its tokens)
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN_PATTERN = rf"[{CJK}]|[^\W\d_{CJK}]{{2,}}"
FOLDS = 5
MIN_EXAMPLES = 5


def classifier(seed: int):
    """TF-IDF of single words (and CJK characters) into a class-balanced
    logistic regression. C = 10 regularises lightly: L2-normalised TF-IDF
    values are small, and with a few dozen training paragraphs the default
    C = 1 drowns even a word that alone decides the code."""
    return make_pipeline(
        TfidfVectorizer(token_pattern=TOKEN_PATTERN, sublinear_tf=True),
        LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear",
                           random_state=seed))


def cross_validated(texts, y, seed: int, folds: int = FOLDS) -> np.ndarray:
    """Out-of-fold 0/1 predictions for ``texts`` from stratified ``folds``-fold
    cross-validation, the folds shuffled with ``seed``."""
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
