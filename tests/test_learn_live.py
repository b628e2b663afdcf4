"""Learning in place on the page (issue 33), in Chromium: label calls with the number keys, train, and see
version 1 become active, through a real `callsort serve` with no model."""


import httpx
import pytest
from conftest import finished_batch, signed_in_page, start_server, wait_for

KEY = "learn-live-admin-key-0123"
LABELLED = 16  # of 8 categories: whichever fifth is kept back for checking, two calls of one category remain to learn from

pytestmark = pytest.mark.slow


def test_label_ten_calls_train_and_see_the_version_activate(tmp_path, sample_table):
    playwright = pytest.importorskip("playwright.sync_api")
    folder, truth = tmp_path / "calls", {}
    folder.mkdir()
    for i, (text, label) in enumerate(zip(sample_table.texts, sample_table.labels, strict=True)):
        (folder / f"call{i:03d}.txt").write_text(text)
        truth[f"call{i:03d}.txt"] = label
    categories = sorted(set(truth.values()))
    (tmp_path / "labels.txt").write_text("\n".join(categories) + "\n")
    proc, url = start_server("--store", str(tmp_path / "jobs.db"), "--labels", str(tmp_path / "labels.txt"),
                             "--retrain-after", "0", "--api-key", KEY)
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60) as client:
            batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
            assert finished_batch(client, batch["id"], seconds=120)["done"] == len(truth)
        with playwright.sync_playwright() as p:
            browser, page, errors = signed_in_page(p, url, KEY)
            page.wait_for_selector("nav [data-tab=learn]:not([hidden])")
            page.click("nav [data-tab=learn]")
            wait_for(page, "document.querySelector('#learn-progress').textContent.includes('no model yet')")
            assert page.text_content("#learn-progress").startswith("0 labelled")
            page.click("#learn-label")
            for n in range(LABELLED):
                wait_for(page, f"document.querySelector('#item-source').textContent.startsWith('1 / {len(truth) - n} ')")
                name = page.text_content("#item-source").split(" · ")[1]
                page.click("h1")  # keyboard focus off the inputs
                page.keyboard.press(str(categories.index(truth[name]) + 1))
                page.keyboard.press("Enter")
            wait_for(page, f"document.querySelector('#queue-progress').textContent.startsWith('{LABELLED} labelled')")
            page.click("nav [data-tab=learn]")
            page.click("#train-now")
            page.wait_for_selector("#versions tr[data-state=active]", timeout=120_000)
            wait_for(page, "document.querySelector('#learn-progress').textContent.includes('model 1 active')")
            assert page.locator("#curve circle").count() == 1 or "macro-F1 –" in page.text_content("#learn-progress")
            browser.close()
            assert errors == []
    finally:
        proc.terminate()
        proc.wait(10)
