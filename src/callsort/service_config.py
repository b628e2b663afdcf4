"""The service's settings (`callsort serve`): how it runs, learns in place, takes calls that arrive by themselves,
and sends alerts. Declared like every setting (config.py's `setting`), validated here."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .config import ConfigError, Settings, setting


@dataclass
class LearningConfig(Settings):
    """Learning in place: `callsort serve --store S` without --model trains, checks and activates its own models
    from people's labels (and a labelled table, if given)."""

    labels: str | None = setting(None, "Without --model: the categories to learn, one a line (a text file).")
    train_data: str | None = setting(None, "Without --model: a labelled table to learn from besides people's labels "
                                           "(its categories, when --labels is not given).")
    text_column: str = setting("text", "With --train-data: the column holding each call's text.",
                               option=("--train-text-column",))
    label_column: str = setting("label", "With --train-data: the column holding each call's category.",
                                option=("--train-label-column",))
    retrain_after: int = setting(25, "Train a new model after this many new labels by people (0: only when asked, "
                                     "POST /v1/models/train or the page's Train now).")

    @property
    def wanted(self) -> bool:
        return bool(self.labels or self.train_data)

    def check(self) -> None:
        if self.retrain_after < 0:
            raise ConfigError("retrain_after must be 0 or more")
        for option, path in (("--labels", self.labels), ("--train-data", self.train_data)):
            if path and not Path(path).is_file():
                raise ConfigError(f"{path}: no such file ({option})")


MIN_KEY_LENGTH = 16  # characters of an API, reviewer or intake key


