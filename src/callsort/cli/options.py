"""How the CLI builds its options: one typer option per field of a settings dataclass (config.py), declared
once with its help, and the Output settings every command shares."""

from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import dataclass, fields
from typing import Annotated, Optional

import typer

from ..config import Settings, setting


@dataclass
class Output(Settings):
    """How a command reports: progress and log lines for people, or one JSON summary for scripts."""

    quiet: bool = setting(False, "No progress bars or log messages.", option=("--quiet", "-q"))
    json: bool = setting(False, "Print a JSON summary on stdout (implies --quiet).", option=("--json",))

    @property
    def progress(self) -> bool:
        return not (self.quiet or self.json)


def settings_options(**groups: type[Settings]):
    """Decorator: replace each parameter named in `groups` (e.g. asr=AsrConfig) by one CLI option per field
    of that dataclass, and hand the command the dataclass built from them (validated by its __post_init__)."""
    def decorate(command):
        base = inspect.signature(command, eval_str=True)
        kept = [p for p in base.parameters.values() if p.name not in groups]
        added, owner = [], {}
        for group, cls in groups.items():
            hints = typing.get_type_hints(cls)
            for f in fields(cls):
                if not f.metadata.get("cli", True):
                    continue
                name = f"{group}__{f.name}"
                owner[name] = (group, f.name)
                added.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                               annotation=_option_type(f, hints[f.name])))

        @functools.wraps(command)
        def run(**kwargs):
            values: dict[str, dict] = {group: {} for group in groups}
            for name, (group, field_name) in owner.items():
                values[group][field_name] = kwargs.pop(name)
            return command(**kwargs, **{group: groups[group](**values[group]) for group in groups})

        run.__signature__ = base.replace(parameters=kept + added)
        run.__annotations__ = {p.name: p.annotation for p in kept + added}
        del run.__wrapped__  # typer must read the new signature, not the command's
        return run
    return decorate


def _option_type(f, hint):
    """Annotated[type, typer.Option(...)] for one settings field."""
    meta = f.metadata
    args = typing.get_args(hint)
    if type(None) in args:  # `str | None`
        hint = Optional[next(a for a in args if a is not type(None))]  # noqa: UP045 - built at run time for typer
    names = meta.get("option") or ((f"--{f.name.replace('_', '-')}/--no-{f.name.replace('_', '-')}",)
                                    if hint is bool else (f"--{f.name.replace('_', '-')}",))
    if meta.get("choices"):
        hint = typing.Literal[tuple(meta["choices"])]  # typer shows and checks them as choices
    extra = {"envvar": meta["envvar"]} if meta.get("envvar") else {}
    return Annotated[hint, typer.Option(*names, help=meta["help"], show_default=True, **extra)]
