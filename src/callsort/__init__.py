"""callsort: sort call-centre recordings and transcripts into business categories, offline.

The public API, in the order a call meets it: read calls, train a classifier (or load one), classify calls
into ResultRows, evaluate. Settings are the dataclasses of callsort.config.
"""

from .classifier import Classifier, load_model
from .config import AsrConfig, TrainConfig
from .data import CallTable, read_calls
from .errors import CallsortError
from .evaluate import evaluate
from .pipeline import ResultRow, classify_calls, load_calls
from .train import train
from .transcribe import Transcriber
from .version import __version__

__all__ = [
    "AsrConfig", "CallTable", "CallsortError", "Classifier", "ResultRow", "TrainConfig", "Transcriber",
    "__version__", "classify_calls", "evaluate", "load_calls", "load_model", "read_calls", "train",
]
