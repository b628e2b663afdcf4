"""Learning in place, replayed on the real calls (issue 33).

1. The replay: the tuning part arrives in weekly batches of 100 calls; a simulated person labels K (20 or 40)
   a week, in the review queue's order or at random (truth from the tags); the service's training policy runs
   as shipped (models/candidates.py: a candidate after every 25 new labels, checked out of fold against the
   active model's data refitted on the same folds, the activation rule; models/label_order.py: the queue's order). Per week: macro-F1 of the active model on the
   fixed test part (test_part.json, never seen by any choice) and the booking-rate error of that week's report
   (the active model's rows, people's labels counted at their label). From zero labels and from the shipped
   sample as --train-data; the mean of 3 seeds.
2. A retraining on 1,000 calls through a real `callsort serve`: the real calls recombined to 1,000, half as
   --train-data, half stored as a batch and labelled through the API (250, a first version; then 250 more):
   the second version's seconds with its check against the first (refitting the first's data on the same
   folds), and the p50/p95 latency of /v1/classify while it trains, side by side with idle.

    .venv/bin/python benchmarks/learning_in_place.py [--seeds 3] [--weeks 5] [--jobs 2] [--skip-replay] [--skip-serve]

Writes results/learning_in_place.{json,md}. Each finished replay is kept in results/learning_in_place.runs.*.json
until all are done: a run stopped midway goes on from them when started again (delete the file to start afresh).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import split  # noqa: E402
from common import CALLSORT, CORES, RESULTS, real_calls, write_results  # noqa: E402

from callsort.data import CallTable  # noqa: E402

KEY = "benchmark-key-0123456789"
PER_WEEK, RETRAIN_AFTER = 100, 25


# --- 2. a retraining through the real service --------------------------------------------------------------

def thousand_calls(table: CallTable) -> list[tuple[str, str]]:
    """The real calls recombined to 1,000 labelled (text, label) pairs (each text once, then again numbered)."""
    return [(table.texts[i % len(table)] + ("" if i < len(table) else f" (again {i})"), table.labels[i % len(table)])
            for i in range(1000)]


def lay_out(calls: list[tuple[str, str]], folder: Path) -> tuple[Path, Path, dict[str, str]]:
    """The first half as a --train-data table, the second as .txt files for people to label: (table, folder
    of calls, each file's true label)."""
    import csv

    table, calls_folder, truth = folder / "train.csv", folder / "calls", {}
    calls_folder.mkdir()
    half = len(calls) // 2
    with table.open("w", newline="") as f:
        csv.writer(f).writerows([("text", "label"), *calls[:half]])
    for n, (text, label) in enumerate(calls[half:]):
        (calls_folder / f"call{n:04d}.txt").write_text(text)
        truth[f"call{n:04d}.txt"] = label
    return table, calls_folder, truth


def latencies(url: str, text: str, seconds: float | None = None, until=None) -> list[float]:
    """One client, one request after the other: each /v1/classify's seconds, for `seconds` or `until()`."""
    found, started = [], time.perf_counter()
    with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60) as client:
        while (seconds and time.perf_counter() - started < seconds) or (until and not until()):
            t = time.perf_counter()
            assert client.post("/v1/classify", json={"text": text}).status_code == 200
            found.append(time.perf_counter() - t)
    return found


def p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 1)


