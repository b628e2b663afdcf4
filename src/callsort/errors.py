"""The one exception family that callsort raises for anything a user can cause."""

from __future__ import annotations


class CallsortError(Exception):
    """Base class: the CLI prints the message on one line and exits with `exit_code`."""

    exit_code = 2
    http_status = 422  # what the service answers


class InputError(CallsortError):
    """A data file is missing, unreadable, or does not hold what was asked for."""


class ModelError(CallsortError):
    """A model folder is missing, incomplete, or not a callsort model."""


class ConfigError(CallsortError):
    """Settings that cannot work together (bad value, impossible split)."""


class AudioError(InputError):
    """A recording that cannot be decoded or holds nothing to transcribe; in a batch it fails only its own row."""


class NoModelYet(CallsortError):
    """A learning service has no active model yet: calls are kept for labelling, not classified (HTTP 409)."""

    http_status = 409
