"""Word and character n-gram tf-idf into logistic regression: the scikit-learn pipeline behind the tf-idf
kind (tfidf.py) and the lost-lead reasons (reasons.py)."""

from __future__ import annotations


def build_tfidf(seed: int = 42, min_char: int = 2):
    """The scikit-learn pipeline: word 1-2-gram and char_wb `min_char`-5-gram tf-idf, logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=100_000, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(min_char, 5), sublinear_tf=True, min_df=1, max_features=200_000),
    )
    classifier = LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000, random_state=seed)
    return make_pipeline(features, classifier)
