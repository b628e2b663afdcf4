"""The classifier seam: one small interface every kind of model implements, and the table of kinds.

A kind is a `Classifier` subclass in a module of its own (tfidf.py, encoder.py, blend.py) plus one entry in
`KINDS`. `load_model` reads a folder's callsort.json and dispatches on its `kind`; `train.train` dispatches on
`TrainConfig.model` the same way. Nothing else in callsort knows which kinds exist.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import ModelError
from ..insights.quantify import Quantifier
from ..version import __version__

INFO_FILE = "callsort.json"
CALIBRATION_FILE = "calibration.joblib"
FORMAT_VERSION = 2

# kind name -> "module:Class" (imported on first use, so loading a tf-idf model never imports torch) or a class
KINDS: dict[str, str | type] = {
    "tfidf": "callsort.models.tfidf:TfidfClassifier",
    "encoder": "callsort.models.encoder:EncoderClassifier",
    "blend": "callsort.models.blend:BlendClassifier",
}


@dataclass
class Prediction:
    """One call's category, the probability of that category, and the probability of every category."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    reason: str = ""  # why the lead was not booked, for the categories that carry a reason (reasons.py)
    reason_confidence: float | None = None


@dataclass
class ModelInfo:
    """What callsort.json records: the kind and its own parameters, the labels, and how the model was made."""

    kind: str
    labels: list[str]
    params: dict = field(default_factory=dict)  # what the kind needs to rebuild itself (windows, blend weight…)
    review_below: float = 0.5  # calibrated confidence under which a prediction is flagged for review
    calibration: str = "none"  # how probabilities are calibrated: temperature, isotonic or none
    calibrated_on: str = ""  # which calls calibration and review_below were fitted on ("70 validation calls")
    auto_accuracy: float = 0.9  # the accuracy review_below was chosen to give the calls it lets through
    expected_coverage: float | None = None  # share of the validation calls review_below let through
    reasons: dict = field(default_factory=dict)  # the lost-lead reason model, when trained (reasons.py)
    training: dict = field(default_factory=dict)  # settings, data, validation/test metrics, history, versions
    callsort_version: str = ""
    format_version: int = FORMAT_VERSION


