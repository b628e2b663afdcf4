"""Full-text search in the store at scale (issue 35): index build time, store growth, query p50/p95, write cost.

Stores of N calls are made from the shipped sample transcripts recombined (their sentences drawn and shuffled
with a seeded RNG: the samples' words at their own frequencies, call lengths
log-normal around the real calls' median of 230 words, some sentences rare (Zipf weights)), with labels,
agents, datetimes over four months and the starter topics, inserted in bulk as WorkQueue.finish writes them
(state done, the result JSON); then SearchIndex.build() is timed, as an older store pays it on first open.
Queries go through search_store() with the store open (as the service holds it): counts apart from ranked
top-20 pages with snippets. Last, `callsort predict --store` over 2,000 recombined transcripts with the index
(this tree) and without it (--noindex-src, the code before search), alternating.

    .venv/bin/python benchmarks/search.py [--sizes 100000 1000000] [--engines sqlite postgresql] [--quick]

Writes benchmarks/results/search.json and search.md.
"""

from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from common import CALLSORT, CORES, ROOT, run_measured, write_results

from callsort.jobs.fulltext import SearchFilters, SearchIndex
from callsort.jobs.queue import WorkQueue
from callsort.jobs.searching import search_store
from callsort.jobs.store import Database
from callsort.search.query import words
from callsort.search.topics import STARTER, load_topics
from callsort.service.review import results_table, review_queue

SAMPLES = ROOT / "src" / "callsort" / "samples"
BEFORE_SEARCH = "5aad9e0"  # the commit before search: predict --store without the index
FIRST_DAY = datetime(2026, 8, 1)
DAYS = 120
RUNS = 30  # timed runs per query kind
MEDIAN_WORDS_LOG, SPREAD = 5.44, 0.8  # call lengths: median e^5.44 = 230 words, as the real calls' (ten of them 47-594)


class Corpus:
    """The shipped sample transcripts cut into sentences; a call is drawn from them with a seeded RNG."""

    def __init__(self):
        rows = [r for f in sorted(SAMPLES.glob("*.csv")) for r in csv.DictReader(f.open(encoding="utf-8"))]
        self.calls = [(_sentences(r["text"]), r.get("label") or "") for r in rows if r.get("label")]
        self.pool = sorted({s for sentences, _ in self.calls for s in sentences})
        topics = load_topics(STARTER)
        self.topic_names = topics.names
        self.topics_of = {s: set(topics.of(s)) for s in self.pool}  # a call's topics: its sentences' topics
        self.topics_found = sorted(set().union(*self.topics_of.values()))  # those the samples mention (timed)
        found = {m for r in rows for m in re.findall(r"this is (\w+), how can", r["text"])}
        self.agents = sorted(found)
        order = random.Random(7).sample(self.pool, len(self.pool))  # Zipf weights: some sentences are rare
        self.weights = [1 / (order.index(s) + 1) ** 1.2 for s in self.pool]

    def call(self, rng: random.Random) -> tuple[str, str, list[str]]:
        """(transcript, label, topics): one sample call's sentences and others drawn from every sample."""
        sentences, label = rng.choice(self.calls)
        mixed, length = list(sentences), rng.lognormvariate(MEDIAN_WORDS_LOG, SPREAD)
        size = sum(len(s.split()) for s in mixed)
        while size < length:
            extra = rng.choices(self.pool, self.weights)[0]
            mixed.insert(rng.randint(0, len(mixed)), extra)
            size += len(extra.split())
        mentioned = set().union(*(self.topics_of[s] for s in mixed))
        return " ".join(mixed), label, [t for t in self.topic_names if t in mentioned]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]


def result_row(corpus: Corpus, rng: random.Random, i: int) -> tuple[str, str, dict]:
    """(source, content hash, the row as WorkQueue.finish stores it) of call i."""
    transcript, label, topics = corpus.call(rng)
    when = FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86400))
    source = f"calls/{when:%Y/%m/%d}/call-{i:07d}.mp3"
    row = {"source": source, "label": label, "confidence": round(rng.uniform(0.3, 1.0), 3),
           "needs_review": rng.random() < 0.15, "transcript": transcript,
           "meta": {"agent": rng.choice(corpus.agents), "datetime": when.strftime("%Y-%m-%d %H:%M:%S")},
           "topics": topics}
    return source, hashlib.sha256(source.encode()).hexdigest(), row


