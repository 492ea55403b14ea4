"""A supervised baseline beside the dictionary coder: a TF-IDF and
logistic-regression classifier per code, trained on the hand-coded paragraphs
and scored by cross-validation with documents as groups (no paragraph of a
test document is ever in training: paragraphs of one article share names and
words, and would flatter the classifier) and a fixed seed. Its one
hyper-parameter is fixed in advance, never tuned on the coded data."""

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from .agreement import scores
from .words import words
FOLDS = 5
MIN_EXAMPLES = 5


def classifier(seed: int):
    """TF-IDF of single words (Chinese cut into words by jieba) into a class-balanced
    logistic regression. C = 10 regularises lightly: L2-normalised TF-IDF
    values are small, and with a few dozen training paragraphs the default
    C = 1 drowns even a word that alone decides the code."""
    return make_pipeline(
        TfidfVectorizer(tokenizer=words, token_pattern=None, lowercase=False,
                        sublinear_tf=True),
        LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear",
                           random_state=seed))


def cross_validated(texts, y, groups, seed: int, folds: int = FOLDS) -> np.ndarray:
    """Out-of-fold 0/1 predictions for ``texts`` from ``folds``-fold
    cross-validation in which all rows of a group (a document) fall in one
    fold, folds stratified by ``y`` as far as the groups allow and shuffled
    with ``seed``."""
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(classifier(seed), pd.Series(texts).tolist(),
                             np.asarray(y, dtype="int64"), groups=np.asarray(groups), cv=cv)


def baseline(cons: pd.DataFrame, machine: pd.Series, texts: pd.DataFrame, codes_order: list,
             seed: int, folds: int = FOLDS, min_examples: int = MIN_EXAMPLES) -> pd.DataFrame:
    """Per code, on the hand-coded paragraphs with a resolved consensus: the
    cross-validated classifier and the dictionary coder, each with precision,
    recall and F1 against the consensus, and the n behind them. A code with
    fewer than ``min_examples`` positive (or negative) paragraphs, or whose
    positive (or negative) paragraphs are all in one document, gets no
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
        # a fold per document at most; a positive (and a negative) paragraph
        # in at least two documents, or no fold could train on the class
        n_docs = g["doc_id"].nunique()
        n_folds = min(folds, n_docs)
        spread = {v: g.loc[g["value"] == v, "doc_id"].nunique() for v in (0, 1)}
        if pos < need or neg < need:
            few = "positive" if pos < need else "negative"
            row["status"] = (f"too few {few} paragraphs to learn from ({min(pos, neg)} of "
                             f"{len(y)}; needs {need})")
        elif n_folds < 2 or min(spread.values()) < 2:
            few = "positive" if spread[1] < 2 else "negative"
            row["status"] = (f"too few documents to hold one out: the {few} paragraphs are in "
                             f"{spread[1] if few == 'positive' else spread[0]} of {n_docs} "
                             "document(s); each class needs two or more")
        else:
            paras = [text.get((d, s), "") for d, s in zip(g["doc_id"], g["segment_id"])]
            try:
                clf = scores(y, cross_validated(paras, y, g["doc_id"], seed, n_folds))
            except ValueError:  # a training fold held one class only
                row["status"] = (f"no {n_folds}-fold split by document leaves both classes in "
                                 f"every training fold ({spread[1]} document(s) with a "
                                 "positive paragraph)")
            else:
                row.update({f"classifier_{k}": clf[k] for k in ("precision", "recall", "f1")})
                row["status"] = (f"{n_folds}-fold cross-validation by document ({n_docs} "
                                 f"documents), seed {seed}")
        rows.append(row)
    return pd.DataFrame(rows, columns=[
        "code", "paragraphs", "positives", "classifier_precision", "classifier_recall",
        "classifier_f1", "dictionary_precision", "dictionary_recall", "dictionary_f1",
        "status"]).astype({c: "float64" for c in (
            "classifier_precision", "classifier_recall", "classifier_f1",
            "dictionary_precision", "dictionary_recall", "dictionary_f1")})
