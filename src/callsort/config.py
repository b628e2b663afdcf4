"""Typed settings for every stage, with help text and working defaults, validated here and only here.

Each field's `help` (and `choices`, where the value is one of a few words) is what `callsort --help` shows:
the CLI builds its options from these dataclasses (cli/options.py: settings_options), so a setting is declared once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .errors import ConfigError


def setting(default, help: str, choices: tuple | None = None, cli: bool = True,  # noqa: A002 - as argparse
            option: tuple[str, ...] = (), envvar: str | None = None):
    """A dataclass field with the help text (and allowed values) the CLI and the docs show. `cli=False` keeps
    a speed knob out of the command line; `option` overrides the option's name(s)."""
    return field(default=default, metadata={"help": help, "choices": choices, "cli": cli, "option": option,
                                            "envvar": envvar})


class Settings:
    """Base of the settings dataclasses: checks `choices` of every field, then the class's own rules."""

    def __post_init__(self) -> None:
        for f in fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(f"unknown {f.name.replace('_', '-')} {value!r}: use {', '.join(map(str, choices))}")
        self.check()

    def check(self) -> None:
        """Rules between fields (override)."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainConfig(Settings):
    """How a classifier is trained. Every field has a working default; benchmarks/README.md has the measurements."""

    model: str = setting("tfidf", "Kind of classifier: tfidf (the default: as accurate as the blend on real calls, "
                                  "70x less CPU), blend (fine-tuned encoder + tf-idf), encoder, or a kind registered "
                                  "in models/classifier.KINDS (checked by models/train.train).")
    base: str = setting("minilm", "Base encoder: 'minilm' or a local Hugging Face model folder.")
    view: str = setting("windows", "How the encoder reads a call: 'windows' (overlapping windows over the whole "
                                   "call, logits averaged) or 'head_tail' (its first and last tokens).",
                        ("windows", "head_tail"))
    max_length: int = setting(128, "Tokens per window.")
    stride: int = setting(32, "Tokens shared by consecutive windows.")
    epochs: float = setting(8, "Maximum training epochs (early stopping may end sooner).")
    learning_rate: float = setting(1.5e-4, "Peak AdamW learning rate after linear warm-up.")
    train_windows: str = setting("one", "Windows of a call per epoch: 'one' (random) or 'all' (loss on their mean).",
                                 ("one", "all"))
    batch_size: int = setting(8, "Calls per optimisation step.")
    bf16: bool = setting(False, "bfloat16 autocast while fine-tuning (fast on CPUs with AVX512-BF16/AMX).")
    warmup_ratio: float = setting(0.1, "Share of the steps spent warming the learning rate up from 0.")
    weight_decay: float = setting(0.01, "AdamW decoupled weight decay.")
    class_weight: str = setting("balanced", "Cross-entropy weights inverse to class frequency, or none.",
                                ("balanced", "none"))
    stop_on: str = setting("macro_f1", "Early stopping on the validation calls' macro_f1 or loss, or none (train "
                                       "every epoch).", ("macro_f1", "loss", "none"))
    patience: int = setting(3, "Evaluations without improvement before stopping.")
    val_fraction: float = setting(0.12, "Share of the training calls held out for early stopping without --val.")
    tfidf_min_char: int = setting(3, "Shortest character n-gram of the tf-idf features (2 to 5; 3 was chosen by "
                                     "CV, benchmarks/results/accuracy.md).")
    tfidf_weight: float = setting(0.7, "Weight of the tf-idf model's probabilities in the blend, 0..1.")
    calibration: str = setting("temperature", "Calibrate probabilities on calls the model did not learn from: temperature "
                               "scaling, isotonic, or none.", ("temperature", "isotonic", "none"))
    calibration_folds: int | None = setting(None, "Calibrate, set the review threshold and fit the report's "
                                        "quantifier on out-of-fold probabilities of this many extra fits over every "
                                        "labelled call; 0 = on validation calls. Default: 5 for kinds that fit in "
                                        "seconds (tfidf; the final model then learns from every call), 0 for the "
                                        "encoder kinds. Fewer folds when the smallest category is too small.")
    reason_min_calls: int = setting(5, "With a reason column: reasons with fewer calls are folded into 'Other'.")
    auto_accuracy: float = setting(0.9, "needs_review is set below the confidence at which the validation calls "
                                        "let through are right this often.")
    seed: int = setting(42, "Seeds splits, initialisation and data order.")
    threads: int = setting(0, "Torch CPU threads; 0 = all cores.")

    def check(self) -> None:
        if self.model == "transformer":  # the name before kinds had their own modules
            self.model = "blend"
        if self.calibration_folds is not None and (self.calibration_folds == 1 or self.calibration_folds < 0):
            raise ConfigError(f"calibration_folds must be 0 or at least 2, got {self.calibration_folds}")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be between 0 and 1, got {self.val_fraction}")
        if not 2 <= self.tfidf_min_char <= 5:
            raise ConfigError(f"tfidf_min_char must be 2 to 5, got {self.tfidf_min_char}")
        if not 0 <= self.tfidf_weight <= 1:
            raise ConfigError(f"tfidf_weight must be between 0 and 1, got {self.tfidf_weight}")
        if not 0 < self.auto_accuracy <= 1:
            raise ConfigError(f"auto_accuracy must be in (0, 1], got {self.auto_accuracy}")
        if self.max_length < 16:
            raise ConfigError(f"max_length must be at least 16 tokens, got {self.max_length}")
        if self.stride >= self.max_length - 2:
            raise ConfigError(f"stride ({self.stride}) must be smaller than max_length ({self.max_length})")
        if self.epochs <= 0 or self.batch_size < 1 or self.patience < 1:
            raise ConfigError("epochs must be positive, batch_size and patience at least 1")


@dataclass
class EvidenceConfig(Settings):
    """What is known of a call besides its words (evidence/): the phone system's facts and the customer list.
    One settings object for predict, evaluate, serve and the Ray workers."""

    meta: str | None = setting(None, "The phone system's table of calls (a file column, then e.g. datetime, agent, "
                                     "source, caller, answered/disposition), joined by file name.")
    meta_pattern: str | None = setting(None, "Or the same facts parsed from file names, e.g. "
                                             "\"{date}_{time}_{agent}.mp3\".")
    customers: str | None = setting(None, "The customer list (columns name, phone, address, email): a lead whose "
                                          "caller matches a customer is an Existing customer's (memory only).")
    customers_complete: bool = setting(False, "The customer list holds every customer: a caller who gives a name "
                                              "or number that matches no one is New.",
                                       option=("--customers-complete",))
    topics: str | None = setting(None, "Topics a manager names (a YAML file: topic -> phrases, optionally the "
                                       "speaker side); each row carries the topics its transcript mentions. "
                                       "A starter file ships with callsort: `callsort topics --starter`.")

    def check(self) -> None:
        for name, path in (("--meta", self.meta), ("--customers", self.customers), ("--topics", self.topics)):
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"{path}: no such file ({name})")
        self.meta, self.customers, self.topics = (str(p) if p is not None else None
                                                  for p in (self.meta, self.customers, self.topics))


@dataclass
class AsrConfig(Settings):
    """How recordings are transcribed. The defaults are the fastest settings measured without loss (benchmarks/README.md)."""

    model: str = setting("tiny.en", "Speech model: tiny.en, base, or a local CTranslate2 Whisper folder.",
                         option=("--asr-model",))
    channels: str = setting("auto", "Stereo calls: 'split' transcribes each channel (agent/caller) alone, 'mix' "
                                    "averages them, 'auto' splits when the channels differ.", ("auto", "mix", "split"))
    agent_channel: str = setting("auto", "With split channels, which side is the agent: left, right, or auto (the "
                                         "side that greets the caller).", ("auto", "left", "right"))
    language: str | None = setting("en", "Spoken language code; 'auto' lets a multilingual model detect it.")
    beam_size: int = setting(1, "Beam width; 1 is greedy decoding (beam 5 costs ~2x for no gain on calls).")
    batch_size: int = setting(4, "30-s chunks each Whisper worker decodes together.", cli=False)
    workers: int = setting(0, "Whisper workers on a file's chunks; 0 = one per core, at most 4.", cli=False)
    vad_min_silence_ms: int = setting(300, "Silence that ends a speech region.", cli=False)
    vad_speech_pad_ms: int = setting(200, "Audio kept either side of a speech region.", cli=False)
    threads: int = setting(0, "CPU cores shared by the Whisper workers; 0 = all this process may use.", cli=False)
    use_cache: bool = setting(True, "Reuse and write the transcript cache.", option=("--cache/--no-cache",))
    max_audio_minutes: float = setting(120.0, "Longest recording transcribed, in minutes: a longer one is a failed "
                                              "row (checked before and while decoding, never retried); 0: no limit.")
    redact: bool = setting(False, "Replace personal data in transcripts by its type ([NAME], [PHONE], …) before "
                                  "anything is classified, written, cached or returned.", option=("--redact",))
    redact_entities: str = setting("NAME,PHONE,ADDRESS,EMAIL,CARD,DATE_OF_BIRTH",
                                   "With --redact: which kinds of personal data, comma-separated.")
    redact_agent_names: bool = setting(False, "With --redact: also the agent's own name in the greeting.",
                                       option=("--redact-agent-names",))
    redact_audio: str | None = setting(None, "With --redact: write a copy of each recording into this folder with "
                                             "every redacted stretch silenced (asks Whisper for word times).")
    keep: str | None = setting(None, "With --redact: words and phrases never redacted (the company's name as speech "
                                     "recognition spells it, its website, towns): comma-separated, or a text file "
                                     "with one per line. Added to the list a model learned from its training calls.")

    def check(self) -> None:
        if self.language == "auto":
            self.language = None
        if self.beam_size < 1 or self.batch_size < 1:
            raise ConfigError("beam_size and batch_size must be at least 1")
        if self.max_audio_minutes < 0:
            raise ConfigError(f"max_audio_minutes must be 0 (no limit) or more, got {self.max_audio_minutes}")
        if self.workers < 0 or self.threads < 0:
            raise ConfigError("workers and threads must be 0 (automatic) or more")
        if (self.redact_audio or self.keep) and not self.redact:
            raise ConfigError(f"{'--redact-audio' if self.redact_audio else '--keep'} needs --redact")
        from .privacy.redact import ENTITIES  # a plain tuple: no Presidio import here

        unknown = set(self.entity_list()) - set(ENTITIES)
        if unknown:
            raise ConfigError(f"unknown --redact-entities {', '.join(sorted(unknown))}; known: {', '.join(ENTITIES)}")

    def keep_phrases(self) -> list[str]:
        """The --keep phrases: read from the file it names, else split on commas."""
        if not self.keep:
            return []
        path = Path(self.keep).expanduser()
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else self.keep.split(",")
        return [line.strip() for line in lines if line.strip()]

    def entity_list(self) -> list[str]:
        return [e.strip().upper() for e in self.redact_entities.split(",") if e.strip()]

    def cache_settings(self) -> dict:
        """The settings that change a transcript (not speed knobs), part of the cache key."""
        skip = {"batch_size", "workers", "threads", "use_cache", "model", "redact_audio", "max_audio_minutes"}
        if not self.redact:
            skip |= {"redact_entities", "redact_agent_names", "keep"}
        settings = {k: v for k, v in asdict(self).items() if k not in skip}
        if self.redact and self.keep:
            settings["keep"] = self.keep_phrases()  # what the phrases are, not where they were read from
        return {**settings, "word_times": True} if self.redact_audio else settings  # cached words, marked


@dataclass
class JobConfig(Settings):
    """How a stored (resumable) batch runs."""

    claim_size: int = setting(16, "With --store: calls a worker claims, transcribes and classifies at a time.")
    max_attempts: int = setting(3, "With --store: tries per call before it stays failed.")
    poll_seconds: float = setting(2.0, "When other workers hold the last calls: how often to look again.", cli=False)
    engine: str = setting("local", "With --store: 'local' (this process) or 'ray' (Ray workers).", ("local", "ray"))
    ray_address: str | None = setting(None, "With --engine ray: 'auto' or ray://host:10001 for a running cluster; "
                                            "default starts a local Ray.")
    workers: int = setting(0, "With --engine ray: worker count (0 = the cluster's CPUs / threads per worker).")
    threads_per_worker: int = setting(1, "With --engine ray: CPU threads of each worker.", cli=False)

    def check(self) -> None:
        if self.claim_size < 1 or self.max_attempts < 1 or self.workers < 0 or self.threads_per_worker < 1:
            raise ConfigError("claim_size, max_attempts and threads_per_worker must be at least 1, workers 0 or more")

