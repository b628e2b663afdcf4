"""Speech regions (faster-whisper's Silero voice detector), scored in small batches to bound its memory.

faster-whisper scores up to 10,000 windows of 32 ms (320 s of audio) in one call of the model, which takes
~130 MB of activations; 1,000 at a time take a tenth of that. Each window is scored alone (from its own
samples and the 64 before it), so the probabilities, and the regions, are the same (tests/test_stream.py).
"""

from __future__ import annotations

import functools

import numpy as np

from ..config import AsrConfig
from .chunks import CHUNK_S

BATCH_WINDOWS = 1000


def speech_regions(audio: np.ndarray, config: AsrConfig) -> list[dict]:
    """The speech regions of one channel: [{"start", "end"}] in samples."""
    from faster_whisper import vad

    if vad.get_vad_model is not small_batch_model:
        vad.get_vad_model = small_batch_model  # get_speech_timestamps finds its model by this name
    options = vad.VadOptions(min_silence_duration_ms=config.vad_min_silence_ms,
                             speech_pad_ms=config.vad_speech_pad_ms, max_speech_duration_s=CHUNK_S)
    return vad.get_speech_timestamps(audio, options)


@functools.cache
def small_batch_model() -> SmallBatches:
    from faster_whisper.vad import SileroVADModel, get_assets_path

    return SmallBatches(SileroVADModel(f"{get_assets_path()}/silero_vad_v6.onnx"))


class SmallBatches:
    """faster-whisper's SileroVADModel, called with BATCH_WINDOWS windows at a time (its __call__ otherwise)."""

    def __init__(self, model):
        self.session = model.session

    def __call__(self, audio: np.ndarray, num_samples: int = 512, context_size_samples: int = 64) -> np.ndarray:
        windows = audio.reshape(-1, num_samples)
        context = windows[..., -context_size_samples:]
        context[-1] = 0  # as faster-whisper does (which silences the end of the last window too)
        context = np.roll(context, 1, 0)  # each window's 64 samples before it
        h = c = np.zeros((1, 1, 128), dtype="float32")
        outputs = []
        for i in range(0, len(windows), BATCH_WINDOWS):
            batch = np.concatenate([context[i:i + BATCH_WINDOWS], windows[i:i + BATCH_WINDOWS]], 1)
            output, h, c = self.session.run(None, {"input": batch, "h": h, "c": c})
            outputs.append(output)
        return np.concatenate(outputs, axis=0)
