"""Finding and decoding call recordings (PyAV, through faster-whisper's decoder), with one-line errors for bad files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AudioError, InputError

AUDIO_EXTENSIONS = frozenset(
    {".mp3", ".wav", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".webm", ".mp4", ".wma", ".amr"}
)
SAMPLE_RATE = 16000  # what Whisper listens at
MIN_DURATION_S = 0.3  # shorter than a syllable: nothing to transcribe
SPLIT_CORRELATION = 0.9  # channels correlated above this carry the same signal and are mixed
WINDOW_S = 600  # decoded and recognised at a time: nearly every call is one window; memory stays flat beyond


@dataclass
class Recording:
    """A decoded recording: one float32 array per channel (at most two), at SAMPLE_RATE."""

    path: str
    channels: list[np.ndarray]
    duration_s: float

    def mixed(self) -> np.ndarray:
        return self.channels[0] if len(self.channels) == 1 else (self.channels[0] + self.channels[1]) / 2


def is_audio(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def find_recordings(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders (walked recursively) into a sorted list of audio files."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and is_audio(p))
            if not inside:
                raise InputError(f"{path}: folder holds no audio files ({', '.join(sorted(AUDIO_EXTENSIONS))})")
            found += inside
        else:
            found.append(path)
    return found


@dataclass
class Window:
    """A stretch of a recording as decoded: one float32 array per channel, starting `start` samples in."""

    start: int
    channels: list[np.ndarray]
    last: bool  # the recording ends with this window (the file-level checks have passed)


def load_recording(path: str | Path, max_minutes: float | None = None) -> Recording:
    """Decode a whole recording to 16 kHz float32, one array per channel; raise AudioError naming the problem.
    `max_minutes`: longer recordings are refused, from the duration the file declares before decoding and
    while decoding (a header that understates the length cannot make callsort decode hours)."""
    (window,) = stream_recording(path, max_minutes, window_s=None)  # one window: the whole recording
    return Recording(str(path), window.channels, len(window.channels[0]) / SAMPLE_RATE)


def stream_recording(path: str | Path, max_minutes: float | None = None, window_s: float | None = WINDOW_S):
    """Decode a recording window by window (generator of Window, each at most `window_s` seconds; None: one
    window), so memory stays flat whatever the length. The same checks and errors as load_recording: those
    about the whole file (no samples, truncated, too short) are made before the last window is given."""
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: holds no audio stream")
            stream = container.streams.audio[0]
            stereo = stream.channels >= 2
            declared_s = _declared_duration(path, container, stream)
        if max_minutes and declared_s and declared_s > max_minutes * 60:
            raise AudioError(too_long(path, declared_s, max_minutes))
        width = 2 if stereo else 1
        size = int(window_s * SAMPLE_RATE) * width if window_s else None
        blocks, start, carry = _blocks(_decode(path, stereo, max_minutes), size), 0, None
        while True:
            block, last = blocks.send(carry)
            if last:
                _check_length(path, start + block.size // width, declared_s)
            channels = [block[0::2], block[1::2]] if stereo else [block]
            start += block.size // width
            del block  # held by the caller only: it goes when the caller is done with it
            carry = yield Window(start - len(channels[0]), channels, last)
            if last:
                return
            channels = None
            if carry is not None:  # the end of this window, to start the next (the caller sends it)
                carry = np.stack(carry, 1).reshape(-1) if stereo else carry[0]
                start -= carry.size // width
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).split(":")[0].strip() or type(exc).__name__
        raise AudioError(f"{path}: not a readable audio file ({reason})") from None


def _blocks(pieces, size: int | None):
    """Interleaved int16 pieces as float32 blocks of `size` samples (None: one block), with whether each is the
    last. A full block is given only once more samples follow; each is filled in place (no second copy). Samples
    sent back (the end of a block, carried over) start the next block, before its `size` new ones."""
    if size is None:
        held = list(pieces)
        yield (np.concatenate(held).astype(np.float32) / 32768.0 if held else np.zeros(0, np.float32)), True
        return
    block, filled = np.empty(size, np.float32), 0
    for piece in pieces:
        while piece.size:
            if filled == len(block):
                carry = yield block, False
                block = None  # before the next one is made: one window in memory, not two
                block = np.empty(size + (len(carry) if carry is not None else 0), np.float32)
                filled = 0 if carry is None else len(carry)
                block[:filled] = carry
            n = min(len(block) - filled, piece.size)
            block[filled:filled + n] = piece[:n]
            block[filled:filled + n] /= 32768.0  # exact: the same values as dividing the whole recording
            filled, piece = filled + n, piece[n:]
    yield block[:filled], True


def _check_length(path: Path, samples: int, declared_s: float | None) -> None:
    """The checks of a whole recording, once decoded: samples there, as many as declared, enough for speech."""
    duration_s = samples / SAMPLE_RATE
    if duration_s == 0:
        raise AudioError(f"{path}: holds no audio samples (a header without data?)")
    if declared_s and duration_s < 0.9 * declared_s and declared_s - duration_s > 0.5:
        raise AudioError(f"{path}: truncated: decoded {duration_s:.1f} s of the {declared_s:.1f} s it declares")
    if duration_s < MIN_DURATION_S:
        raise AudioError(f"{path}: too short to hold speech ({duration_s:.2f} s)")


TOO_LONG = "(--max-audio-minutes)"  # ends the error of a recording over the limit: such a failure is final


def too_long(path: Path, seconds: float, max_minutes: float) -> str:
    return f"{path}: {seconds / 60:.1f} minutes of audio or more, over the {max_minutes:g}-minute limit {TOO_LONG}"


def _decode(path: Path, stereo: bool, max_minutes: float | None):
    """The audio as 16 kHz int16 pieces, channels interleaved (PyAV decodes and resamples, as faster-whisper's
    decode_audio does), stopping with AudioError once past `max_minutes`."""
    import av

    resampler = av.AudioResampler(format="s16", layout="stereo" if stereo else "mono", rate=SAMPLE_RATE)
    limit = int(max_minutes * 60 * SAMPLE_RATE) if max_minutes else None
    samples = 0
    with av.open(str(path), metadata_errors="ignore") as container:
        for frame in _frames(container):
            for out in resampler.resample(frame):
                piece = out.to_ndarray().reshape(-1)
                samples += piece.size // (2 if stereo else 1)
                yield piece
            if limit and samples > limit:
                raise AudioError(too_long(path, samples / SAMPLE_RATE, max_minutes))
        for out in resampler.resample(None):  # flush
            yield out.to_ndarray().reshape(-1)


def _frames(container):
    """The audio frames of a container, a corrupt frame skipped (as faster-whisper does)."""
    import av

    frames = container.decode(audio=0)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue
        frame.pts = None  # the resampler need not check timestamps
        yield frame


def _declared_duration(path: Path, container, stream) -> float | None:
    """The duration a file's header promises. FFmpeg trusts a short WAV's size, so WAV headers are read directly."""
    if path.suffix.lower() == ".wav":
        import wave

        try:
            with wave.open(str(path)) as w:
                return w.getnframes() / w.getframerate()
        except (wave.Error, EOFError, ZeroDivisionError):
            pass  # not plain PCM (e.g. float or compressed WAV): FFmpeg's figure below
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def choose_channels(recording: Recording, mode: str) -> str:
    """Resolve --channels: 'split' transcribes each channel alone, 'mix' their average.

    'auto' splits when there are two channels that really differ (agent and caller recorded apart) and both
    carry sound; a stereo file with the same signal twice, or one silent side, is mixed.
    """
    if mode not in ("auto", "mix", "split"):
        raise InputError(f"unknown channel mode {mode!r}: use auto, mix or split")
    if len(recording.channels) == 1:
        return "mix"
    if mode != "auto":
        return mode
    loudness, correlation = _compare(*recording.channels)
    if loudness.min() < 1e-4 or loudness.min() < 0.02 * loudness.max():
        return "mix"
    return "mix" if correlation > SPLIT_CORRELATION else "split"


def _compare(left: np.ndarray, right: np.ndarray, block: int = 60 * SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """Each channel's RMS loudness and their (Pearson) correlation, summed a minute at a time in float64 (whole-
    array arithmetic would hold several copies of a long recording: np.corrcoef ~4)."""
    sums = np.zeros(5)
    for i in range(0, len(left), block):
        a, b = left[i:i + block].astype(np.float64), right[i:i + block].astype(np.float64)
        sums += [a.sum(), b.sum(), a @ a, b @ b, a @ b]
    mean_a, mean_b, power_a, power_b, product = sums / max(len(left), 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant channel: no correlation (nan), as numpy
        correlation = (product - mean_a * mean_b) / np.sqrt((power_a - mean_a**2) * (power_b - mean_b**2))
    return np.sqrt([power_a, power_b]), float(correlation)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, hex (OSError when it cannot be read)."""
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_wav(path: str | Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write float samples (channels x n, or n for mono) as 16-bit PCM WAV with PyAV."""
    import av

    samples = np.atleast_2d(samples)
    layout = "mono" if samples.shape[0] == 1 else "stereo"
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1).copy(), format="s16", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return Path(path)
