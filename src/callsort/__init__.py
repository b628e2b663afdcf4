"""callsort: sort call-centre recordings and transcripts into business categories, offline.

The public API, in the order a call meets it: read calls, train a classifier (or load one), decide what a run
needs (RunNeeds: speech recognition, redaction), classify calls into ResultRows, evaluate. Settings are the
dataclasses of callsort.config.
"""

from .config import AsrConfig, TrainConfig
from .data import CallTable, read_calls
from .errors import CallsortError
from .models.classifier import Classifier, load_model
from .models.evaluate import evaluate
from .models.train import train
from .needs import RunNeeds
from .pipeline import ResultRow, classify_calls, load_calls
from .version import __version__

__all__ = [
    "AsrConfig", "CallTable", "CallsortError", "Classifier", "ResultRow", "RunNeeds", "TrainConfig",
    "__version__", "classify_calls", "evaluate", "load_calls", "load_model", "read_calls", "train",
]
