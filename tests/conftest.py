"""Shared fixtures: the shipped sample calls, tiny training settings, and models trained once per session."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
if "CALLSORT_CACHE_DIR" not in os.environ:  # keep the user's transcript cache out of the tests (and vice versa)
    import tempfile

    os.environ["CALLSORT_CACHE_DIR"] = tempfile.mkdtemp(prefix="callsort-test-cache-")

from callsort import TrainConfig, read_calls, train  # noqa: E402
from callsort.demo import sample_path  # noqa: E402
from callsort.speech.audio import write_wav  # noqa: F401 - tests import it from here

LOCAL = "http://localhost"  # TestClient's base URL: a host name the service answers to
SHARED_CALLS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "calls"


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    return sample_path("sample_calls.csv")


@pytest.fixture(scope="session")
def sample_test_csv() -> Path:
    return sample_path("sample_test.csv")


@pytest.fixture(scope="session")
def sample_table(sample_csv):
    return read_calls(sample_csv)


@pytest.fixture(scope="session")
def tiny_config() -> TrainConfig:
    """The real MiniLM with settings that train in seconds: short windows, two epochs."""
    return TrainConfig(model="blend", max_length=48, stride=8, epochs=2, batch_size=16, learning_rate=3e-4, threads=2)


@pytest.fixture(scope="session")
def transformer_dir(tmp_path_factory, sample_table, tiny_config) -> Path:
    """A fine-tuned (tiny settings) default model folder, trained once for the whole session."""
    folder = tmp_path_factory.mktemp("models") / "transformer"
    train(sample_table, tiny_config, progress=False).model.save(folder)
    return folder


@pytest.fixture(scope="session")
def tfidf_dir(tmp_path_factory, sample_table) -> Path:
    folder = tmp_path_factory.mktemp("models") / "tfidf"
    train(sample_table, TrainConfig(model="tfidf"), progress=False).model.save(folder)
    return folder


@pytest.fixture(scope="session")
def booked_call() -> Path:
    """A shipped synthesised stereo call: agent left, caller right (scripts/make_sample_audio.py)."""
    return sample_path("sample_call_booked.mp3")


@pytest.fixture(scope="session")
def voicemail_call() -> Path:
    return sample_path("sample_call_voicemail.mp3")


def tone(seconds: float, freq: float = 440.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.3 * np.sin(2 * np.pi * freq * t)


@pytest.fixture(scope="session")
def bad_audio(tmp_path_factory) -> dict[str, Path]:
    """One file for each way a recording can be unusable, keyed by the problem its error must name."""
    folder = tmp_path_factory.mktemp("bad_audio")
    empty = folder / "empty.mp3"
    empty.write_bytes(b"")
    not_audio = folder / "notes.mp3"
    not_audio.write_text("this is a text file, not a recording\n" * 20)
    header_only = folder / "header_only.wav"
    with wave.open(str(header_only), "wb") as w:  # the standard library writes a plain 44-byte header
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
    truncated = folder / "truncated.wav"
    with wave.open(str(truncated), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((tone(10.0) * 32767).astype("<i2").tobytes())
    truncated.write_bytes(truncated.read_bytes()[: 44 + 16000 * 2 * 2])  # 2 of the 10 seconds it declares
    too_short = write_wav(folder / "click.wav", tone(0.1))
    return {"empty file": empty, "not a readable audio file": not_audio, "no audio samples": header_only,
            "truncated": truncated, "too short to hold speech": too_short}


@pytest.fixture(scope="session")
def silent_wav(tmp_path_factory) -> Path:
    return write_wav(tmp_path_factory.mktemp("silence") / "silence.wav", np.zeros(3 * 16000))


@pytest.fixture(scope="session")
def shared_calls() -> Path:
    """The real labelled calls in ../shared; tests using them skip when it is absent."""
    if not (SHARED_CALLS / "transcripts.csv").is_file():
        pytest.skip("real call data not present in ../shared/data/calls")
    return SHARED_CALLS


@pytest.fixture(scope="session")
def shared_audio(shared_calls) -> Path:
    folder = shared_calls / "audio"
    if not (folder / "labels.csv").is_file():
        pytest.skip("real recordings not present in ../shared/data/calls/audio")
    return folder


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server started for the session (Debian's postgresql package), on a Unix socket."""
    import glob
    import shutil
    import tempfile

    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not initdb[-1]:
        pytest.skip("no PostgreSQL server installed (apt-get install postgresql)")
    bin_dir = Path(initdb[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="callsort-pg-"))  # not under pytest's root-only tmp: postgres must enter
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own system user
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", 55432 + os.getpid() % 1000
    try:
        subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
                        f"-p {port} -k {folder} -c listen_addresses=''", "start"],
                       check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        pytest.skip(f"could not start a PostgreSQL server: {exc}")
    yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as conn:  # each test starts from an empty store
        conn.execute(text("drop schema public cascade"))
        conn.execute(text("create schema public"))
    return url


def run_cli(*args: str, check_code: int | None = 0) -> subprocess.CompletedProcess:
    """Run the installed `callsort` command as a user would."""
    exe = Path(sys.executable).parent / "callsort"
    proc = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=900)
    if check_code is not None:
        assert proc.returncode == check_code, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*args: str, port: int | None = None, env: dict | None = None):
    """`callsort serve ARGS` as a real process on loopback; returns (process, base URL) once /healthz answers.
    Its output goes to a file, not a pipe nobody reads (a busy server would fill the pipe and stall)."""
    import os
    import subprocess
    import sys
    import tempfile
    import time

    import httpx

    port = port or free_port()
    exe = Path(sys.executable).parent / "callsort"
    log = tempfile.NamedTemporaryFile(prefix="callsort-serve-", suffix=".log", delete=False)
    proc = subprocess.Popen([str(exe), "serve", *args, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env=env or {**os.environ})
    proc.log_path = Path(log.name)  # what the server printed (its access log included)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"server did not start: {Path(log.name).read_text()[-2000:]}")


def wait_for(page, expression: str, timeout: float = 30_000) -> None:
    """Playwright's page.wait_for_function, for pages under the service's CSP: Playwright runs that predicate
    through eval, which the policy forbids ('unsafe-eval'); page.evaluate is not eval in the page."""
    import time

    deadline = time.time() + timeout / 1000
    while not page.evaluate(expression):
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout / 1000:g} s waiting for {expression}")
        time.sleep(0.1)


def finished_batch(client, batch_id: str, headers: dict | None = None, seconds: float = 30) -> dict:
    """A service batch's answer once it is finished (or the last one after `seconds`), polled every 0.25 s."""
    import time

    deadline = time.time() + seconds
    while True:
        body = client.get(f"/v1/batches/{batch_id}", headers=headers or {}).json()
        if body["finished"] or time.time() > deadline:
            return body
        time.sleep(0.25)


def signed_in_page(playwright, url: str, key: str):
    """Chromium (Debian's, headless) on the service's page, signed in with `key`: (browser, page, console errors)."""
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.fill("#key", key)
    page.click("#signin-go")
    page.wait_for_selector("#signout:not([hidden])")
    return browser, page, errors
