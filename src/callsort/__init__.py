"""callsort: sort call-centre recordings and transcripts into business categories, offline."""

__version__ = "0.1.0"

from .audio import Recording, load_recording  # noqa: E402
from .config import TrainConfig  # noqa: E402
from .data import CallTable, read_calls  # noqa: E402
from .errors import AudioError, CallsortError, ConfigError, InputError, ModelError  # noqa: E402
from .evaluate import classification_metrics, evaluate  # noqa: E402
from .model import CallClassifier, Prediction, load_model  # noqa: E402
from .predict import predict_calls  # noqa: E402
from .train import TrainResult, train  # noqa: E402
from .transcribe import AsrConfig, Transcriber, Transcript, load_calls  # noqa: E402

__all__ = [
    "AsrConfig", "AudioError", "CallClassifier", "CallTable", "CallsortError", "ConfigError", "InputError",
    "ModelError", "Prediction", "Recording", "TrainConfig", "TrainResult", "Transcriber", "Transcript",
    "classification_metrics", "evaluate", "load_calls", "load_model", "load_recording", "predict_calls",
    "read_calls", "train",
]