def fill(db: Database, corpus: Corpus, n: int, seed: int = 35) -> None:
    """Insert n done calls with their rows in bulk (executemany), without touching the search index."""
    rng = random.Random(seed)
    sql = ("INSERT INTO calls (job, source, content_hash, state, attempts, worker, result, updated_at) "
           + ("VALUES (?, ?, ?, 'done', 0, 'bench', ?, ?)" if db.engine.dialect.name == "sqlite"
              else "VALUES (%s, %s, %s, 'done', 0, 'bench', %s, %s)"))
    now = time.time()
    for start in range(0, n, 20000):
        batch = []
        for i in range(start, min(n, start + 20000)):
            source, digest, row = result_row(corpus, rng, i)
            batch.append(("bench-job", source, digest, json.dumps(row), now))
        with db.engine.begin() as conn:
            conn.exec_driver_sql(sql, batch)


def store_size(db: Database) -> int:
    """Bytes the store takes on disk (SQLite: the file after a WAL checkpoint; PostgreSQL: the database)."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return os.path.getsize(db.engine.url.database)
        return conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()


def query_words(corpus: Corpus, seed: int = 35) -> dict[str, list[str]]:
    """Seeded word lists by how many calls hold them (measured on 5,000 calls drawn like the store's)."""
    rng, df = random.Random(seed + 1), {}
    docs = [set(words(corpus.call(rng)[0])) for _ in range(5000)]
    for doc in docs:
        for w in doc:
            df[w] = df.get(w, 0) + 1
    share = {w: c / len(docs) for w, c in df.items() if len(w) > 2 and not w.isdigit()}
    pick = random.Random(seed)
    third = sorted(w for w, s in share.items() if 0.25 <= s <= 0.40)
    rare = sorted(w for w, s in share.items() if 0.002 <= s <= 0.03) or sorted(share, key=share.get)[:8]
    return {"third": pick.sample(third, min(8, len(third))), "rare": pick.sample(rare, min(8, len(rare))),
            "share": {w: round(share[w], 3) for w in third + rare}}


def kinds(corpus: Corpus, found: dict) -> dict[str, list]:
    """Each query kind: a list of (text, filters) cycled over the timed runs."""
    third, rare = found["third"], found["rare"]
    phrases = ['"no heat"', '"water heater"', '"diagnostic fee"', '"call me back"', '"right away"']
    month = SearchFilters(category="New Customer - Lead Booked", since="2026-09-01", until="2026-09-30")
    return {"word (~1/3 of calls)": [(w, None) for w in third],
            "rarer word": [(w, None) for w in rare],
            "phrase": [(p, None) for p in phrases],
            "word + category + month": [(w, month) for w in third],
            "topic (filter alone)": [(None, SearchFilters(topic=t)) for t in corpus.topics_found]}


def timed(db: Database, cases: list, count_only: bool, runs: int) -> dict:
    """p50/p95 ms of search_store over `runs` runs cycling through the cases (one untimed warm-up each)."""
    for text, filters in cases:
        search_store(db, text, filters, count_only=count_only)
    ms, counts = [], []
    for i in range(runs):
        text, filters = cases[i % len(cases)]
        started = time.perf_counter()
        found = search_store(db, text, filters, count_only=count_only)
        ms.append((time.perf_counter() - started) * 1000)
        counts.append(found["count"])
    cuts = statistics.quantiles(ms, n=20)
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(cuts[18], 1), "runs": runs,
            "median_matches": int(statistics.median(counts))}


def bench_store(url: str, size: int, corpus: Corpus, found: dict, runs: int) -> dict:
    """Fill a store, time its index build, then time every query kind, counts and ranked pages apart."""
    db = Database(url, progress=False)  # an empty store: schema made, index marked built
    started = time.perf_counter()
    fill(db, corpus, size)
    filled_s, before = time.perf_counter() - started, store_size(db)
    started = time.perf_counter()
    SearchIndex(db).build(progress=False)
    built_s, after = time.perf_counter() - started, store_size(db)
    if db.engine.dialect.name == "postgresql":  # as autovacuum does after bulk inserts: statistics, visibility map
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    out = {"calls": size, "fill_s": round(filled_s, 1), "build_s": round(built_s, 1),
           "bytes_before": before, "bytes_after": after, "growth": round(after / before, 2), "queries": {}}
    print(f"  {size:,} calls: filled in {filled_s:.0f} s, index built in {built_s:.0f} s, "
          f"{before / 2**20:.0f} -> {after / 2**20:.0f} MB", flush=True)
    for kind, cases in kinds(corpus, found).items():
        out["queries"][kind] = {"count": timed(db, cases, True, runs), "page": timed(db, cases, False, runs)}
        q = out["queries"][kind]
        print(f"  {kind:28s} count p50 {q['count']['p50_ms']:7.1f} p95 {q['count']['p95_ms']:7.1f} | "
              f"page p50 {q['page']['p50_ms']:7.1f} p95 {q['page']['p95_ms']:7.1f} ms "
              f"({q['count']['median_matches']:,} matches)", flush=True)
    out["lists"] = list_pages(db, size, runs)
    db.close()
    return out


