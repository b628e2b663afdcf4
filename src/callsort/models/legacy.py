"""Model folders saved before callsort had sub-packages keep loading.

Pickled parts of a model (calibration.joblib, tfidf.joblib, reasons.joblib) name the module of each class
they hold, e.g. `callsort.calibrate`; since 2026-11-30 those modules live in `callsort.models`. While such a
file is read, the old names point at the new modules.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

MOVED = {f"callsort.{name}": f"callsort.models.{name}"
         for name in ("calibrate", "classifier", "textfeatures", "reasons", "tfidf", "encoder", "blend", "windows")}


def load_pickle(path: str | Path):
    """joblib.load, with the module names of older callsort versions resolved to where the code is now."""
    import joblib

    added = [old for old in MOVED if old not in sys.modules]
    for old in added:
        sys.modules[old] = importlib.import_module(MOVED[old])
    try:
        return joblib.load(path)
    finally:
        for old in added:
            sys.modules.pop(old, None)
