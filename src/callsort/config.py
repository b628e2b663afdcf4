"""Typed settings for each stage, with defaults that work out of the box."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from .errors import ConfigError

ModelKind = Literal["transformer", "tfidf"]
StopOn = Literal["macro_f1", "loss"]
TrainWindows = Literal["one", "all"]


@dataclass
class TrainConfig:
    """How a classifier is trained. Every field has a working default; see README for the measurements behind them."""

    model: ModelKind = "transformer"  # "transformer" (fine-tuned encoder) or "tfidf" (scikit-learn baseline)
    base: str = "minilm"  # a short name from registry.TEXT_MODELS or any local Hugging Face model folder
    max_length: int = 128  # tokens per window; long calls are split into overlapping windows, never cut
    stride: int = 32  # tokens shared by consecutive windows
    epochs: float = 8  # upper bound; early stopping may end sooner
    learning_rate: float = 1.5e-4  # AdamW peak learning rate after linear warm-up
    train_windows: TrainWindows = "one"  # per call and epoch: "one" random window, or "all" (loss on their mean)
    batch_size: int = 8  # calls per optimisation step
    bf16: bool = False  # bfloat16 autocast while fine-tuning (fast on CPUs with AVX512-BF16/AMX)
    warmup_ratio: float = 0.1  # fraction of steps spent warming the learning rate up from 0
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    class_weight: Literal["balanced", "none"] = "balanced"  # cross-entropy weights inverse to class frequency
    stop_on: StopOn = "macro_f1"  # early-stopping criterion on the validation calls: "macro_f1" or "loss"
    patience: int = 3  # evaluations without improvement before stopping
    val_fraction: float = 0.12  # share of the training calls held out for early stopping when no --val is given
    tfidf_weight: float = 0.7  # weight of the tf-idf model's probabilities in the blend (0 = transformer alone)
    review_precision: float = 0.9  # needs_review threshold: lowest confidence whose validation accuracy reaches this
    seed: int = 42  # seeds splits, initialisation and data order
    threads: int = 0  # torch CPU threads; 0 = all cores

    def __post_init__(self) -> None:
        if self.model not in ("transformer", "tfidf"):
            raise ConfigError(f"unknown model kind {self.model!r}: use 'transformer' or 'tfidf'")
        if self.stop_on not in ("macro_f1", "loss"):
            raise ConfigError(f"unknown early-stopping criterion {self.stop_on!r}: use 'macro_f1' or 'loss'")
        if self.train_windows not in ("one", "all"):
            raise ConfigError(f"unknown train_windows {self.train_windows!r}: use 'one' or 'all'")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be between 0 and 1, got {self.val_fraction}")
        if not 0 <= self.tfidf_weight <= 1:
            raise ConfigError(f"tfidf_weight must be between 0 and 1, got {self.tfidf_weight}")
        if self.stride >= self.max_length - 2:
            raise ConfigError(f"stride ({self.stride}) must be smaller than max_length ({self.max_length})")
        if self.max_length < 16:
            raise ConfigError(f"max_length must be at least 16 tokens, got {self.max_length}")

    def to_dict(self) -> dict:
        return asdict(self)

