"""The `callsort` command: a thin layer that parses options, calls the Python API and formats results.

Options that belong to a stage come from its settings dataclass (config.py) through `settings_options`
(options.py), so each is declared once, with its help, for every command that takes it. The commands live in
training.py, classifying.py and managing.py; importing them registers them on the app.
"""

from __future__ import annotations

import os
import sys

import typer

from ..errors import CallsortError

# importing the command modules registers their commands, in this order in --help
from . import (
    classifying,  # noqa: F401
    managing,  # noqa: F401
    searching,  # noqa: F401
    topics,  # noqa: F401
    training,  # noqa: F401, I001
)
from .app import app


def main() -> None:
    """Entry point: run the app, turning CallsortError into one line and its exit code."""
    try:
        app(standalone_mode=True)
    except CallsortError as exc:
        if os.environ.get("CALLSORT_DEBUG"):
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
