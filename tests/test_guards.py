"""Issue 32: one bad request never takes the service down — bounded JSON, cleaned text, refused folders, and
no temporary file left behind — through the real app with the real tf-idf model."""

import os
import tempfile

import pytest
from conftest import LOCAL, finished_batch
from fastapi.testclient import TestClient

KEY = "guards-admin-key-0123456789"


@pytest.fixture(scope="module")
def client(tfidf_dir, tmp_path_factory):
    from callsort.config import AsrConfig
    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    root = tmp_path_factory.mktemp("guards")
    config = ServeConfig(store=str(root / "jobs.db"), api_key=KEY, max_texts=5, max_text_chars=200)
    return TestClient(create_app(tfidf_dir, config, AsrConfig(use_cache=False)), base_url=LOCAL,
                      headers={"x-api-key": KEY})


def test_deep_json_is_a_422_even_before_sign_in(client):
    deep = "[" * 1000 + "]" * 1000
    for path in ("/v1/classify", "/v1/session", "/v1/batches"):
        answer = client.post(path, content=deep, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and "nested more than" in answer.json()["detail"], (path, answer.text)
    text = '{"text": "' + "[" * 2000 + ' my AC is out"}'  # brackets inside a string are text, not nesting
    assert client.post("/v1/classify", content=text, headers={"content-type": "application/json"}).status_code == 413


def test_a_lone_surrogate_is_replaced_not_a_500(client):
    body = '{"text": "my furnace \\ud800 is out, can you come?"}'
    answer = client.post("/v1/classify", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200 and "\ufffd" in answer.json()["transcript"]
    answer = client.post("/v1/session", content='{"key": "\\udfff"}', headers={"content-type": "application/json"})
    assert answer.status_code == 401


def test_rows_and_text_length_are_bounded_naming_the_limit(client):
    six = client.post("/v1/classify/batch", json={"texts": ["my AC is out"] * 6})
    assert six.status_code == 413 and "limit of 5 (--max-texts)" in six.json()["detail"]
    long = client.post("/v1/classify", json={"text": "my AC is out " * 40})
    assert long.status_code == 413 and "limit of 200 (--max-text-chars)" in long.json()["detail"]
    assert client.post("/v1/classify/batch", json={"texts": ["my AC is out"] * 5}).status_code == 200


def test_refused_folders_are_422(client):
    for folder, said in (("/" + "x" * 300, "File name too long"), ("/", "root is no folder of calls")):
        answer = client.post("/v1/batches", json={"folder": folder})
        assert answer.status_code == 422 and said in answer.json()["detail"], answer.text


def test_a_refused_upload_leaves_no_temporary_file(client):
    before = set(os.listdir(tempfile.gettempdir()))
    answer = client.post("/v1/classify", files={"file": ("notes.txt", b"\xff\xfe not UTF-8 \xff")})
    assert answer.status_code == 422
    left = {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("callsort-")}
    assert left == set()


def test_a_reviewers_reason_is_kept_redacted_under_redact(tfidf_dir, tmp_path):
    """Issue 32: under --redact, the reason a reviewer types is stored redacted, like the transcripts."""
    pytest.importorskip("presidio_analyzer")
    from callsort.config import AsrConfig
    from callsort.jobs.corrections import Corrections
    from callsort.service.app import Service, build_app
    from callsort.service_config import ServeConfig

    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "a.txt").write_text("Hi, my AC is out, can you come tomorrow? Yes, 9 am, you're booked.")
    service = Service(tfidf_dir, ServeConfig(store=str(tmp_path / "jobs.db"), api_key=KEY, review_below=1.01),
                      AsrConfig(use_cache=False, redact=True), recordings=False)
    client = TestClient(build_app(service), base_url=LOCAL, headers={"x-api-key": KEY})
    batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
    body = finished_batch(client, batch["id"])
    call = body["results"][0]["id"]
    reason = "she said her name is Marguerite Quillfeather, to be called back at 555-201-3344"
    saved = client.post(f"/v1/calls/{call}/correction", json={"label": "Other", "reason": reason})
    assert saved.status_code == 200
    stored = Corrections(service.work.db).all(history=True)[-1]["reason"]
    assert "Quillfeather" not in stored and "3344" not in stored and "called back" in stored
