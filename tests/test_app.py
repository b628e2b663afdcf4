"""The HTTP service, in-process through FastAPI's TestClient, with the real models and real audio."""

import pytest
from conftest import LOCAL
from fastapi.testclient import TestClient

from callsort.service.app import create_app
from callsort.service_config import ServeConfig


@pytest.fixture(scope="module")
def client(tfidf_dir):
    return TestClient(create_app(tfidf_dir, ServeConfig(max_upload_mb=1, no_auth=True)), base_url=LOCAL)


@pytest.fixture(scope="module")
def keyed(tfidf_dir):
    return TestClient(create_app(tfidf_dir, ServeConfig(api_key="s3cret-key-for-tests")), base_url=LOCAL)


def test_health_and_page(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and "Missed Call" in health["labels"] and health["asr_model"] == "tiny.en"
    page = client.get("/")
    assert page.status_code == 200 and "callsort" in page.text and '<script src="static/page.js">' in page.text
    assert "signedIn" in client.get("/static/page.js").text and "body {" in client.get("/static/page.css").text
    assert client.get("/openapi.json").json()["paths"]["/v1/classify"]


def test_classify_text_and_batch(client):
    one = client.post("/v1/classify", json={"text": "You have reached our voicemail, please leave a message"})
    assert one.status_code == 200 and one.json()["label"] == "Voicemail - Lead"
    assert abs(sum(one.json()["probabilities"].values()) - 1) < 0.01
    batch = client.post("/v1/classify/batch", json={"texts": ["Hello? Hello?", "I need a new furnace, book me"]})
    assert len(batch.json()["results"]) == 2


def test_classify_recordings(client, booked_call, voicemail_call, bad_audio):
    with open(booked_call, "rb") as f:
        answer = client.post("/v1/classify", files={"file": ("call.mp3", f, "audio/mpeg")})
    body = answer.json()
    assert answer.status_code == 200 and body["label"] and body["transcript"].startswith("Agent: ")
    assert body["duration_s"] > 30
    files = [("files", ("vm.mp3", open(voicemail_call, "rb"), "audio/mpeg")),
             ("files", ("empty.mp3", open(bad_audio["empty file"], "rb"), "audio/mpeg"))]
    results = client.post("/v1/classify/batch", files=files).json()["results"]
    assert results[0]["label"] and results[1]["error"] == "empty.mp3: empty file"
    assert [r["source"] for r in results] == ["vm.mp3", "empty.mp3"]


def test_recognition_failure_is_an_error_not_a_label(client, booked_call, monkeypatch):
    """Regression: /v1/classify answered 200 with a label for a recording whose recognition failed."""
    from callsort.speech.recognise import Recogniser

    def decoder_fails(self, parts, timestamps, words=False):
        raise RuntimeError("decoder failed")  # injected fault: what CTranslate2 raises on a bad input

    monkeypatch.setattr(Recogniser, "_recognise", decoder_fails)
    with open(booked_call, "rb") as f:
        answer = client.post("/v1/classify", files={"file": ("call.mp3", f, "audio/mpeg")})
    assert answer.status_code == 415 and answer.json()["detail"] == "call.mp3: speech recognition failed (decoder failed)"


def test_classify_uploaded_texts_and_tables(client, voicemail_call, tmp_path):
    """Uploads may be recordings, .txt transcripts and transcript tables, mixed; each row named by its upload."""
    (tmp_path / "note.txt").write_text("You have reached our voicemail, please leave a message after the tone")
    (tmp_path / "calls.csv").write_text('text\n"Hello? Hello? Anyone there?"\n"Hi, my furnace is out, book me"\n')
    files = [("files", ("note.txt", open(tmp_path / "note.txt", "rb"), "text/plain")),
             ("files", ("calls.csv", open(tmp_path / "calls.csv", "rb"), "text/csv")),
             ("files", ("vm.mp3", open(voicemail_call, "rb"), "audio/mpeg"))]
    answer = client.post("/v1/classify/batch", files=files)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 4 and all(r["label"] and not r["error"] for r in results)
    assert results[0]["source"] == "note.txt" and results[0]["label"] == "Voicemail - Lead"
    assert [r["source"].split(":")[0] for r in results[1:3]] == ["calls.csv", "calls.csv"]
    assert results[1]["transcript"].strip() and results[3]["source"] == "vm.mp3" and results[3]["transcript"]
    assert not any("/tmp" in r["source"] for r in results)  # upload names, never the server's temporary files
    with open(tmp_path / "note.txt", "rb") as f:
        one = client.post("/v1/classify", files={"file": ("note.txt", f, "text/plain")})
    assert one.status_code == 200 and one.json()["label"] == "Voicemail - Lead"


def test_bad_requests(client, bad_audio):
    with open(bad_audio["not a readable audio file"], "rb") as f:
        not_audio = client.post("/v1/classify", files={"file": ("notes.mp3", f, "audio/mpeg")})
    assert not_audio.status_code == 415 and "not a readable audio file" in not_audio.json()["detail"]
    assert "/tmp" not in not_audio.json()["detail"]  # names the upload, not the server's temporary file
    assert client.post("/v1/classify", content=b"{nope", headers={"content-type": "application/json"}).status_code == 422
    assert client.post("/v1/classify", json={"text": "   "}).status_code == 422
    big = client.post("/v1/classify", files={"file": ("big.wav", b"\0" * (2 << 20), "audio/wav")})
    assert big.status_code == 413 and "limit" in big.json()["detail"]


def test_api_key(keyed):
    assert keyed.get("/healthz").status_code == 200
    assert keyed.post("/v1/classify", json={"text": "hello"}).status_code == 401
    assert keyed.post("/v1/classify", json={"text": "hello"}, headers={"x-api-key": "wrong"}).status_code == 401
    assert keyed.post("/v1/classify", json={"text": "hello"}, headers={"x-api-key": "s3cret-key-for-tests"}).status_code == 200
    bearer = keyed.post("/v1/classify", json={"text": "hello"}, headers={"authorization": "Bearer s3cret-key-for-tests"})
    assert bearer.status_code == 200
