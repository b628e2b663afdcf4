"""`callsort serve` as a real process on loopback: curl-style requests, a client that hangs up mid-upload,
and the web page driven in Debian's Chromium by Playwright."""

import shutil
import socket
from pathlib import Path

import httpx
import pytest
from conftest import start_server, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tfidf_dir):
    proc, url = start_server("--model", str(tfidf_dir), "--max-upload-mb", "5", "--no-auth")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.mark.slow
def test_real_server_text_and_audio(server, booked_call):
    assert httpx.post(f"{server}/v1/classify", json={"text": "please leave a message after the tone"}).json()["label"]
    with open(booked_call, "rb") as f:
        body = httpx.post(f"{server}/v1/classify", files={"file": ("call.mp3", f)}, timeout=120).json()
    assert body["transcript"].startswith("Agent: ")


@pytest.mark.slow
def test_client_hanging_up_mid_upload_does_not_wedge_the_server(server):
    host, port = server.removeprefix("http://").split(":")
    for _ in range(3):
        with socket.create_connection((host, int(port))) as s:
            s.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                      b"Content-Length: 4000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
                      b"filename=\"a.wav\"\r\n\r\n" + b"\0" * 100_000)
        # closed after 100 kB of the 4 MB announced
    assert httpx.get(f"{server}/healthz", timeout=5).json()["status"] == "ok"
    too_big = httpx.post(f"{server}/v1/classify", files={"file": ("big.wav", b"\0" * (6 << 20))}, timeout=30)
    assert too_big.status_code == 413


@pytest.mark.slow
def test_web_page_in_chromium(server, booked_call):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        page.goto(server + "/")
        page.wait_for_selector("#model:has-text('categories')")
        page.set_input_files("#file", str(booked_call))
        page.wait_for_selector("#result:not([hidden])", timeout=120_000)
        assert page.text_content("#label").strip()
        assert page.text_content("#transcript").startswith("Agent: ")
        assert page.locator(".bar").count() >= 2
        page.fill("#text", "You have reached our voicemail, please leave a message")
        page.click("#go")
        wait_for(page, "document.querySelector('#label').textContent === 'Voicemail - Lead'")
        browser.close()