def retraining(table: CallTable) -> dict:
    """Seconds of a retraining on 1,000 calls (500 of --train-data, 500 labelled by people through the API)
    with its check against the active model (trained on the table and 250 of the labels), and /v1/classify
    latency idle and while it trains."""
    with tempfile.TemporaryDirectory(prefix="callsort-lip-") as tmp:
        train, folder, truth = lay_out(thousand_calls(table), Path(tmp))
        port = 8731
        proc = subprocess.Popen([str(CALLSORT), "serve", "--store", f"{tmp}/jobs.db", "--train-data", str(train),
                                 "--retrain-after", "0", "--api-key", KEY, "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
        url = f"http://127.0.0.1:{port}"
        try:
            client = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
            up(client)
            calls = stored(client, folder)
            label(client, calls[:250], truth)
            first = trained(client, 1)
            while any(r["model_version"] != 1 for r in client.get("/v1/calls", params={"limit": 1000}).json()["results"]
                      if not r["corrected_label"]):
                time.sleep(0.5)  # idle: after the first version has re-scored the calls nobody labelled
            idle = latencies(url, table.texts[0], seconds=20)
            label(client, calls[250:], truth)
            busy: list[float] = []
            second = trained(client, 2, lambda: busy.extend(
                latencies(url, table.texts[0], until=lambda: not client.get("/v1/models").json()["training"])))
            version = client.get("/v1/models").json()["versions"][-1]
        finally:
            proc.terminate()
            proc.wait(30)
    return {"calls": 1000, "labelled_by_people": version["labelled_by_people"], "seconds_first": first,
            "seconds_with_check": second, "second_version": {k: version[k] for k in ("state", "macro_f1", "compared_with")},
            "latency_ms": {"idle": {"p50": p(idle, 50), "p95": p(idle, 95), "n": len(idle)},
                           "training": {"p50": p(busy, 50), "p95": p(busy, 95), "n": len(busy)}}}


def up(client: httpx.Client) -> None:
    for _ in range(600):
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("the service did not start")


def stored(client: httpx.Client, folder: Path) -> list[dict]:
    """The calls of `folder` stored through a batch, as GET /v1/calls lists them."""
    batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
    while not client.get(f"/v1/batches/{batch['id']}").json()["finished"]:
        time.sleep(0.5)
    return client.get("/v1/calls", params={"limit": 1000}).json()["results"]


def label(client: httpx.Client, calls: list[dict], truth: dict[str, str]) -> None:
    for call in calls:
        assert client.post(f"/v1/calls/{call['id']}/correction", json={"label": truth[call["source"]]}).status_code == 200


def trained(client: httpx.Client, version: int, meanwhile=None) -> float:
    """Seconds from POST /v1/models/train until `version` is settled (running `meanwhile()` if given)."""
    started = time.perf_counter()
    assert client.post("/v1/models/train").status_code == 202
    if meanwhile:
        meanwhile()
    while client.get("/v1/models").json()["training"]:
        time.sleep(0.2)
    assert client.get("/v1/models").json()["versions"][-1]["version"] == version
    return round(time.perf_counter() - started, 1)


# --- 1. the replay ----------------------------------------------------------------------------------------

def booking_truth(labels: list[str]) -> float | None:
    from callsort.labels import is_booked, is_lead

    leads = [label for label in labels if is_lead(label)]
    return sum(is_booked(label) for label in leads) / len(leads) if leads else None


def week_error(model, week: CallTable, labelled: dict[int, str], ids: list[int]) -> float | None:
    """|booking rate shown - truth| for one week's calls, people's labels counted at their label."""
    from callsort import classify_calls
    from callsort.insights.report import summarise
    from callsort.jobs.corrections import corrected_row

    rows = [r.to_dict() for r in classify_calls(week, model)]
    rows = [corrected_row(row, {"label": labelled[i], "reason": None}) if i in labelled else row
            for i, row in zip(ids, rows, strict=True)]
    shown, truth = summarise(rows, quantifier=model.quantifier, model=model.identity)["booking_rate"], booking_truth(week.labels)
    return None if shown is None or truth is None else abs(shown - truth)


class Policy:
    """The service's training policy as shipped (service/learning.Learner.train_once), on plain tables."""

    def __init__(self, base: CallTable | None):
        self.base, self.active, self.learned, self.versions = base, None, None, 0

    def train(self, people: CallTable) -> None:
        from callsort.models import candidates

        if candidates.learnable(self.base.concat(people) if self.base is not None else people):
            return
        found = candidates.train_and_check(self.base, people, people.sources, self.active, self.learned)
        self.versions += 1
        if candidates.better_or_equal(found.mine, found.theirs):
            self.active, self.learned = found.model, found.learned


def queue(order: str, tune: CallTable, pool: list[int], done: list[int], model, rng) -> list[int]:
    """The calls of `pool` (arrived, unlabelled) in the order a person sees them."""
    from callsort.models.label_order import review_order

    if order == "random":
        return list(rng.permutation(pool))
    confidence = [p.confidence for p in model.predict([tune.texts[i] for i in pool])] if model else None
    if order == "least_confident":
        return [pool[j] for j in np.argsort(confidence, kind="stable")] if confidence else list(pool)
    ids = done + pool
    ranked = review_order([tune.texts[i] for i in ids], [True] * len(done) + [False] * len(pool),
                          [None] * len(done) + confidence if confidence else None)
    return [ids[j] for j in ranked]


def replay(tune: CallTable, test: CallTable, choose: CallTable, order: str, per_week: int, base, seed: int,
           weeks: int) -> list[dict]:
    """Week by week: macro-F1 of the active model on `test` and `choose`, and the week's booking-rate error."""
    from callsort.models.evaluate import classification_metrics

    rng = np.random.default_rng(seed)
    arrival, policy, done, since, found = list(rng.permutation(len(tune))), Policy(base), [], 0, []
    for week in range(weeks):
        arrived = arrival[:(week + 1) * PER_WEEK]
        waiting = queue(order, tune, [i for i in arrived if i not in set(done)], done, policy.active, rng)
        for _ in range(per_week):
            done.append(waiting.pop(0))
            since += 1
            if since >= RETRAIN_AFTER:
                policy.train(tune.subset(done))
                since = 0
                waiting = queue(order, tune, [i for i in arrived if i not in set(done)], done, policy.active, rng)
        model, ids = policy.active, arrival[week * PER_WEEK:(week + 1) * PER_WEEK]
        entry = {"week": week + 1, "labels": len(done), "versions": policy.versions, "test_f1": None, "choose_f1": None,
                 "booking_error": None}
        if model is not None:
            for name, part in (("test_f1", test), ("choose_f1", choose)):
                said = [p.label for p in model.predict(part.texts)]
                entry[name] = round(classification_metrics(part.labels, said, sorted(set(part.labels)))["macro_f1"], 4)
            labelled = {i: tune.labels[i] for i in done}
            entry["booking_error"] = week_error(model, tune.subset(ids), labelled, ids)
        found.append(entry)
    return found


# the plans; "least_confident/40/zero" (today's review order) runs when named with --plans
ALL_PLANS = ["queue/40/zero", "random/40/zero", "queue/40/sample", "random/40/sample",
             "queue/20/zero", "random/20/zero", "queue/20/sample", "random/20/sample"]


def replays(table: CallTable, tune_idx: list[int], test_idx: list[int], seeds: int, weeks: int,
            plans: list[str] = ALL_PLANS, jobs: int = 1) -> dict:
    """Every order x labels a week x start, the mean of `seeds` seeds (`jobs` replays at once, each in its own
    process); and the model of all tuning labels."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from functools import partial

    from sklearn.model_selection import train_test_split

    from callsort import read_calls
    from callsort.demo import sample_path
    from callsort.models.evaluate import classification_metrics
    from callsort.models.train import train

    pool_idx, choose_idx = train_test_split(tune_idx, test_size=0.2, stratify=[table.labels[i] for i in tune_idx],
                                            random_state=7)  # the orders are chosen on `choose`, never on test
    tune, choose, test = table.subset(pool_idx), table.subset(choose_idx), table.subset(test_idx)
    sample = read_calls(sample_path("sample_calls.csv"))
    every = train(tune, progress=False).model  # the candidate recipe on every pool label
    ceiling = {name: round(classification_metrics(part.labels, [p.label for p in every.predict(part.texts)],
                                                  sorted(set(part.labels)))["macro_f1"], 4)
               for name, part in (("test_f1", test), ("choose_f1", choose))}
    results = {"all_labels": {"labels": len(tune), **ceiling}, "runs": {}}
    kept = kept_runs(weeks)  # each finished replay: a rerun goes on from them
    done = {(key.rpartition("#")[0], int(key.rpartition("#")[2])): v
            for key, v in (json.loads(kept.read_text()) if kept.is_file() else {}).items()}
    tasks = [(plan, seed) for plan in plans for seed in range(seeds) if (plan, seed) not in done]
    one = partial(_replay_task, tune, test, choose, sample, weeks)
    with ProcessPoolExecutor(jobs) as pool:
        running = {pool.submit(one, task): task for task in tasks}
        for future in as_completed(running):
            done[running[future]] = future.result()
            kept.write_text(json.dumps({f"{plan}#{seed}": v for (plan, seed), v in done.items()}))
            print(f"replay {running[future]} done ({len(done)} of {len(plans) * seeds})", flush=True)
    for plan in plans:
        runs = [done[plan, seed] for seed in range(seeds)]
        results["runs"][plan] = [{k: _mean([r[w][k] for r in runs]) if k not in ("week",) else w + 1
                                  for k in runs[0][w]} for w in range(weeks)]
        print(plan, results["runs"][plan], flush=True)
    return results


def kept_runs(weeks: int) -> Path:
    """Where each finished (plan, seed) replay of `weeks` weeks is kept until all are done."""
    return RESULTS / f"learning_in_place.runs.{weeks}weeks.json"


def _replay_task(tune, test, choose, sample, weeks: int, task: tuple[str, int]) -> list[dict]:
    (order, per_week, start), seed = task[0].split("/"), task[1]
    return replay(tune, test, choose, order, int(per_week), sample if start == "sample" else None, seed, weeks)


def _mean(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return round(float(np.mean(known)), 4) if len(known) == len(values) else None


def replay_lines(replay: dict) -> list[str]:
    ceiling = replay["all_labels"]
    lines = ["", f"The replay (mean of the seeds): macro-F1 of the active model on the fixed test part (on the choice part in "
             f"brackets) and the week's booking-rate error; all {ceiling['labels']} pool labels: "
             f"{ceiling['test_f1']} ({ceiling['choose_f1']}).", "",
             "| order / labels a week / start | " + " | ".join(f"week {w['week']}" for w in next(iter(replay["runs"].values()))) + " |",
             "|---|" + "---|" * len(next(iter(replay["runs"].values())))]
    for key, weeks in replay["runs"].items():
        cells = [f"{w['labels']:.0f} labels: {w['test_f1']} ({w['choose_f1']}), err {w['booking_error']}" for w in weeks]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=5)
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--plans", nargs="+", default=ALL_PLANS, help="order/labels a week/start, e.g. queue/40/zero")
    parser.add_argument("--jobs", type=int, default=CORES, help="replays run at once (each in its own process)")
    args = parser.parse_args()
    table = real_calls()
    tune_idx, test_idx = split(table)
    report: dict = {"cores": CORES}
    if not args.skip_replay:
        report["replay"] = replays(table, tune_idx, test_idx, args.seeds, args.weeks, args.plans, args.jobs)
    earlier = RESULTS / "learning_in_place.json"  # a part skipped keeps its figures from the last run
    if earlier.is_file():
        skipped = {"replay": args.skip_replay, "retraining": args.skip_serve}
        report.update({k: v for k, v in json.loads(earlier.read_text()).items() if skipped.get(k)})
    write(report)  # the replay's figures are kept even if the retraining below fails
    kept_runs(args.weeks).unlink(missing_ok=True)  # all replays are in the report: a next run starts afresh
    if not args.skip_serve:
        report["retraining"] = retraining(table.subset(tune_idx))
        print(report["retraining"], flush=True)
        write(report)


def write(report: dict) -> None:
    r = report.get("retraining")
    lines = ["# Learning in place", ""]
    if r:
        second = r["second_version"]
        lines += [f"A retraining on {r['calls']} calls ({r['labelled_by_people']} of them labelled by people through "
                  f"the API) in a real `callsort serve` ({CORES} cores): {r['seconds_with_check']} s with its check "
                  f"against the active model, refitted on the same folds ({r['seconds_first']} s for the first "
                  f"version, on 750 calls, nothing to compare with); the second version {second['state']}, "
                  f"macro-F1 out of fold {second['macro_f1']} against version {second['compared_with']['version']}'s "
                  f"{second['compared_with']['macro_f1']} (activated only if not lower); `/v1/classify` "
                  f"p50/p95 {r['latency_ms']['idle']['p50']}/{r['latency_ms']['idle']['p95']} ms idle, "
                  f"{r['latency_ms']['training']['p50']}/{r['latency_ms']['training']['p95']} ms while it trains."]
    lines += replay_lines(report["replay"]) if "replay" in report else []
    write_results("learning_in_place", report, lines)


if __name__ == "__main__":
    main()
