import csv

from callsort.demo import run_demo


def test_demo_end_to_end(tmp_path, tiny_config):
    summary = run_demo(tmp_path / "demo", config=tiny_config, progress=False)
    assert (tmp_path / "demo" / "model" / "report" / "confusion_matrix.png").is_file()
    rows = list(csv.DictReader(open(summary["predictions"])))
    assert len(rows) == 5 and all(r["label"] and not r["error"] for r in rows)
    assert summary["test_metrics"]["n"] == 24 and 0 <= summary["test_confidence"]["coverage_at_90"] <= 1
    assert (tmp_path / "demo" / "model" / "report" / "reliability.png").is_file()
    audio = list(csv.DictReader(open(summary["recordings"])))
    assert len(audio) == 2 and all(r["label"] and not r["error"] for r in audio)
    assert audio[0]["transcript"].startswith("Agent: ") and "Caller: " in audio[0]["transcript"]
