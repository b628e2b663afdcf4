"""The order in which a learning service offers calls for labelling (GET /v1/review): cover the calls first,
then mix uncertainty with diversity (issue 33; chosen on benchmarks/learning_in_place.py's replay).

The calls are grouped by what they say (k-means over tf-idf, reduced with SVD), and offered one group after
another, round-robin, so the first labels cover every kind of call instead of the commonest kind. Within a
group, before any model: the call nearest the group's centre first (typical calls teach most); once a model
is active: the least confident first. Groups that people have labelled least come first.
"""

from __future__ import annotations

import numpy as np

GROUPS = 24  # at most; fewer with fewer calls
DIMENSIONS = 64


def features(texts: list[str], seed: int = 0) -> np.ndarray:
    """Each call as a unit vector: tf-idf of its words, reduced by SVD (dense, cheap to cluster)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    matrix = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit_transform(
        [t or "" for t in texts]) if len(texts) > 2 else None
    if matrix is None or matrix.shape[1] < 2:
        return np.zeros((len(texts), 1))
    dims = max(1, min(DIMENSIONS, matrix.shape[1] - 1, len(texts) - 1))
    return normalize(TruncatedSVD(dims, random_state=seed).fit_transform(matrix))


def review_order(texts: list[str], labelled: list[bool], confidence: list[float | None] | None = None,
                 seed: int = 0) -> list[int]:
    """Indices of the unlabelled calls (`labelled[i]` False) in the order to offer them: round-robin over
    groups of similar calls, groups least labelled first; within a group the least confident first when
    `confidence` is given (a model is active), else the most typical."""
    from sklearn.cluster import KMeans

    todo = [i for i, done in enumerate(labelled) if not done]
    if len(todo) <= 1:
        return todo
    vectors = features(texts, seed)
    k = max(1, min(GROUPS, len(texts) // 8, len(todo)))
    kmeans = KMeans(k, n_init=3, random_state=seed).fit(vectors)
    groups, distance = kmeans.labels_, np.linalg.norm(vectors - kmeans.cluster_centers_[kmeans.labels_], axis=1)
    labelled_in = np.bincount(groups[[i for i, done in enumerate(labelled) if done]], minlength=k) \
        if any(labelled) else np.zeros(k, int)
    sizes = np.bincount(groups, minlength=k)

    def within(i: int) -> float:
        known = confidence is not None and confidence[i] is not None
        return float(confidence[i]) if known else float(distance[i])

    queues = {g: sorted((i for i in todo if groups[i] == g), key=lambda i: (within(i), i)) for g in range(k)}
    turn = sorted(range(k), key=lambda g: (labelled_in[g] / max(sizes[g], 1), -sizes[g]))
    order: list[int] = []
    while len(order) < len(todo):
        for g in turn:
            if queues[g]:
                order.append(queues[g].pop(0))
    return order
