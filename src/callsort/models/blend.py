"""The blend kind (the default): a fine-tuned encoder and a tf-idf model, their probabilities averaged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .classifier import Classifier, ModelInfo
from .encoder import EncoderClassifier
from .tfidf import TfidfClassifier


class BlendClassifier(Classifier):
    """`tfidf_weight` x tf-idf probabilities + (1 - `tfidf_weight`) x encoder probabilities."""

    kind = "blend"

    def __init__(self, tfidf: TfidfClassifier, encoder: EncoderClassifier, tfidf_weight: float):
        super().__init__(encoder.labels, {**encoder.info.params, "tfidf_weight": tfidf_weight})
        self.tfidf, self.encoder = tfidf, encoder
        self.info.training = dict(encoder.info.training)

    @property
    def tfidf_weight(self) -> float:
        return float(self.info.params["tfidf_weight"])

    @classmethod
    def fit(cls, train, val, config, progress: bool = False) -> BlendClassifier:
        tfidf = TfidfClassifier.fit(train, val, config, progress)
        return cls(tfidf, EncoderClassifier.fit(train, val, config, progress), config.tfidf_weight)

    def predict_proba(self, texts: list[str], progress: bool = False) -> np.ndarray:
        w = self.tfidf_weight
        probs = np.zeros((len(texts), len(self.labels)))
        if w > 0:
            probs += w * self.tfidf.predict_proba(texts)
        if w < 1:
            probs += (1 - w) * self.encoder.predict_proba(texts, progress)
        return probs

    def save_files(self, folder: Path) -> None:
        self.encoder.save_files(folder)
        self.tfidf.save_files(folder)

    @classmethod
    def load_files(cls, folder: Path, info: ModelInfo) -> BlendClassifier:
        return cls(TfidfClassifier.load_files(folder, info), EncoderClassifier.load_files(folder, info),
                   float(info.params["tfidf_weight"]))
