import csv
import json

from sklearn.metrics import f1_score

from callsort import evaluate, load_model, read_calls
from callsort.models.evaluate import classification_metrics

LABELS = ["Missed Call", "Other", "Voicemail - Lead"]


def test_metrics_match_scikit_learn():
    truth = ["Missed Call", "Other", "Other", "Voicemail - Lead", "Missed Call"]
    pred = ["Missed Call", "Missed Call", "Other", "Voicemail - Lead", "Other"]
    m = classification_metrics(truth, pred, LABELS)
    assert m["accuracy"] == 0.6
    assert m["macro_f1"] == f1_score(truth, pred, average="macro")
    assert m["confusion_matrix"] == [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert m["per_class"]["Voicemail - Lead"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    for key in ("weighted_f1", "macro_precision", "macro_recall", "labels"):
        assert key in m


def test_report_folder(tfidf_dir, sample_test_csv, tmp_path):
    model = load_model(tfidf_dir)
    table = read_calls(sample_test_csv)
    metrics = evaluate(model, table, tmp_path / "report")
    files = {p.name for p in (tmp_path / "report").iterdir()}
    assert files == {"metrics.json", "confusion_matrix.png", "per_class_f1.png", "reliability.png",
                     "classification_report.txt", "errors.csv"}
    confidence = metrics["confidence"]
    assert 0 <= confidence["coverage_at_95"] <= confidence["coverage_at_90"] <= 1 and 0 <= confidence["ece"] <= 1
    assert confidence["review_below"] == model.review_below and 0 <= confidence["auto_share"] <= 1
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert saved["macro_f1"] == metrics["macro_f1"] and len(saved["confusion_matrix"]) == len(model.labels)
    errors = list(csv.DictReader(open(tmp_path / "report" / "errors.csv")))
    assert len(errors) == round(metrics["n"] * (1 - metrics["accuracy"]))
    for row in errors:
        assert row["true_label"] != row["predicted_label"] and 0 < float(row["confidence"]) <= 1
    for plot in ("confusion_matrix.png", "reliability.png"):
        assert (tmp_path / "report" / plot).read_bytes()[:4] == b"\x89PNG"
