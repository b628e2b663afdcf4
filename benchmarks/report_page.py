"""The report page: time to summarise and draw it, its size, and Chromium's time to render it, for batches of
1,000 and 20,000 result rows (synthetic rows: random categories, reasons, agents, times, timing).

Writes results/report_page.{json,md} and results/report_screenshot.png (the top of the 1,000-row page).
"""

import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CORES, RESULTS, write_results  # noqa: E402

from callsort.insights.report import summarise, write_report  # noqa: E402

LABELS = ["New Customer - Lead Booked", "New Customer - Lead Not Booked", "Existing Customer - Lead Booked",
          "Existing Customer - Lead Not Booked", "Missed Call", "Voicemail - Lead", "Other", "Out of Service Capabilities"]
REASONS = ["CSR Needs to Call Customer Back", "Couldn't Satisfy Time Requirement", "Price Shopper", "Other"]


def synthetic(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(LABELS)
        rows.append({"source": f"/calls/{i}.mp3", "label": label, "needs_review": rng.random() < 0.3,
                     "reason": rng.choice(REASONS) if "Not Booked" in label else "",
                     "transcript": "Agent: Thank you for calling.\nCaller: My furnace is out.",
                     "ring_or_hold_s": rng.uniform(0, 30), "agent_talk_s": rng.uniform(10, 200),
                     "caller_talk_s": rng.uniform(10, 200),
                     "meta": {"agent": rng.choice(["Ann", "Bob", "Cy", "Di", "Ed", "Flo"]),
                              "source": rng.choice(["Google Ads", "Yard sign", "Referral", "Website"]),
                              "datetime": f"2026-11-{rng.randint(1, 28):02d} {rng.randint(7, 20):02d}:{rng.randint(0, 59):02d}",
                              "caller": f"555-{rng.randint(0, 9999):04d}"}})
    return rows


def screenshot(page: Path, path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    headless=True, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1000, "height": 2200})
        tab.goto(page.as_uri())
        tab.screenshot(path=str(path))
        browser.close()


def chromium_ms(page: Path) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    headless=True, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load")
            times.append((time.perf_counter() - started) * 1000)
        browser.close()
    return statistics.median(times)


def main() -> None:
    result = {"date": time.strftime("%Y-%m-%d"), "cores": CORES, "sizes": []}
    with tempfile.TemporaryDirectory() as scratch:
        for n in (1000, 20000):
            rows = synthetic(n)
            started = time.perf_counter()
            page = write_report(summarise(rows), Path(scratch) / str(n))
            seconds = time.perf_counter() - started
            result["sizes"].append({"rows": n, "build_s": round(seconds, 2), "kb": round(page.stat().st_size / 1024),
                                    "callbacks": len(summarise(rows)["callbacks"]),
                                    "chromium_load_ms": round(chromium_ms(page))})
            if n == 1000:
                screenshot(page, RESULTS / "report_screenshot.png")
    lines = [f"# The report page ({result['date']}, {CORES} cores)", "",
             "| result rows | summarise + draw (s) | index.html (KB) | rows in the callback list | Chromium load, median of 5 (ms) |",
             "|---:|---:|---:|---:|---:|"]
    lines += [f"| {s['rows']:,} | {s['build_s']} | {s['kb']} | {s['callbacks']:,} | {s['chromium_load_ms']} |"
              for s in result["sizes"]]
    write_results("report_page", result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
