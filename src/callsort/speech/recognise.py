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
from .audio import SAMPLE_RATE, choose_channels, load_recording
from .chunks import CHUNK_S, decode_share, pack_chunks, place_segments
from .patterns import AGENT, CALLER
from .transcript import Transcript, agent_greets_first, speaker_turns


class Recogniser:
    """Turns recordings into transcripts. Whisper loads on first use (or `load()`); `word_times` asks it for
    each word's time too (silenced audio copies need them)."""

    def __init__(self, config: AsrConfig | None = None, word_times: bool = False):
        self.config = config or AsrConfig()
        self.word_times = word_times
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
        """Everything before Whisper (may run in the helper thread): the error (a string), or the recording with
        its speech regions per channel."""
        try:
            recording = load_recording(path, self.config.max_audio_minutes)
        except AudioError as exc:
            return str(exc)
        mode = choose_channels(recording, self.config.channels)
        if mode == "split":
            agent = 1 if self.config.agent_channel == "right" else 0  # auto: left until the words say otherwise
            parts = [(AGENT, recording.channels[agent], agent), (CALLER, recording.channels[1 - agent], 1 - agent)]
        else:
            parts = [("", recording.mixed(), None)]  # channel None: every channel
        return recording, mode, [(who, audio, self._speech(audio), channel) for who, audio, channel in parts]

    def _speech(self, audio) -> list[dict]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(min_silence_duration_ms=self.config.vad_min_silence_ms,
                             speech_pad_ms=self.config.vad_speech_pad_ms, max_speech_duration_s=CHUNK_S)
        return get_speech_timestamps(audio, options)

    def _finish(self, path: str, prepared) -> Transcript:
        if isinstance(prepared, str):
            return Transcript(source=path, asr_model=self.model_name, error=prepared)
        recording, mode, parts = prepared
        try:
            segments = self._recognise(parts, timestamps=mode == "split", words=self.word_times)
            speech = [{"speaker": who, "start": round(r["start"] / SAMPLE_RATE, 3),
                       "end": round(r["end"] / SAMPLE_RATE, 3)} for who, _, regions, _ in parts for r in regions
                      ] if mode == "split" else []
            if mode == "split" and self.config.agent_channel == "auto":
                segments, swapped = agent_greets_first(segments), segments
                if segments is not swapped:  # the right channel was the agent: so is its speech
                    speech = [{**r, "speaker": CALLER if r["speaker"] == AGENT else AGENT} for r in speech]
        except RuntimeError as exc:  # a decoder failure on one file must not stop the batch
            return Transcript(source=path, asr_model=self.model_name, duration_s=recording.duration_s,
                              error=f"{path}: speech recognition failed ({str(exc).splitlines()[0]})")
        text = " ".join(s["text"] for s in segments)
        return Transcript(
            source=recording.path, text=text, transcript=speaker_turns(segments) if mode == "split" else text,
            duration_s=round(recording.duration_s, 2), asr_model=self.model_name, channels=mode, segments=segments,
            speech=speech)

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
