"""Speech recognition: recordings to transcripts with Whisper (faster-whisper / CTranslate2) on the CPU, cached."""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .audio import SAMPLE_RATE, choose_channels, load_recording
from .redact import Span, replace_spans
from .silence import mark_words, write_silenced
from .config import AsrConfig
from .errors import AudioError, ModelError
from .registry import ASR_MODELS, cache_dir, resolve_asr_model

log = logging.getLogger(__name__)

CACHE_VERSION = 2  # bump when the transcript format or recognition changes
CHUNK_S = 30  # Whisper hears 30 s at a time


@dataclass
class Transcript:
    """One recording's transcript, or the one-line reason it has none."""

    source: str
    text: str = ""  # every word in time order: what the classifier reads
    transcript: str = ""  # for people: speaker-tagged turns when channels were split, else the text
    duration_s: float | None = None
    asr_model: str = ""
    channels: str = ""  # mix or split, as decided for this file
    segments: list[dict] = field(default_factory=list)  # speaker, start, end, text
    speech: list[dict] = field(default_factory=list)  # split channels: each side's speech (VAD), speaker/start/end
    error: str = ""
    cached: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class Transcriber:
    """Turns recordings into transcripts. The Whisper model loads on first use; results are cached on disk."""

    def __init__(self, config: AsrConfig | None = None):
        self.config = config or AsrConfig()
        self.model_dir = resolve_asr_model(self.config.model)
        self.model_name = self.config.model if self.config.model in ASR_MODELS else self.model_dir.name
        threads = self.config.threads or len(os.sched_getaffinity(0))
        self.workers = self.config.workers or min(threads, 4)
        self.threads_per_worker = max(1, threads // self.workers)
        self._model = None
        self._redactor = None

    @property
    def redactor(self):
        """The Redactor (redact.py) when redaction is on, loaded on first use; else None."""
        if self.config.redact and self._redactor is None:
            from .redact import Redactor

            self._redactor = Redactor(self.config.entity_list(), self.config.redact_agent_names)
        return self._redactor

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
        kind, value = self._prepare(path)
        if kind == "error":
            raise AudioError(value)
        return self._finish(str(path), (kind, value))

    def transcribe_many(self, paths: Iterable[str | Path], progress: bool = False) -> Iterator[Transcript]:
        """Transcribe files in order, never stopping on a bad one: its Transcript carries the error.

        The next file is read, hashed, decoded and voice-detected in a background thread while this one is
        recognised: those steps use one core, and Whisper leaves it idle often enough to gain ~20% (README).
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
        """Everything before Whisper (may run in the helper thread): a cached transcript, the error, or the
        recording with its speech regions per channel."""
        try:
            key = self._cache_key(path)
            cached = self._cache_get(key, path)
            if cached is not None:
                return "cached", cached
            recording = load_recording(path)
            mode = choose_channels(recording, self.config.channels)
            if mode == "split":
                agent = 1 if self.config.agent_channel == "right" else 0  # auto: left until the words say otherwise
                parts = [("Agent", recording.channels[agent], agent), ("Caller", recording.channels[1 - agent], 1 - agent)]
            else:
                parts = [("", recording.mixed(), None)]  # channel None: every channel
            return "audio", (key, recording, mode, [(who, audio, self._speech(audio), channel)
                                                    for who, audio, channel in parts])
        except AudioError as exc:
            return "error", str(exc)

    def _speech(self, audio) -> list[dict]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(min_silence_duration_ms=self.config.vad_min_silence_ms,
                             speech_pad_ms=self.config.vad_speech_pad_ms, max_speech_duration_s=CHUNK_S)
        return get_speech_timestamps(audio, options)

    def _finish(self, path: str, prepared) -> Transcript:
        kind, value = prepared
        if kind == "cached":
            if self.config.redact_audio:
                write_silenced(load_recording(path), value, self.config.redact_audio)
            return value
        if kind == "error":
            return Transcript(source=path, asr_model=self.model_name, error=value)
        key, recording, mode, parts = value
        try:
            segments = self._recognise(parts, timestamps=mode == "split", words=bool(self.config.redact_audio))
            speech = [{"speaker": who, "start": round(r["start"] / SAMPLE_RATE, 3),
                       "end": round(r["end"] / SAMPLE_RATE, 3)} for who, _, regions, _ in parts for r in regions
                      ] if mode == "split" else []
            if mode == "split" and self.config.agent_channel == "auto":
                segments, swapped = _agent_greets_first(segments), segments
                if segments is not swapped:  # the right channel was the agent: so is its speech
                    speech = [{**r, "speaker": "Caller" if r["speaker"] == "Agent" else "Agent"} for r in speech]
        except RuntimeError as exc:  # a decoder failure on one file must not stop the batch
            return Transcript(source=path, asr_model=self.model_name, duration_s=recording.duration_s,
                              error=f"{path}: speech recognition failed ({str(exc).splitlines()[0]})")
        text = " ".join(s["text"] for s in segments)
        transcript = Transcript(
            source=recording.path, text=text, transcript=_speaker_turns(segments) if mode == "split" else text,
            duration_s=round(recording.duration_s, 2), asr_model=self.model_name, channels=mode, segments=segments,
            speech=speech)
        if self.redactor is not None:  # before the cache: it never holds what redaction removes
            transcript = self._redacted(transcript)
            if self.config.redact_audio:
                write_silenced(recording, transcript, self.config.redact_audio)
        self._cache_put(key, transcript)
        return transcript

    def _redacted(self, t: Transcript) -> Transcript:
        """The transcript with personal data replaced. Found in the whole text, then removed wherever it
        occurs: a turn or a segment alone is often too short for the name finder."""
        text, in_text = self.redactor.redact(t.text)
        removed = {t.text[s.start:s.end]: s.entity for s in in_text}

        def spans(piece: str) -> list[Span]:
            return self.redactor.find(piece) + [Span(m.start(), m.end(), kind) for stretch, kind in removed.items()
                                                for m in re.finditer(re.escape(stretch), piece)]

        turns = []  # turn by turn, so that the "Agent: " / "Caller: " tags are never taken for names
        for line in t.transcript.splitlines():
            tag, words = line.split(": ", 1) if line.startswith(("Agent: ", "Caller: ")) else ("", line)
            turns.append(f"{tag}: {replace_spans(words, spans(words))}" if tag else replace_spans(words, spans(words)))
        segments = []
        for segment in t.segments:
            found = spans(segment["text"])
            segments.append({**segment, "text": replace_spans(segment["text"], found),
                             **({"words": mark_words(segment["words"], found)} if "words" in segment else {})})
        return Transcript(**{**t.__dict__, "text": text, "transcript": "\n".join(turns), "segments": segments})

    def _recognise(self, parts: list, timestamps: bool, words: bool = False) -> list[dict]:
        """Whisper over the speech of every part (channel) at once; segments in time order with speakers.

        Each channel's speech regions are packed into <= 30 s chunks (faster-whisper's collect_chunks); the
        chunks of all channels are shared out among the workers, each of which hands its share to the batched
        pipeline as one list of clips; segment times are mapped back to each channel's own timeline
        (faster-whisper's SpeechTimestampsMap).
        """
        from faster_whisper.vad import SpeechTimestampsMap, collect_chunks

        chunks, owners = [], []  # owners: per chunk (speaker, timestamp map, chunk start in its part, channel)
        for speaker, audio, speech, channel in parts:
            if not speech:
                continue
            packed, metadata = collect_chunks(audio, speech, SAMPLE_RATE, max_duration=CHUNK_S)
            ts_map = SpeechTimestampsMap(speech, SAMPLE_RATE)
            chunks += packed
            owners += [(speaker, ts_map, meta["offset"], channel) for meta in metadata]
        if not chunks:
            return []  # no speech anywhere: an empty transcript, not an error
        self.load()
        workers = min(self.workers, len(chunks))
        shares = [range(len(chunks) * w // workers, len(chunks) * (w + 1) // workers) for w in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = pool.map(lambda share: self._recognise_share([chunks[i] for i in share], timestamps, words),
                             shares)
            segments = []
            for share, share_segments in zip(shares, found):
                for i, start, end, text, said in share_segments:
                    speaker, ts_map, offset, channel = owners[share[i]]
                    segment = {"speaker": speaker, **_original_times(ts_map, start + offset, end + offset), "text": text}
                    if words:  # word times, for silencing what redaction removed (redact_audio)
                        segment["channel"] = channel
                        segment["words"] = [{"word": w, **_original_times(ts_map, a + offset, b + offset)}
                                            for w, a, b in said]
                    segments.append(segment)
        segments.sort(key=lambda s: s["start"])
        return segments

    def _recognise_share(self, chunks: list, timestamps: bool, words: bool = False) -> list[tuple]:
        """One worker's chunks through faster-whisper's batched pipeline: (chunk index, start, end, text, words)
        with times relative to the chunk's start; words (word, start, end) only when asked for."""
        import numpy as np
        from faster_whisper import BatchedInferencePipeline

        cfg = self.config
        starts = [float(t) for t in np.cumsum([0] + [len(c) / SAMPLE_RATE for c in chunks])]
        clips = [{"start": starts[i], "end": starts[i + 1]} for i in range(len(chunks))]
        found, _ = BatchedInferencePipeline(self.load()).transcribe(
            np.concatenate(chunks), clip_timestamps=clips, without_timestamps=not (timestamps or words),
            word_timestamps=words, language=cfg.language, beam_size=cfg.beam_size, batch_size=cfg.batch_size)
        results = []
        for seg in found:
            if seg.text.strip():
                i = max(bisect.bisect_right(starts[:-1], (seg.start + seg.end) / 2) - 1, 0)
                said = [(w.word, w.start - starts[i], w.end - starts[i]) for w in (seg.words or [])]
                results.append((i, seg.start - starts[i], seg.end - starts[i], seg.text.strip(), said))
        return results

    # --- cache -------------------------------------------------------------------------------------------

    def _cache_key(self, path: str | Path) -> str | None:
        if not self.config.use_cache:
            return None
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            return None  # load_recording reports the problem
        model_bin = self.model_dir / "model.bin"
        model_id = [str(self.model_dir), model_bin.stat().st_size] if model_bin.is_file() else [str(self.model_dir)]
        digest.update(json.dumps([CACHE_VERSION, model_id, self.config.cache_settings()]).encode())
        return digest.hexdigest()

    def _cache_file(self, key: str) -> Path:
        return cache_dir() / "transcripts" / key[:2] / f"{key}.json"

    def _cache_get(self, key: str | None, path) -> Transcript | None:
        if key is None:
            return None
        try:
            data = json.loads(self._cache_file(key).read_text())
        except (OSError, ValueError):
            return None
        return Transcript(**{**data, "source": str(path), "cached": True})

    def _cache_put(self, key: str | None, transcript: Transcript) -> None:
        if key is None:
            return
        file = self._cache_file(key)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            partial = file.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps({k: v for k, v in transcript.to_dict().items() if k not in ("source", "cached")}))
            os.replace(partial, file)
        except OSError as exc:  # a read-only cache slows re-runs down but must not fail them
            log.warning("transcript cache not written (%s)", exc)