class Classifier:
    """A trained call classifier. Subclasses implement `fit`, `predict_proba`, `save_files` and `load_files`."""

    kind: ClassVar[str] = ""
    # a kind that fits in seconds and stops on no validation calls: calibrated out-of-fold by default, and its
    # final model learns from every labelled call (models/train.py)
    cheap_to_fit: ClassVar[bool] = False

    def __init__(self, labels: list[str], params: dict | None = None):
        self.labels = list(labels)
        self.info = ModelInfo(self.kind, self.labels, dict(params or {}), callsort_version=__version__)
        self.path: Path | None = None  # the folder it was loaded from or saved to
        self.calibrator = None  # fitted by train.train on calls the model did not learn from (calibrate.py)
        self.quantifier = None  # those calls' probabilities, for the report's estimates (insights/quantify.py)
        self.keep_list = None  # words of the training calls that are not personal (privacy/keep.py)
        self.reasons = None  # a reasons.ReasonModel when trained with a reason column

    # -- what a kind implements ---------------------------------------------------------------------------
    @classmethod
    def fit(cls, train, val, config, progress: bool = False) -> Classifier:
        """Train on `train` (a labelled CallTable); `val` is for early stopping, never for fitting."""
        raise NotImplementedError

    def predict_proba(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Probabilities, shape (calls, labels), columns in the order of `self.labels`."""
        raise NotImplementedError

    def save_files(self, folder: Path) -> None:
        """Write the kind's own files (weights) into `folder`."""
        raise NotImplementedError

    @classmethod
    def load_files(cls, folder: Path, info: ModelInfo) -> Classifier:
        """Rebuild the model from its files and callsort.json."""
        raise NotImplementedError

    # -- shared by every kind -----------------------------------------------------------------------------
    @property
    def review_below(self) -> float:
        return float(self.info.review_below)

    @property
    def identity(self) -> str:
        """Names this model in result rows and jobs: its folder and a hash of what callsort.json says."""
        return model_identity(self.info, self.path)

    def calibrated_proba(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """`predict_proba`, calibrated: a call given 0.9 is right about 90 % of the time."""
        return self.calibrated(self.predict_proba(texts, progress=progress))

    def calibrated(self, probs: np.ndarray) -> np.ndarray:
        """Raw probabilities of this model -> calibrated ones (unchanged when it has no calibrator)."""
        from .calibrate import apply_calibrator

        return apply_calibrator(self.calibrator, probs, self.labels)

    def predict(self, texts: str | list[str], progress: bool = False):
        """Label one text (returns a Prediction) or a list of texts (returns a list of Predictions), with
        calibrated probabilities."""
        single = isinstance(texts, str)
        texts = [texts] if single else [str(t) for t in texts]
        probs = self.calibrated_proba(texts, progress=progress)
        predictions = [Prediction(self.labels[int(row.argmax())], float(row.max()),
                                  {label: float(p) for label, p in zip(self.labels, row, strict=False)}) for row in probs]
        if self.reasons is not None:  # a reason for the calls predicted in a category that carries one
            asks = [i for i, p in enumerate(predictions) if p.label in self.reasons.for_labels]
            for i, reason, confidence in zip(asks, *self.reasons.predict([texts[i] for i in asks]), strict=False):
                predictions[i].reason, predictions[i].reason_confidence = reason, float(confidence)
        return predictions[0] if single else predictions

    def save(self, folder: str | Path) -> Path:
        """Write the model folder: the kind's files and callsort.json."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.save_files(folder)
        if self.calibrator is not None:
            import joblib

            joblib.dump(self.calibrator, folder / CALIBRATION_FILE)
        if self.reasons is not None:
            self.reasons.save(folder)
            self.info.reasons = self.reasons.describe()
        if self.quantifier is not None:
            self.quantifier.save(folder)
        if self.keep_list is not None:
            self.keep_list.save(folder)
        (folder / INFO_FILE).write_text(json.dumps(asdict(self.info), indent=2, default=str))
        self.path = folder.resolve()
        return folder


def model_identity(info: ModelInfo, folder: Path | None) -> str:
    """`folder-name@hash`: the hash of callsort.json's content changes with any retraining."""
    digest = hashlib.sha256(json.dumps(asdict(info), sort_keys=True, default=str).encode()).hexdigest()
    return f"{folder.name if folder else info.kind}@{digest[:12]}"


def kind_class(kind: str) -> type[Classifier]:
    """The Classifier subclass registered for `kind`."""
    entry = KINDS.get(kind)
    if entry is None:
        raise ModelError(f"unknown model kind {kind!r}: known kinds are {', '.join(sorted(KINDS))}")
    if isinstance(entry, str):
        module, name = entry.split(":")
        entry = getattr(importlib.import_module(module), name)
    return entry


def read_model_info(folder: str | Path) -> ModelInfo:
    """A model folder's callsort.json; raises ModelError when the folder is not a callsort model. Cheap: lets
    a command reject a bad --model before hours of work, and load the weights only when they are needed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder")
    info_path = folder / INFO_FILE
    if not info_path.is_file():
        raise ModelError(f"{folder}: not a callsort model (no {INFO_FILE}); train one with `callsort train`")
    try:
        info = ModelInfo(**json.loads(info_path.read_text()))
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{info_path}: not a callsort {FORMAT_VERSION} model description ({exc}); "
                         "retrain it with this version") from None
    kind_class(info.kind)  # an unknown kind fails here, before any work
    return info


def load_model(folder: str | Path) -> Classifier:
    """Load a trained callsort model folder, whatever its kind."""
    folder = Path(folder)
    info = read_model_info(folder)
    try:
        model = kind_class(info.kind).load_files(folder, info)
        if info.calibration != "none":
            from .legacy import load_pickle

            model.calibrator = load_pickle(folder / CALIBRATION_FILE)
        if info.reasons:
            from .reasons import ReasonModel

            model.reasons = ReasonModel.load(folder, info.reasons)
    except (OSError, ValueError, EOFError, KeyError) as exc:
        raise ModelError(f"{folder}: model files are missing or damaged ({str(exc).splitlines()[0]})") from None
    model.info = info
    model.labels = info.labels
    model.path = folder.resolve()
    model.quantifier = Quantifier.load(folder)
    return model


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
