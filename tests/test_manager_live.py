"""The service as the manager's place, on a real `callsort serve --store --meta` process in Chromium at phone
size (390 x 844): calls stored by `predict --store` listed and reviewable beside an uploaded batch, progress
per call, the table refreshed after a correction, the speed-to-lead list with a done tick that the report
shows, the report opened from the page with the signed-in session, and no sideways scrolling anywhere."""

import json
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, start_server, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
KEY = "manager-key-for-tests"
PHONE = {"width": 390, "height": 844}


def phone_system(path: Path, table: Path, rows: int, recordings: list[str]) -> Path:
    """Dates, agents and caller numbers for every call."""
    names = [f"{table.name}:{n}" for n in range(1, rows + 1)] + recordings
    path.write_text("file,datetime,agent,caller\n" + "".join(
        f"{name},2026-11-{16 + i % 10:02d} {8 + i % 9:02d}:05,{'Ann' if i % 2 else 'Bob'},555-010-{i:04d}\n"
        for i, name in enumerate(names)))
    return path


def assert_fits(page) -> None:
    """Nothing wider than the phone's screen: the page never scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    widest = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5).join(' ')""")
    assert width <= PHONE["width"], f"{page.url}: {width} px wide ({widest})"


@pytest.mark.slow
def test_the_manager_works_from_a_phone(tfidf_dir, sample_test_csv, booked_call, voicemail_call, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    store = tmp_path / "jobs.db"
    run_cli("predict", sample_test_csv, "--model", tfidf_dir, "--out", tmp_path / "p.csv", "--store", store,
            "--review-below", "1.01", "-q")  # every call to review, as the service does below
    recordings = [shutil.copy(c, tmp_path / c.name) for c in (booked_call, voicemail_call)]
    meta = phone_system(tmp_path / "calls.csv", sample_test_csv, 24, [Path(r).name for r in recordings])
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY,
                             "--meta", str(meta), "--review-below", "1.01")
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport=PHONE)
            page.goto(url)
            page.fill("#key", KEY)
            page.click("#signin-go")
            page.wait_for_selector("#signout:not([hidden])")
            assert_fits(page)

            page.click("nav [data-tab=batch]")  # calls of `predict --store` are there before any batch
            wait_for(page, "document.querySelectorAll('#results tbody tr').length === 24")
            assert_fits(page)
            page.set_input_files("#batch-files", [str(r) for r in recordings])
            wait_for(page, "document.querySelector('#batch-status').textContent.includes(' of 2 calls')")
            for _ in range(1500):  # "N of 2 calls", counted call by call as each is committed
                status = page.text_content("#batch-status")
                if "finished" in status:
                    break
                page.wait_for_timeout(200)
            assert status.startswith("2 of 2 calls") and "finished" in status, status
            page.select_option("#batches", "all")
            wait_for(page, "document.querySelectorAll('#results tbody tr').length === 26")
            assert_fits(page)

            page.click("nav [data-tab=queue]")  # every stored call is reviewable
            page.wait_for_selector("#item:not([hidden])")
            assert page.text_content("#queue-count").startswith("26 calls")
            assert_fits(page)
            corrected = page.text_content("#item-source").split(" · ", 1)[1]
            label = next(x for x in httpx.get(f"{url}/healthz").json()["labels"] if x != page.text_content("#item-label"))
            page.click(f"#labels button[data-label={json.dumps(label)}]")
            page.click("#save")
            wait_for(page, "document.querySelector('#queue-count').textContent.startsWith('25 calls')")
            page.click("nav [data-tab=batch]")  # the table shows the correction at once
            wait_for(page, f"[...document.querySelectorAll('#results tbody tr')].some(tr => "
                                   f"tr.cells[0].textContent === {json.dumps(corrected)} && "
                                   f"tr.cells[4].textContent === {json.dumps(label)})")

            page.click("nav [data-tab=callbacks]")
            page.wait_for_selector("li.callback")
            listed = page.locator("li.callback").count()
            assert listed > 0 and page.locator("li.callback a[href^='tel:555010']").count() == listed
            assert_fits(page)
            page.check("li.callback >> nth=0 >> input[type=checkbox]")
            wait_for(page, f"document.querySelectorAll('li.callback').length === {listed - 1}")
            api = httpx.get(f"{url}/v1/callbacks", headers={"x-api-key": KEY}).json()["callbacks"]
            assert sum(c["done"] for c in api) == 1 and len(api) == listed

            with page.expect_popup() as popup:  # the report opens with the page's session, no key in the URL
                page.click("nav [data-tab=batch]")
                page.select_option("#batches", "all")
                page.click("#batch-report")
            report = popup.value
            report.wait_for_load_state()
            assert "What the calls say" in report.text_content("h1") and "✓" in report.text_content("table.callbacks")
            assert_fits(report)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    done = run_cli("report", store, "--meta", meta, "--out", tmp_path / "report", "--json")
    summary = json.loads(done.stdout)
    assert sum(c["done"] for c in summary["callbacks"]) == 1 and summary["checked"] == 1