# What the person answering a business line says, and the caller does not: the greeting, an offer of help,
# a voicemail prompt. ASR drops small words ("how may help you"), hence the optional "i".
AGENT_PHRASES = re.compile(
    r"thank(s| you) for calling|how (can|may|could) (i |we )?(help|assist)|you('ve| have) reached"
    r"|leave (a|your) (message|name)|after the tone", re.IGNORECASE)


def _original_times(ts_map, start: float, end: float) -> dict:
    """Times in a packed chunk -> times in the recording. Whisper often starts a segment where the previous one
    ended, i.e. at the very end of the previous speech region: the region is taken from a point just inside."""
    region = ts_map.get_chunk_index(min(start + 0.5, (start + end) / 2))
    return {"start": ts_map.get_original_time(start, region), "end": ts_map.get_original_time(end, is_end=True)}


def _agent_greets_first(segments: list[dict]) -> list[dict]:
    """With `agent_channel="auto"`: swap the speaker tags when the side tagged Caller sounds more like the agent
    in its first 80 words (call systems differ in which channel carries the agent; ties keep left = agent)."""
    def score(speaker: str) -> int:
        words = " ".join(s["text"] for s in segments if s["speaker"] == speaker).split()[:80]
        return len(AGENT_PHRASES.findall(" ".join(words)))

    if score("Caller") <= score("Agent"):
        return segments
    swap = {"Agent": "Caller", "Caller": "Agent"}
    return [{**s, "speaker": swap[s["speaker"]]} for s in segments]


def _speaker_turns(segments: list[dict]) -> str:
    """'Agent: …' / 'Caller: …' lines, one per run of segments from the same side."""
    turns: list[list] = []
    for s in segments:
        if turns and turns[-1][0] == s["speaker"]:
            turns[-1][1].append(s["text"])
        else:
            turns.append([s["speaker"], [s["text"]]])
    return "\n".join(f"{speaker}: {' '.join(texts)}" for speaker, texts in turns)
