"""The Typer app every command registers on, the options shared by several commands, and the output helpers."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import Output

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Sort call-centre recordings and transcripts into business categories, offline.")

EXIT_PARTIAL = 3  # some calls failed: their rows say why


# options of reading calls, shared by train, evaluate and predict
TextColumn = Annotated[str, typer.Option(help="Column holding the transcript (case-insensitive).")]
LabelColumn = Annotated[str, typer.Option(help="Column holding the category (case-insensitive).")]
Encoding = Annotated[str, typer.Option(help="Text encoding of the input files.")]
ReasonColumn = Annotated[str | None, typer.Option(
    help="Column holding why a lead was not booked (e.g. Reason): trains / scores the lost-lead reason model.")]
AudioColumn = Annotated[str | None, typer.Option(
    help="Column of a table naming recordings (relative to the table) to transcribe instead of reading text.")]
ModelDir = Annotated[Path, typer.Option("--model", "-m", help="A model folder written by `callsort train`.")]
MetaTable = Annotated[Path | None, typer.Option(
    "--meta", help="Table of per-recording facts (a file column, then e.g. datetime, agent, source, caller) "
                   "joined onto the rows by file name.")]
MetaPattern = Annotated[str | None, typer.Option(
    help='Parse facts from file names, e.g. "{date}_{time}_{agent}.mp3".')]
CustomersTable = Annotated[Path | None, typer.Option(
    "--customers", help="The customer list (CSV/TSV/JSONL/Parquet; columns name, phone, address, email): a lead "
                        "whose caller matches a customer is an Existing customer's (read in memory only).")]
TopicsFile = Annotated[Path | None, typer.Option(
    "--topics", help="Topics a manager names (a YAML file: topic -> phrases, optionally the speaker side); each "
                     "row carries the topics its transcript mentions. `callsort topics --starter FILE` writes a "
                     "starter file to edit.")]
CustomersComplete = Annotated[bool, typer.Option(
    "--customers-complete", help="The list holds every customer: a caller who gives a name or number that "
                                 "matches no one is a New customer.")]


def setup(output: Output) -> bool:
    """Configure logging; return whether progress bars should show."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # weight loading: callsort shows its own bars per stage
    logging.basicConfig(level=logging.INFO if output.progress else logging.ERROR, format="%(message)s",
                        stream=sys.stderr)
    for noisy in ("transformers", "accelerate", "huggingface_hub", "matplotlib", "faster_whisper", "httpx",
                  "presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return output.progress


def emit(summary: dict, output: Output, lines: list[str]) -> None:
    if output.json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        for line in lines:
            typer.echo(line)