def list_pages(db: Database, size: int, runs: int) -> dict:
    """p50/p95 ms of a page of 50 of GET /v1/calls and GET /v1/review (what their routes call), at the start
    and in the middle of the store."""
    queue, waiting = WorkQueue(db), SearchFilters(needs_review=True, state="done")

    def calls_page(offset):
        return results_table(queue, queue.listed_ids(limit=50, offset=offset)[1])

    def review_page(offset):
        return review_queue(queue, SearchIndex(db).search(None, waiting, 50, offset, least_confident=True)[1])

    cases = {"/v1/calls, first page": lambda: calls_page(0), "/v1/calls, middle page": lambda: calls_page(size // 2),
             "/v1/review, first page": lambda: review_page(0),
             "/v1/review, middle page": lambda: review_page(size // 15)}  # ~15 % of calls need review
    out = {}
    for name, call in cases.items():
        call()
        ms = []
        for _ in range(runs):
            started = time.perf_counter()
            assert len(call()) == 50
            ms.append((time.perf_counter() - started) * 1000)
        out[name] = {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(statistics.quantiles(ms, n=20)[18], 1)}
        print(f"  {name:28s} p50 {out[name]['p50_ms']:7.1f} p95 {out[name]['p95_ms']:7.1f} ms", flush=True)
    return out


class Postgres:
    """A throwaway PostgreSQL server on a Unix socket (as tests/conftest.py's postgres_url starts it)."""

    def __enter__(self) -> str:
        initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdb:
            raise SystemExit("no PostgreSQL server installed (apt-get install postgresql)")
        self.bin = Path(initdb[-1]).parent
        self.folder = Path(tempfile.mkdtemp(prefix="callsort-pg-bench-"))
        self.as_user = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.folder, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        port = 56432 + os.getpid() % 1000
        subprocess.run([*self.as_user, self.bin / "initdb", "-D", self.folder / "data", "-U", "postgres",
                        "--auth=trust"], check=True, capture_output=True)
        subprocess.run([*self.as_user, self.bin / "pg_ctl", "-D", self.folder / "data", "-w", "-l",
                        self.folder / "log", "-o", f"-p {port} -k {self.folder} -c listen_addresses=''", "start"],
                       check=True, capture_output=True)
        return f"postgresql+psycopg://postgres@/postgres?host={self.folder}&port={port}"

    def __exit__(self, *_) -> None:
        subprocess.run([*self.as_user, self.bin / "pg_ctl", "-D", self.folder / "data", "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def predict_cost(corpus: Corpus, calls: int, repeats: int) -> dict:
    """`callsort predict --store` over recombined transcripts, with the index and without (the source of the
    commit before search, taken from git), alternating."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", ROOT, "archive", BEFORE_SEARCH, "src"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        rng, data = random.Random(36), Path(tmp) / "calls.csv"
        with data.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["text"])
            writer.writerows([corpus.call(rng)[0]] for _ in range(calls))
        model = Path(tmp) / "model"
        subprocess.run([CALLSORT, "train", SAMPLES / "sample_calls.csv", "--out", model, "--quiet"],
                       check=True, capture_output=True)
        trees = {"with the index": str(ROOT / "src"), f"without ({BEFORE_SEARCH})": f"{tmp}/src"}
        seconds: dict[str, list[float]] = {name: [] for name in trees}
        for run in range(repeats):
            for name, src in trees.items():
                env = {**os.environ, "PYTHONPATH": src}
                out = Path(tmp) / f"{run}-{list(trees).index(name)}"  # a store of its own: nothing to resume
                cmd = [CALLSORT, "predict", data, "--model", model, "--out", f"{out}.csv", "--store",
                       f"{out}.db", "--quiet"]
                s, _, proc = run_measured(cmd, env)
                assert proc.returncode == 0, proc.stderr  # every call classified, none failed
                assert sum(1 for _ in open(f"{out}.csv", encoding="utf-8")) > calls, "fewer rows than calls"
                seconds[name].append(round(s, 2))
                print(f"  predict --store, {name}: {s:.1f} s", flush=True)
    medians = {name: statistics.median(v) for name, v in seconds.items()}
    return {"calls": calls, "runs": seconds, "median_s": medians,
            "ratio": round(medians["with the index"] / medians[f"without ({BEFORE_SEARCH})"], 3)}


TARGETS = {"count": {1_000_000: 100}, "page": {100_000: 100, 1_000_000: 500}}  # p95 ms, on 2 cores
WORD_KINDS = ("word (~1/3 of calls)", "rarer word", "phrase", "word + category + month")  # page targets


def verdicts(stores: dict) -> list[dict]:
    """Each target the measured sizes reach: met or not (counts: every kind; pages: the word queries)."""
    found = []
    for key, store in stores.items():
        for what, by_size in TARGETS.items():
            limit = by_size.get(store["calls"])
            if limit is None:
                continue
            for kind, q in store["queries"].items():
                if what == "page" and kind not in WORD_KINDS:
                    continue
                found.append({"store": key, "what": what, "kind": kind, "p95_ms": q[what]["p95_ms"],
                              "target_ms": limit, "met": q[what]["p95_ms"] <= limit})
    return found


def markdown(report: dict) -> list[str]:
    lines = [f"# Full-text search in the store ({report['date']}, {report['cores']} cores, load average "
             f"{report['load_start']} at start, {report['load_end']} at end)", "",
             "| store | calls | fill s | index build s | MB before | MB after | growth |", "|---|---:|---:|---:|---:|---:|---:|"]
    for key, s in report["stores"].items():
        lines.append(f"| {key} | {s['calls']:,} | {s['fill_s']} | {s['build_s']} | {s['bytes_before'] / 2**20:.0f} | "
                     f"{s['bytes_after'] / 2**20:.0f} | {s['growth']}x |")
    lines += ["", f"Query latency, ms, {RUNS} runs each (words from a seeded list; share of calls holding each "
              "word in search.json). count = count_only; page = ranked top 20 with rows and snippets.", "",
              "| store | query | matches (median) | count p50 | count p95 | page p50 | page p95 |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for key, s in report["stores"].items():
        for kind, q in s["queries"].items():
            lines.append(f"| {key} | {kind} | {q['count']['median_matches']:,} | {q['count']['p50_ms']} | "
                         f"{q['count']['p95_ms']} | {q['page']['p50_ms']} | {q['page']['p95_ms']} |")
    lines += ["", "List routes, a page of 50, ms:", "", "| store | page | p50 | p95 |", "|---|---|---:|---:|"]
    lines += [f"| {key} | {name} | {t['p50_ms']} | {t['p95_ms']} |" for key, s in report["stores"].items()
              for name, t in s.get("lists", {}).items()]
    if report.get("predict"):
        p = report["predict"]
        lines += ["", f"`callsort predict --store` over {p['calls']:,} transcripts (tf-idf model), alternating runs:", "",
                  "| code | runs, s | median s |", "|---|---|---:|"]
        lines += [f"| {name} | {', '.join(map(str, runs))} | {p['median_s'][name]} |" for name, runs in p["runs"].items()]
        lines += ["", f"Ratio with/without the index: {p['ratio']} (target <= 1.10: "
                  f"{'met' if p['ratio'] <= 1.10 else 'missed'})."]
    lines += ["", "| target | store | query | p95 ms | limit | met |", "|---|---|---|---:|---:|---|"]
    lines += [f"| {v['what']} | {v['store']} | {v['kind']} | {v['p95_ms']} | {v['target_ms']} | "
              f"{'yes' if v['met'] else '**no**'} |" for v in report["targets"]]
    return lines


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-sizes", type=int, nargs="+", default=[100_000], help="sizes PostgreSQL runs at")
    parser.add_argument("--predict-calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="predict runs per code")
    parser.add_argument("--no-predict", action="store_true")
    parser.add_argument("--predict-only", action="store_true", help="only the predict --store comparison")
    parser.add_argument("--name", default="search", help="results file name")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2,000 calls, 5 runs, 200 predicted")
    args = parser.parse_args()
    global RUNS
    if args.quick:
        args.sizes, args.pg_sizes, args.predict_calls, args.repeats, RUNS = [2000], [2000], 200, 1, 5
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": CORES, "load_start": _load(), "stores": {}}
    corpus = Corpus()
    found = query_words(corpus)
    report["words"] = found
    for engine in args.engines if not args.predict_only else []:
        sizes = args.sizes if engine == "sqlite" else [n for n in args.sizes if n in args.pg_sizes]
        for size in sizes:
            print(f"{engine}, {size:,} calls", flush=True)
            if engine == "sqlite":
                with tempfile.TemporaryDirectory(dir=ROOT / "runs" if (ROOT / "runs").is_dir() else None) as tmp:
                    report["stores"][f"sqlite {size:,}"] = bench_store(f"{tmp}/jobs.db", size, corpus, found, RUNS)
            else:
                with Postgres() as url:
                    report["stores"][f"postgresql {size:,}"] = bench_store(url, size, corpus, found, RUNS)
    if not args.no_predict:
        report["predict"] = predict_cost(corpus, args.predict_calls, args.repeats)
    report["load_end"] = _load()
    report["targets"] = verdicts(report["stores"])
    write_results(args.name, report, markdown(report))
    print("\n".join(markdown(report)))


if __name__ == "__main__":
    main()
