"""Speech recognition: recordings to transcripts with Whisper (faster-whisper / CTranslate2) on the CPU.

Speech only: the transcript cache (cache.py) and redaction (privacy/) are applied around it by the run's
needs (needs.py), never here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..config import AsrConfig
from ..errors import AudioError, ModelError
from ..registry import ASR_MODELS, resolve_asr_model
from .audio import SAMPLE_RATE, WINDOW_S, Recording, choose_channels, stream_recording
from .chunks import decode_share, pack_chunks, place_segments
from .patterns import AGENT, CALLER
from .transcript import Transcript, agent_greets_first, speaker_turns
from .vad import speech_regions
from .windows import Prepared, give_back_memory, parts_of, recognise_windows


class Recogniser:
    """Turns recordings into transcripts. Whisper loads on first use (or `load()`); `word_times` asks it for
    each word's time too (silenced audio copies need them)."""

    def __init__(self, config: AsrConfig | None = None, word_times: bool = False, window_s: float | None = WINDOW_S):
        self.config = config or AsrConfig()
        self.word_times = word_times
        self.window_s = window_s  # seconds decoded and recognised at a time (windows.py); None: the whole file
        self.model_dir = resolve_asr_model(self.config.model)
        self.model_name = self.config.model if self.config.model in ASR_MODELS else self.model_dir.name
        threads = self.config.threads or len(os.sched_getaffinity(0))
        self.workers = self.config.workers or min(threads, 4)
        self.threads_per_worker = max(1, threads // self.workers)
        self._model = None

    def load(self):
        """Load Whisper now (it otherwise loads on first use); returns the faster-whisper WhisperModel.

        It gets one CTranslate2 replica per worker, each on threads/workers cores: two one-thread workers on
        separate chunks recognise ~25% faster on 2 cores than one two-thread worker (benchmarks/asr_speed.py).
        """
        if self._model is None:
            from faster_whisper import WhisperModel

            try:
                self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                           cpu_threads=self.threads_per_worker, num_workers=self.workers)
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(f"{self.model_dir}: cannot load Whisper model ({str(exc).splitlines()[0]})") from None
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def unload(self) -> None:
        """Free Whisper's memory (it loads again if needed): recognition is done, the text model comes next."""
        self._model = None

    def transcribe(self, path: str | Path) -> Transcript:
        """Transcribe one recording; raises AudioError for a file that cannot be used."""
        prepared = self._prepare(path)
        if isinstance(prepared, str):
            raise AudioError(prepared)
        return self._finish(str(path), prepared)

    def transcribe_many(self, paths: Iterable[str | Path], progress: bool = False) -> Iterator[Transcript]:
        """Transcribe files in order, never stopping on a bad one: its Transcript carries the error.

        The next file is decoded and voice-detected in a background thread while this one is recognised:
        those steps use one core, and Whisper leaves it idle often enough to gain ~20% (benchmarks).
        """
        from tqdm.auto import tqdm

        paths = [str(p) for p in paths]
        audio_seconds, started = 0.0, time.perf_counter()
        bar = tqdm(total=len(paths), unit="file", disable=not progress, desc="transcribing")
        with ThreadPoolExecutor(max_workers=1) as pool:
            upcoming = pool.submit(self._prepare, paths[0]) if paths else None
            for i, path in enumerate(paths):
                prepared = upcoming.result()
                upcoming = pool.submit(self._prepare, paths[i + 1]) if i + 1 < len(paths) else None
                transcript = self._finish(path, prepared)
                audio_seconds += transcript.duration_s or 0.0
                speed = audio_seconds / max(time.perf_counter() - started, 1e-9)
                bar.set_postfix(audio=f"{audio_seconds:.0f}s", speed=f"{speed:.1f}x real time")
                bar.update(1)
                yield transcript
        bar.close()

    # --- steps -------------------------------------------------------------------------------------------

    def _prepare(self, path: str | Path):
        """Everything before Whisper for the recording's first window (may run in the helper thread): the
        error (a string), or the windows with the first one's channel mode and speech regions per part."""
        give_back_memory()  # from the file before, and large arrays mapped alone from now on
        windows = stream_recording(path, self.config.max_audio_minutes, self.window_s)
        try:
            first = next(windows)
        except AudioError as exc:
            return str(exc)
        start = Recording(str(path), first.channels, len(first.channels[0]) / SAMPLE_RATE)
        mode = choose_channels(start, self.config.channels)  # the first window tells, as a whole call did
        parts = self.voice(parts_of(first.channels, mode, self.config.agent_channel))
        return Prepared(str(path), windows, mode, first, parts, decoded=len(first.channels[0]))

    def voice(self, parts: list[tuple]) -> list[tuple]:
        """(speaker, audio, channel) parts with their speech regions (VAD): (speaker, audio, regions, channel)."""
        return [(who, audio, self._speech(audio), channel) for who, audio, channel in parts]

    def margin_samples(self) -> int:
        """Silence after speech within which the voice detector may still join more speech to it."""
        return (self.config.vad_min_silence_ms + self.config.vad_speech_pad_ms) * SAMPLE_RATE // 1000

    def _speech(self, audio) -> list[dict]:
        return speech_regions(audio, self.config)

    def _finish(self, path: str, prepared) -> Transcript:
        if isinstance(prepared, str):
            return Transcript(source=path, asr_model=self.model_name, error=prepared)
        try:
            samples = recognise_windows(self, prepared)
        except AudioError as exc:  # a later window: too long, truncated, unreadable
            return Transcript(source=path, asr_model=self.model_name, error=str(exc))
        except RuntimeError as exc:  # a decoder failure on one file must not stop the batch
            return Transcript(source=path, asr_model=self.model_name, duration_s=prepared.decoded / SAMPLE_RATE,
                              error=f"{path}: speech recognition failed ({str(exc).splitlines()[0]})")
        finally:
            prepared.windows.close()  # the decoder's file, when recognition stopped early
        mode, segments, speech = prepared.mode, prepared.segments, prepared.speech
        if mode == "split" and self.config.agent_channel == "auto":
            segments, swapped = agent_greets_first(segments), segments
            if segments is not swapped:  # the right channel was the agent: so is its speech
                speech = [{**r, "speaker": CALLER if r["speaker"] == AGENT else AGENT} for r in speech]
        text = " ".join(s["text"] for s in segments)
        return Transcript(
            source=prepared.path, text=text, transcript=speaker_turns(segments) if mode == "split" else text,
            duration_s=round(samples / SAMPLE_RATE, 2), asr_model=self.model_name, channels=mode,
            segments=segments, speech=speech)

    def _recognise(self, parts: list, timestamps: bool, words: bool = False) -> list[dict]:
        """Whisper over the speech of every part (channel) at once; segments in time order with speakers.
        The chunks of all channels are shared out among the workers (chunks.py)."""
        chunks, owners = pack_chunks(parts)
        if not chunks:
            return []  # no speech anywhere: an empty transcript, not an error
        model = self.load()
        workers = min(self.workers, len(chunks))
        shares = [range(len(chunks) * w // workers, len(chunks) * (w + 1) // workers) for w in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = pool.map(lambda share: decode_share(model, [chunks[i] for i in share], self.config, timestamps,
                                                        words), shares)
            segments = [segment for share, share_segments in zip(shares, found, strict=False)
                        for segment in place_segments(share_segments, [owners[i] for i in share], words)]
        return sorted(segments, key=lambda s: s["start"])
