"""Redaction: personal data the ways speech recognition writes it, the agent's name kept, the cache never
holding what was removed, and redacted text in every output path."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL

from callsort import AsrConfig, RunNeeds
from callsort.data import CallTable
from callsort.errors import CallsortError, ConfigError
from callsort.pipeline import classify_calls

pytest.importorskip("presidio_analyzer")


@pytest.fixture(scope="module")
def redactor():
    from callsort.privacy.redact import Redactor

    return Redactor()


@pytest.mark.parametrize("said, kind", [
    ("my number is five five five, oh one four two", "PHONE"), ("call me at 330-208-3944", "PHONE"),
    ("my email is john at gmail dot com", "EMAIL"), ("it's j o h n at yahoo dot com", "EMAIL"),
    ("send it to laura.jenkins@outlook.com", "EMAIL"), ("I live at four two Elm Street", "ADDRESS"),
    ("the address is 1286 lakeview court", "ADDRESS"),
    ("the card is four one one one, one one one one, one one one one, one one one one", "CARD"),
    ("card 4111 1111 1111 1111 please", "CARD"), ("I was born on March 3rd, 1980", "DATE_OF_BIRTH"),
    ("my name is Patricia Gomez", "NAME")])
def test_spoken_forms(redactor, said, kind):
    redacted, spans = redactor.redact(said)
    assert f"[{kind}]" in redacted and not any(ch.isdigit() for ch in redacted), redacted


def test_what_is_kept(redactor):
    call = ("Thank you for calling Northside, this is Dana, how can I help you? The technician can come "
            "tomorrow between eight and ten, it's eighty nine dollars for two units.")
    assert redactor.redact(call)[0] == call  # the agent's name, times, prices and counts stay
    from callsort.privacy.redact import Redactor

    assert "[NAME]" in Redactor(agent_names=True).redact(call)[0]
    assert "Dana" in Redactor(entities=["PHONE"]).redact("this is Dana Smith, my number is 330-208-3944")[0]
    with pytest.raises(ConfigError, match="NOPE"):
        AsrConfig(redact=True, redact_entities="PHONE,NOPE")


def test_transcripts_and_the_cache(voicemail_call, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path / "cache"))
    redacted = next(RunNeeds.build(AsrConfig(redact=True)).transcriber.transcripts([str(voicemail_call)]))
    assert "[PHONE]" in redacted.transcript and "0142" not in redacted.transcript + redacted.text
    assert all("0142" not in s["text"] for s in redacted.segments)
    cached = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert cached and "0142" not in cached  # the cache holds only the redacted transcript
    plain = next(RunNeeds.build(AsrConfig()).transcriber.transcripts([str(voicemail_call)]))
    assert not plain.cached and "0142" in plain.text  # a run without --redact never gets redacted text
    again = next(RunNeeds.build(AsrConfig(redact=True)).transcriber.transcripts([str(voicemail_call)]))
    assert again.cached and again.transcript == redacted.transcript


def test_classification_reads_redacted_text(tfidf_dir, redactor):
    calls = CallTable(["hi, my number is 330-208-3944, please call me back"], ["t:1"])
    needs = RunNeeds(AsrConfig(redact=True), redactor=redactor)
    assert needs.redact_texts(calls).texts == ["hi, my number is [PHONE], please call me back"]
    row = next(classify_calls(calls, tfidf_dir, RunNeeds.for_calls(calls, AsrConfig(redact=True))))
    assert row.label and not row.error


def test_training_data_is_redacted_too(sample_csv, redactor):
    from callsort.pipeline import load_calls

    plain = load_calls(sample_csv)
    redacted = load_calls(sample_csv, asr=AsrConfig(redact=True))
    assert redacted.labels == plain.labels and redacted.texts != plain.texts
    assert sum("[" in t for t in redacted.texts) > len(redacted) / 4  # the sample callers give names, numbers


def test_service_returns_redacted_transcripts(tfidf_dir, voicemail_call):
    from fastapi.testclient import TestClient

    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    client = TestClient(create_app(tfidf_dir, ServeConfig(no_auth=True), AsrConfig(use_cache=False, redact=True)),
                        base_url=LOCAL)
    with open(voicemail_call, "rb") as f:
        body = client.post("/v1/classify", files={"file": ("vm.mp3", f)}).json()
    assert "[PHONE]" in body["transcript"] and "0142" not in json.dumps(body)


def test_redacted_audio_is_silent_where_the_spans_were(voicemail_call, tmp_path, monkeypatch):
    from callsort.privacy.silence import silenced_intervals
    from callsort.speech.audio import load_recording

    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path / "cache"))
    config = AsrConfig(redact=True, redact_audio=str(tmp_path / "out"))
    needs = RunNeeds.build(config)
    t = next(needs.transcriber.transcripts([str(voicemail_call)]))
    intervals = silenced_intervals(t.segments)
    assert intervals and "[PHONE]" in t.transcript
    assert all(w["word"] == "" for s in t.segments for w in s.get("words", []) if w.get("redacted"))
    original = load_recording(voicemail_call).channels
    written = tmp_path / "out" / needs.names.copy_name(voicemail_call)
    assert written.name.startswith("sample_call_voicemail.") and written.name.endswith(".redacted.wav")
    copy = load_recording(written).channels
    rate = 16000
    for channel, start, end in intervals:  # the caller's phone number and name: silence, on the caller's side
        a, b = int(start * rate) + 1, int(end * rate) - 1
        assert np.abs(copy[channel][a:b]).max() < 1e-3 and np.abs(original[channel][a:b]).max() > 0.05
    n = min(len(copy[1]), len(original[1]))
    kept = np.ones(n, bool)
    for _, start, end in intervals:
        kept[int(start * rate):int(end * rate) + 1] = False
    assert np.abs(copy[1][:n][kept] - original[1][:n][kept]).max() < 2e-3  # the rest untouched (16-bit)
    cached = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert "0142" not in cached and '"redacted": true' in cached
    written.unlink()
    again = next(needs.transcriber.transcripts([str(voicemail_call)]))  # from the cache: the copy again
    assert again.cached and written.is_file()
    with pytest.raises(ConfigError, match="needs --redact"):
        AsrConfig(redact_audio=str(tmp_path))


def test_review_page_gets_only_redacted_text_and_audio(tfidf_dir, voicemail_call, tmp_path):
    import time

    from fastapi.testclient import TestClient

    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "vm.mp3").write_bytes(voicemail_call.read_bytes())
    answers = {}
    for name, audio_dir in (("with copies", str(tmp_path / "copies")), ("without", None)):
        asr = AsrConfig(use_cache=False, redact=True, redact_audio=audio_dir)
        client = TestClient(create_app(tfidf_dir, ServeConfig(store=str(tmp_path / f"{len(answers)}.db"), no_auth=True), asr),
                            base_url=LOCAL)
        batch = client.post("/v1/batches", json={"folder": str(folder)}).json()["id"]
        while not (body := client.get(f"/v1/batches/{batch}").json())["finished"]:
            time.sleep(0.3)
        call = body["results"][0]["id"]
        answers[name] = (client.get(f"/v1/calls/{call}").json(), client.get(f"/v1/calls/{call}/audio"))
    detail, audio = answers["with copies"]
    assert "[PHONE]" in detail["result"]["transcript"] and "0142" not in json.dumps(detail)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"  # the silenced WAV copy, not the mp3
    assert answers["without"][1].status_code == 404  # no copy: the original is never played


def test_personal_data_in_file_names_is_replaced_where_shown(tfidf_dir, voicemail_call, tmp_path, monkeypatch):
    """A recording named after its caller: its rows, its error lines and its silenced copy say neither the
    name nor the number; the metadata join still uses the original name (it runs first)."""
    import shutil

    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path / "cache"))
    named = Path(shutil.copy(voicemail_call, tmp_path / "Robert_Johnson_555-867-5309.mp3"))
    (tmp_path / "Robert_Johnson_555-867-5310.mp3").write_bytes(b"not audio")
    meta = tmp_path / "meta.csv"
    meta.write_text(f"file,agent\n{named.name},Ann\n")
    needs = RunNeeds.build(AsrConfig(redact=True))
    shown = needs.names.shown_source(str(named))
    assert "Robert" not in shown and "867" not in shown and shown.endswith(".mp3") and str(tmp_path) in shown
    assert needs.names.shown_source("/data/calls.csv:96") == "/data/calls.csv:96"
    assert "Johnson" not in needs.names.copy_name(named) and needs.names.copy_name(named).endswith(".redacted.wav")
    from conftest import run_cli

    out = tmp_path / "p.jsonl"
    done = run_cli("predict", tmp_path, "--model", str(tfidf_dir), "--out", out, "--redact",
                   "--meta", meta, "-q", check_code=3)
    written = out.read_text()
    assert "Robert" not in written and "867" not in written and '"agent": "Ann"' in written
    assert "Robert" not in done.stdout + done.stderr


@pytest.mark.parametrize("name, shown", [
    ("Marguerite_Quillfeather_555-867-5309.txt", "[NAME]_[PHONE].txt"),  # issue 32: an uncommon name alone
    ("inbound_call_from_Zbigniew_Okonkwo.mp3", "inbound_call_from_[NAME].mp3"),
    ("inbound_voicemail_3.mp3", "inbound_voicemail_3.mp3"),  # words of phone systems' file names stay
    ("sample_03.wav", "sample_03.wav"),
])
def test_a_name_the_recognisers_catch_in_a_sentence_is_caught_in_a_file_name(redactor, name, shown):
    from callsort.privacy.names import DisplayNames

    assert DisplayNames(redactor).shown_name(name) == shown


def test_uploaded_transcripts_are_redacted_on_arrival_cells_as_fragments(redactor):
    from callsort.privacy.uploads import redacted_upload

    said = "Hi, this is Marguerite Quillfeather, call me back at 216-555-0143 about the furnace."
    assert redacted_upload("a.txt", said.encode(), redactor).decode() == "Hi, this is [NAME], call me back at [PHONE] about the furnace."
    table = redacted_upload("calls.csv", f'text,caller\n"{said}",Marguerite Quillfeather\n'.encode(), redactor).decode()
    assert "Quillfeather" not in table and "0143" not in table and "furnace" in table
    with pytest.raises(CallsortError, match=r"^a.txt: not valid utf-8"):
        redacted_upload("a.txt", said.encode("utf-16"), redactor)