@dataclass
class IntakeConfig(Settings):
    """Calls that arrive by themselves: a watched folder the phone system syncs into, and pushes to POST /v1/calls."""

    watch: str | None = setting(None, "A folder the phone system writes recordings (and .txt transcripts, with an "
                                      "optional NAME.json of its facts) into: each new file is taken once, by "
                                      "content, when complete (needs --store).")
    after_intake: str = setting("keep", "What happens to a watched file once taken: keep, delete, or move:DIR.")
    settle_seconds: float = setting(5.0, "A watched file is complete when unchanged this long (sooner when the "
                                         "writer closes it).")
    intake_key: str | None = setting(None, "A key that may only push calls (POST /v1/calls), for the phone "
                                           "system; the API key may too.", envvar="CALLSORT_INTAKE_KEY")

    def check(self) -> None:
        if self.after_intake not in ("keep", "delete") and not self.after_intake.startswith("move:"):
            raise ConfigError(f"--after-intake {self.after_intake!r}: use keep, delete or move:DIR")
        if self.settle_seconds < 0:
            raise ConfigError("--settle-seconds must be 0 or more")
        if self.watch and not Path(self.watch).is_dir():
            raise ConfigError(f"{self.watch}: no such folder (--watch)")
        if self.intake_key is not None and len(self.intake_key) < MIN_KEY_LENGTH:
            raise ConfigError(f"--intake-key is {len(self.intake_key)} characters: use at least {MIN_KEY_LENGTH}")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class ServeConfig(Settings):
    """How `callsort serve` runs. It never starts without a key unless told to (--no-auth, loopback only)."""

    host: str = setting("127.0.0.1", "Interface to listen on (loopback unless told otherwise).")
    port: int = setting(8000, "TCP port.")
    api_key: str | None = setting(None, "Require this key on every route that shows call content (x-api-key, "
                                        "Authorization: Bearer, or the page's sign-in).", envvar="CALLSORT_API_KEY")
    no_auth: bool = setting(False, "Serve without a key: anyone who can reach the port sees every call. Loopback "
                                   "only.", option=("--no-auth",))
    max_upload_mb: float = setting(50.0, "Largest request body accepted (413 above).")
    max_texts: int = setting(10_000, "Most texts in one JSON request (413 above); a larger table is a batch.")
    max_text_chars: int = setting(100_000, "Longest text of a call in a JSON request, in characters (413 above).")
    reviewer_key: str | None = setting(None, "A second key that may review (see calls, recordings and "
                                             "transcripts, correct labels) but not start folder batches; needs "
                                             "--api-key.", envvar="CALLSORT_REVIEWER_KEY")
    review_below: float | None = setting(None, "Flag calls under this confidence for review instead of the "
                                               "model's own threshold (as predict --review-below).")
    store: str | None = setting(None, "Results store (SQLite file or SQLAlchemy URL): enables batches, the "
                                      "review queue and corrections.")
    uploads: str | None = setting(None, "Folder for uploaded batches (default: beside a SQLite store, "
                                        "STORE.uploads/).")
    keep_uploads_days: float = setting(30.0, "Delete what the service keeps of a call's files this many days after "
                                             "they were written: finished batches' uploads, cached transcripts, "
                                             "silenced copies (the rows stay); 0 keeps them forever.")
    session_hours: float = setting(12.0, "A signed-in page's session ends after this many hours without use.")
    session_max_hours: float = setting(24.0, "A signed-in page's session ends this many hours after sign-in, used "
                                             "or not (sign in again).")
    allowed_hosts: str | None = setting(None, "Host names the service answers to besides localhost and this "
                                              "machine's names, comma-separated (e.g. calls.example.com behind a "
                                              "proxy); other names are refused (DNS rebinding).")
    trust_forwarded: bool = setting(False, "Behind a TLS proxy: trust its X-Forwarded-For (the client's address) "
                                           "and X-Forwarded-Proto (https marks the session cookie Secure); "
                                           "ignored otherwise.", option=("--trust-forwarded",))
    trusted_proxies: str = setting("127.0.0.1,::1", "With --trust-forwarded: the proxy's addresses whose forwarded "
                                                "headers are believed, comma-separated.")
    agent_names: str | None = setting(None, "A table (columns heard, agent) mapping names as heard to agents; "
                                            "spellings that differ only as speech recognition hears them are "
                                            "merged anyway.")

    def _check_keys(self) -> None:
        """Keys long enough that guessing is hopeless, and two different ones."""
        if self.reviewer_key is not None and not self.reviewer_key.strip():
            self.reviewer_key = None  # `--reviewer-key "$KEY"` with KEY unset
        for option, key in (("--api-key", self.api_key), ("--reviewer-key", self.reviewer_key)):
            if key is not None and len(key) < MIN_KEY_LENGTH:
                raise ConfigError(f"{option} is {len(key)} characters: use at least {MIN_KEY_LENGTH} (e.g. python -c "
                                  "'import secrets; print(secrets.token_urlsafe(24))')")
        if self.reviewer_key and self.reviewer_key == self.api_key:
            raise ConfigError("--reviewer-key must differ from --api-key (it grants less)")

    def check(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be 1..65535, got {self.port}")
        if min(self.max_upload_mb, self.session_hours, self.session_max_hours, self.max_texts,
               self.max_text_chars) <= 0 or self.keep_uploads_days < 0:
            raise ConfigError("max_upload_mb, max_texts, max_text_chars, session_hours and session_max_hours must be "
                              "positive, "
                              "keep_uploads_days 0 or more")
        if self.api_key is not None and not self.api_key.strip():
            self.api_key = None  # `--api-key "$KEY"` with KEY unset
        if not self.api_key and not self.no_auth:
            raise ConfigError("no API key: pass --api-key KEY (or set CALLSORT_API_KEY); to serve without one on "
                              "this machine only, pass --no-auth")
        if self.no_auth and self.host not in LOOPBACK:
            raise ConfigError(f"--no-auth serves every call to anyone who can reach it: loopback only, not {self.host}")
        if self.reviewer_key and not self.api_key:
            raise ConfigError("--reviewer-key needs --api-key (the reviewer key grants less than the API key)")
        self._check_keys()
        if self.store and "://" not in self.store:
            self.store = str(Path(self.store).expanduser().resolve())  # a restart elsewhere finds the same files
        if self.store and not self.uploads:
            if "://" in self.store:
                raise ConfigError("--uploads FOLDER is needed with a database URL as --store")
            self.uploads = f"{self.store}.uploads"
        if self.uploads:
            self.uploads = str(Path(self.uploads).expanduser().resolve())
        for name, path in (("--agent-names", self.agent_names),):
            if path and not Path(path).is_file():
                raise ConfigError(f"{path}: no such file ({name})")


@dataclass
class NotifyConfig(Settings):
    """Alerts (`callsort serve --store`): a call that lands on the ring-back list is sent to a webhook and/or by
    e-mail, once, retried while the receiver fails (service/alerts.py, docs/service.md "Alerts")."""

    notify_url: str | None = setting(None, "POST each ring-back alert as JSON to this URL (signed with "
                                           "--notify-secret; the operator's URL is trusted, loopback included).")
    notify_secret: str | None = setting(None, "With --notify-url: the shared secret of the X-Callsort-Signature "
                                              "header (HMAC-SHA256 of the body).", envvar="CALLSORT_NOTIFY_SECRET")
    smtp_host: str | None = setting(None, "E-mail each ring-back alert through this SMTP server (with "
                                          "--notify-email).")
    smtp_port: int = setting(587, "With --smtp-host: its port (465: TLS from the start).")
    smtp_user: str | None = setting(None, "With --smtp-host: sign in as this user; the password is read from "
                                          "CALLSORT_SMTP_PASSWORD only (never an option).")
    smtp_tls: str = setting("auto", "With --smtp-host: STARTTLS when the server offers it (auto), always (required: "
                                    "no mail otherwise), or never (off).", ("auto", "required", "off"))
    notify_email: str | None = setting(None, "With --smtp-host: who gets the alerts, comma-separated addresses.")
    notify_from: str | None = setting(None, "With --smtp-host: the alerts' sender address (default callsort@ this "
                                            "machine's name).")
    public_url: str | None = setting(None, "The page's address as the alert's readers reach it, for the link to the "
                                           "call (default http://HOST:PORT of the service).")
    smtp_password: str | None = setting(None, "Read from CALLSORT_SMTP_PASSWORD.", cli=False)

    @property
    def wanted(self) -> bool:
        return bool(self.notify_url or self.smtp_host)

    def recipients(self) -> list[str]:
        return [a.strip() for a in (self.notify_email or "").split(",") if a.strip()]

    def check(self) -> None:
        import os
        import socket

        for option, url in (("--notify-url", self.notify_url), ("--public-url", self.public_url)):
            if url is not None and not url.startswith(("http://", "https://")):
                raise ConfigError(f"{option} must be an http:// or https:// address, got {url!r}")
        if self.notify_url and (not self.notify_secret or len(self.notify_secret) < MIN_KEY_LENGTH):
            raise ConfigError(f"--notify-url needs --notify-secret (or CALLSORT_NOTIFY_SECRET) of at least "
                              f"{MIN_KEY_LENGTH} characters, so the receiver can tell callsort's alerts from forgeries")
        if bool(self.smtp_host) != bool(self.recipients()):
            raise ConfigError("e-mail alerts need both --smtp-host and --notify-email")
        if any("@" not in address for address in self.recipients()):
            raise ConfigError(f"--notify-email: not an e-mail address in {self.notify_email!r}")
        if not 0 < self.smtp_port < 65536:
            raise ConfigError(f"smtp_port must be 1..65535, got {self.smtp_port}")
        self.smtp_password = self.smtp_password or os.environ.get("CALLSORT_SMTP_PASSWORD") or None
        if self.smtp_user and not self.smtp_password:
            raise ConfigError("--smtp-user needs its password in the environment variable CALLSORT_SMTP_PASSWORD")
        if self.smtp_user and self.smtp_tls == "off":
            raise ConfigError("--smtp-user with --smtp-tls off would send the password in clear")
        if self.smtp_host and not self.notify_from:
            self.notify_from = f"callsort@{socket.gethostname()}"
        self.public_url = self.public_url.rstrip("/") if self.public_url else None

    def to_dict(self) -> dict:
        return {**asdict(self), "notify_secret": None, "smtp_password": None}  # secrets are never shown
