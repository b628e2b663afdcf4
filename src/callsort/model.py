"""The classifier object: load, save, predict. Training lives in train.py.

A model is a fine-tuned encoder (transformer), a tf-idf + logistic-regression pipeline, or both blended.
Long calls are split into overlapping token windows; a call's logits are the mean of its windows' logits,
so no part of a transcript is ever cut off.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)

INFO_FILE = "callsort.json"
TFIDF_FILE = "tfidf.joblib"
FORMAT_VERSION = 1


@dataclass
class Prediction:
    """One call's category, the probability of that category, and the probability of every category."""

    label: str
    confidence: float
    probabilities: dict[str, float]


def build_tfidf(seed: int = 42):
    """Word and character n-gram tf-idf into a class-balanced logistic regression (scikit-learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=100_000, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, max_features=200_000),
    )
    classifier = LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000, random_state=seed)
    return make_pipeline(features, classifier)


def encode_windows(tokenizer, texts: list[str], max_length: int, stride: int) -> dict:
    """Tokenise whole calls into overlapping windows; `call_index[w]` is the call that window w belongs to."""
    encoded = tokenizer(
        list(texts), truncation=True, max_length=max_length, stride=stride,
        return_overflowing_tokens=True, padding=False,
    )
    return {
        "input_ids": encoded["input_ids"],
        "attention_mask": encoded["attention_mask"],
        "call_index": list(encoded["overflow_to_sample_mapping"]),
    }


def padded_batches(tokenizer, windows: dict, batch_size: int):
    """Yield (window ids, padded tensors) over `encode_windows` output, longest windows first so each batch pads little."""
    order = sorted(range(len(windows["input_ids"])), key=lambda i: -len(windows["input_ids"][i]))
    for start in range(0, len(order), batch_size):
        ids = order[start:start + batch_size]
        yield ids, tokenizer.pad({"input_ids": [windows["input_ids"][i] for i in ids],
                                  "attention_mask": [windows["attention_mask"][i] for i in ids]}, return_tensors="pt")


def pool_windows(window_logits: np.ndarray, call_index, n_calls: int) -> np.ndarray:
    """Average the logits of each call's windows: (windows, classes) -> (calls, classes)."""
    call_index = np.asarray(call_index)
    sums = np.zeros((n_calls, window_logits.shape[1]), dtype=np.float64)
    np.add.at(sums, call_index, window_logits)
    counts = np.bincount(call_index, minlength=n_calls)[:, None]
    return sums / np.maximum(counts, 1)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class CallClassifier:
    """A trained call classifier. Use `load_model(folder)` to get one, `.predict(texts)` to use it."""

    def __init__(self, labels, transformer=None, tokenizer=None, tfidf=None, info: dict | None = None):
        self.labels = list(labels)
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.tfidf = tfidf
        self.info = dict(info or {})
        self.path: Path | None = None  # the folder it was loaded from or saved to
        if transformer is None and tfidf is None:
            raise ModelError("a model needs a transformer, a tf-idf pipeline, or both")

    # -- settings recorded in callsort.json -------------------------------------------------------------
    @property
    def tfidf_weight(self) -> float:
        if self.transformer is None:
            return 1.0
        return float(self.info.get("tfidf_weight", 0.0)) if self.tfidf is not None else 0.0

    @property
    def review_below(self) -> float:
        """Confidence under which a prediction is flagged for review (chosen on validation data at training)."""
        return float(self.info.get("review_below", 0.5))

    # -- prediction ---------------------------------------------------------------------------------------
    def predict_proba(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Probabilities, shape (calls, labels), columns in the order of `self.labels`."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels)))
        weight = self.tfidf_weight
        probs = np.zeros((len(texts), len(self.labels)))
        if weight > 0:
            probs += weight * self._tfidf_proba(texts)
        if weight < 1:
            probs += (1 - weight) * softmax(self.transformer_logits(texts, batch_size, progress))
        return probs

    def predict(self, texts: str | list[str], batch_size: int = 32, progress: bool = False):
        """Label one text (returns a Prediction) or a list of texts (returns a list of Predictions)."""
        single = isinstance(texts, str)
        probs = self.predict_proba([texts] if single else texts, batch_size, progress)
        predictions = [
            Prediction(self.labels[int(row.argmax())], float(row.max()),
                       {label: float(p) for label, p in zip(self.labels, row)})
            for row in probs
        ]
        return predictions[0] if single else predictions

    def _tfidf_proba(self, texts: list[str]) -> np.ndarray:
        probs = self.tfidf.predict_proba(texts)
        # the pipeline's classes are sorted strings, as are self.labels; map defensively all the same
        order = [list(self.tfidf.classes_).index(label) for label in self.labels]
        return probs[:, order]

    def transformer_logits(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Window-pooled logits of the fine-tuned encoder, shape (calls, labels)."""
        import torch
        from tqdm.auto import tqdm

        max_length = int(self.info.get("max_length", 128))
        stride = int(self.info.get("stride", 32))
        windows = encode_windows(self.tokenizer, texts, max_length, stride)
        logits = np.zeros((len(windows["input_ids"]), len(self.labels)), dtype=np.float32)
        self.transformer.eval()
        bar = tqdm(total=len(logits), desc="classifying", unit="window", disable=not progress, leave=False)
        with torch.inference_mode():
            for batch_ids, batch in padded_batches(self.tokenizer, windows, batch_size):
                logits[batch_ids] = self.transformer(**batch).logits.float().numpy()
                bar.update(len(batch_ids))
        bar.close()
        return pool_windows(logits, windows["call_index"], len(texts))

    # -- persistence --------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the model folder: Hugging Face files (loadable by `transformers.pipeline`), tf-idf, callsort.json."""
        import joblib

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.transformer is not None:
            self.transformer.save_pretrained(folder)
            self.tokenizer.save_pretrained(folder)
        if self.tfidf is not None:
            joblib.dump(self.tfidf, folder / TFIDF_FILE)
        info = {**self.info, "format_version": FORMAT_VERSION, "labels": self.labels,
                "components": [c for c, part in (("transformer", self.transformer), ("tfidf", self.tfidf)) if part is not None]}
        (folder / INFO_FILE).write_text(json.dumps(info, indent=2, default=str))
        self.path = folder.resolve()
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> CallClassifier:
        """Load a model folder written by `save` (or by `callsort train`)."""
        folder = Path(folder)
        info = read_model_info(folder)
        labels, components = info["labels"], info["components"]
        transformer = tokenizer = tfidf = None
        try:
            if "transformer" in components:
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                transformer = AutoModelForSequenceClassification.from_pretrained(folder)
                tokenizer = AutoTokenizer.from_pretrained(folder)
            if "tfidf" in components:
                import joblib

                tfidf = joblib.load(folder / TFIDF_FILE)
        except (OSError, ValueError, EOFError) as exc:
            raise ModelError(f"{folder}: model files are missing or damaged ({str(exc).splitlines()[0]})") from None
        model = cls(labels, transformer, tokenizer, tfidf, info)
        model.path = folder.resolve()
        return model


def read_model_info(folder: str | Path) -> dict:
    """A model folder's callsort.json; raises ModelError when the folder is not a callsort model. Cheap: lets
    a command reject a bad --model before hours of work, and load the weights only when they are needed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder")
    info_path = folder / INFO_FILE
    if not info_path.is_file():
        raise ModelError(f"{folder}: not a callsort model (no {INFO_FILE}); train one with `callsort train`")
    try:
        info = json.loads(info_path.read_text())
        info["labels"], info["components"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{info_path}: unreadable callsort model description ({exc})") from None
    return info


def load_model(folder: str | Path) -> CallClassifier:
    """Load a trained callsort model folder."""
    return CallClassifier.load(folder)
