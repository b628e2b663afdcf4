"""The encoder kind: a fine-tuned BERT-style encoder (MiniLM-L6 by default) reading whole calls in windows.

Long calls are split into overlapping token windows; a call's logits are the mean of its windows' logits,
so no part of a transcript is ever cut off. Fine-tuning itself lives in finetune.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .classifier import Classifier, ModelInfo, softmax
from .finetune import fine_tune
from .windows import encode_windows, padded_batches, pool_windows


def window_logits(network, tokenizer, texts: list[str], params: dict, n_labels: int, batch_size: int = 32,
                  progress: bool = False) -> np.ndarray:
    """Window-pooled logits of `network` over whole calls, shape (calls, labels); `params` says how a call is
    cut into windows (max_length, stride, view)."""
    import torch
    from tqdm.auto import tqdm

    windows = encode_windows(tokenizer, texts, int(params["max_length"]), int(params["stride"]),
                             params.get("view", "windows"))
    logits = np.zeros((len(windows["input_ids"]), n_labels), dtype=np.float32)
    network.eval()
    bar = tqdm(total=len(logits), desc="classifying", unit="window", disable=not progress, leave=False)
    with torch.inference_mode():
        for batch_ids, batch in padded_batches(tokenizer, windows, batch_size):
            logits[batch_ids] = network(**batch).logits.float().numpy()
            bar.update(len(batch_ids))
    bar.close()
    return pool_windows(logits, windows["call_index"], len(texts))


class EncoderClassifier(Classifier):
    """A fine-tuned sequence-classification encoder; its folder also loads with `transformers.pipeline`."""

    kind = "encoder"

    def __init__(self, labels, network, tokenizer, params: dict):
        super().__init__(labels, params)
        self.network, self.tokenizer = network, tokenizer

    @classmethod
    def fit(cls, train, val, config, progress: bool = False) -> EncoderClassifier:
        labels = sorted(set(train.labels))
        network, tokenizer, history = fine_tune(train, val, labels, config, progress)
        model = cls(labels, network, tokenizer, {"base": config.base, "max_length": config.max_length,
                                                 "stride": config.stride, "view": config.view})
        model.info.training["history"] = history
        return model

    def logits(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return window_logits(self.network, self.tokenizer, texts, self.info.params, len(self.labels),
                             progress=progress)

    def predict_proba(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        return softmax(self.logits(texts, progress))

    def save_files(self, folder: Path) -> None:
        self.network.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)

    @classmethod
    def load_files(cls, folder: Path, info: ModelInfo) -> EncoderClassifier:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        network = AutoModelForSequenceClassification.from_pretrained(folder)
        return cls(info.labels, network, AutoTokenizer.from_pretrained(folder), info.params)
