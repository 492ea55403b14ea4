"""Exploratory topics: an NMF topic model of body paragraphs, and how its
topics line up with the coded themes."""

import numpy as np
import pandas as pd
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from .words import STOP_WORDS, words


def topics(texts: pd.Series, n_topics: int, seed: int, top_terms: int = 10,
           max_features: int = 20000):
    """An NMF topic model of ``texts`` (TF-IDF of words, Chinese cut into
    words by jieba; English and Chinese function words removed; NNDSVDA start, so the fit is deterministic,
    ``seed`` fixed too). Returns (terms: topic, rank, term, weight; weights:
    texts × topics array), or (empty, None) when there are too few texts or
    words to fit ``n_topics``."""
    empty = pd.DataFrame(columns=["topic", "rank", "term", "weight"])
    if len(texts) < max(2, n_topics):
        return empty, None
    vec = TfidfVectorizer(tokenizer=words, token_pattern=None, lowercase=False,
                          stop_words=sorted(STOP_WORDS),
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


def pool_positions(size: int, n: int, seed: int) -> np.ndarray:
    """The places of the paragraphs that fit the topics: all ``size`` when
    they are at most ``n``, else ``n`` drawn with ``seed`` as
    ``DataFrame.sample(n, random_state=seed)`` draws them, in its order."""
    if size <= n:
        return np.arange(size)
    return np.random.RandomState(seed).choice(size, size=n, replace=False)


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
