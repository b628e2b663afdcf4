"""The tf-idf kind: word and character n-grams into a class-balanced logistic regression (scikit-learn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .classifier import Classifier, ModelInfo
from .textfeatures import build_tfidf

WEIGHTS_FILE = "tfidf.joblib"


class TfidfClassifier(Classifier):
    """tf-idf features and logistic regression: trains in seconds, no torch needed to predict."""

    kind = "tfidf"
    cheap_to_fit = True

    def __init__(self, labels, pipeline, params: dict | None = None):
        super().__init__(labels, params)
        self.pipeline = pipeline

    @classmethod
    def fit(cls, train, val, config, progress: bool = False) -> TfidfClassifier:
        labels = sorted(set(train.labels))
        pipeline = build_tfidf(config.seed, config.tfidf_min_char).fit(train.texts, train.labels)
        return cls(labels, pipeline, {"min_char": config.tfidf_min_char})

    def predict_proba(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        probs = self.pipeline.predict_proba(list(texts))
        order = [list(self.pipeline.classes_).index(label) for label in self.labels]
        return probs[:, order]

    def save_files(self, folder: Path) -> None:
        import joblib

        joblib.dump(self.pipeline, folder / WEIGHTS_FILE)

    @classmethod
    def load_files(cls, folder: Path, info: ModelInfo) -> TfidfClassifier:
        from .legacy import load_pickle

        return cls(info.labels, load_pickle(folder / WEIGHTS_FILE), info.params)
