"""Shared fixtures: the shipped sample calls, tiny training settings, and models trained once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from callsort import TrainConfig, read_calls, train  # noqa: E402
from callsort.demo import sample_path  # noqa: E402

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
    return TrainConfig(max_length=48, stride=8, epochs=2, batch_size=16, learning_rate=3e-4, threads=2)


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
def shared_calls() -> Path:
    """The real labelled calls in ../shared; tests using them skip when it is absent."""
    if not (SHARED_CALLS / "transcripts.csv").is_file():
        pytest.skip("real call data not present in ../shared/data/calls")
    return SHARED_CALLS


def run_cli(*args: str, check_code: int | None = 0) -> subprocess.CompletedProcess:
    """Run the installed `callsort` command as a user would."""
    exe = Path(sys.executable).parent / "callsort"
    proc = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=900)
    if check_code is not None:
        assert proc.returncode == check_code, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc
