"""callsort: sort call-centre recordings and transcripts into business categories, offline."""

__version__ = "0.1.0"

from .config import TrainConfig  # noqa: E402
from .data import CallTable, read_calls  # noqa: E402
from .errors import CallsortError, ConfigError, InputError, ModelError  # noqa: E402
from .evaluate import classification_metrics, evaluate  # noqa: E402
from .model import CallClassifier, Prediction, load_model  # noqa: E402
from .train import TrainResult, train  # noqa: E402

__all__ = [
    "CallClassifier", "CallTable", "CallsortError", "ConfigError", "InputError", "ModelError", "Prediction",
    "TrainConfig", "TrainResult", "classification_metrics", "evaluate", "load_model", "read_calls", "train",
]
