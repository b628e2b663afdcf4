"""Estimated shares (insights/quantify.py): PACC recovers a mix the classifier confuses, its interval covers
it, checked calls count as they are, and a trained model folder carries what the estimates need."""

import numpy as np

from callsort import TrainConfig, load_model, train
from callsort.insights.quantify import Quantifier, adjusted_shares

LABELS = ["booked", "lost", "other"]
# a classifier that gives 30 % of its probability to the wrong categories
CONFUSED = np.array([[0.7, 0.15, 0.15], [0.15, 0.7, 0.15], [0.15, 0.15, 0.7]])


def calls_of(truth: np.ndarray, rng) -> np.ndarray:
    noisy = CONFUSED[truth] + rng.normal(0, 0.05, (len(truth), 3))
    return np.clip(noisy, 0.01, None) / np.clip(noisy, 0.01, None).sum(axis=1, keepdims=True)


def test_pacc_undoes_the_confusion_that_counting_keeps():
    rng = np.random.default_rng(0)
    seen = rng.integers(0, 3, 300)  # the calls the model did not learn from, at training
    quantifier = Quantifier.fit(calls_of(seen, rng), [LABELS[t] for t in seen], LABELS)
    week = np.array([0] * 80 + [1] * 10 + [2] * 10)  # a week far from the training mix

    def booked_share(counts):
        return counts[0] / counts.sum()

    probs = calls_of(week, rng)
    value, low, high = quantifier.estimate(probs, np.zeros(3), booked_share)
    counted = np.mean(probs.argmax(axis=1) == 0)
    summed = probs[:, 0].mean()
    assert abs(value - 0.8) < 0.05 and low <= 0.8 <= high and high - low < 0.3
    assert abs(summed - 0.8) > 0.2 and abs(value - 0.8) < abs(summed - 0.8)  # probabilities alone are pulled in
    assert counted >= 0.75  # here counting is good too: the point is the estimate stays right as mixes move
    checked = np.array([0.0, 0.0, 10.0])  # ten calls a person labelled "other": counted as they are
    with_checked, _, _ = quantifier.estimate(probs, checked, booked_share)
    assert abs(with_checked - value * 100 / 110) < 0.02


def test_adjusted_shares_stay_on_the_simplex():
    shares = adjusted_shares(np.array([0.9, 0.05, 0.05]), CONFUSED.T)
    assert np.all(shares >= 0) and abs(shares.sum() - 1) < 1e-9 and shares.argmax() == 0


def test_a_trained_model_folder_carries_its_quantifier(sample_table, tmp_path):
    model = train(sample_table, TrainConfig(model="tfidf"), progress=False).model
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert (tmp_path / "m" / "quantifier.json").is_file() and loaded.quantifier.labels == loaded.labels
    assert loaded.quantifier.probs.shape == (len(sample_table), len(loaded.labels))  # out of fold: every call
    assert Quantifier.load(tmp_path) is None  # a folder without one: the report counts, and says so


def test_rows_of_another_model_are_counted_and_the_report_says_why():
    from callsort.insights.report import summarise

    rng = np.random.default_rng(1)
    seen = rng.integers(0, 3, 300)
    labels = ["New Customer - Lead Booked", "New Customer - Lead Not Booked", "Other"]
    quantifier = Quantifier.fit(calls_of(seen, rng), [labels[t] for t in seen], labels)
    rows = [{"source": f"{i}.mp3", "label": labels[0], "probabilities": dict(zip(labels, [0.8, 0.1, 0.1], strict=False)),
             "model": "old@1"} for i in range(20)]
    other = summarise(rows, quantifier=quantifier, model="new@2")
    assert other["booking_rate_interval"] is None and "other model" in other["estimated_by"]
    same = summarise([{**r, "model": "new@2"} for r in rows], quantifier=quantifier, model="new@2")
    assert same["booking_rate_interval"] is not None and "PACC" in same["estimated_by"]


def test_the_change_between_two_weeks_is_estimated_with_its_interval():
    """Week one: 30 % of leads booked; week two: 70 %. The change and its paired interval say so; a single
    week has none."""
    from callsort.insights.report import summarise

    rng = np.random.default_rng(2)
    labels = ["New Customer - Lead Booked", "New Customer - Lead Not Booked", "Other"]
    seen = rng.integers(0, 3, 400)
    quantifier = Quantifier.fit(calls_of(seen, rng), [labels[t] for t in seen], labels)

    def week(day: str, booked: int, lost: int) -> list[dict]:
        truth = np.array([0] * booked + [1] * lost + [2] * 20)
        return [{"source": f"{day}-{i}.mp3", "label": labels[p.argmax()], "model": "m@1",
                 "probabilities": dict(zip(labels, p, strict=False)), "meta": {"datetime": f"{day} {8 + i % 9:02d}:15"}}
                for i, p in enumerate(calls_of(truth, rng))]

    rows = week("2026-11-17", 30, 70) + week("2026-11-25", 70, 30)
    s = summarise(rows, quantifier=quantifier, model="m@1")
    assert s["period"] == {"first": "2026-11-17 08:15", "last": "2026-11-25 16:15", "dated_calls": 240,
                           "unit": "week", "periods": 2}
    assert list(s["booking_by_period"]) == ["week of 2026-11-16", "week of 2026-11-23"]
    change = s["change"]
    assert (change["from"], change["to"]) == ("week of 2026-11-16", "week of 2026-11-23")
    low, high = change["interval"]
    assert abs(change["change"] - 0.4) < 0.12 and low < 0.4 < high and low > 0.1  # a real rise, and it says so
    assert summarise(rows[:120], quantifier=quantifier, model="m@1")["change"] is None
    by_month = summarise(rows, quantifier=quantifier, model="m@1", period="month")
    assert list(by_month["booking_by_period"]) == ["2026-11"] and by_month["change"] is None


def test_calls_the_customer_list_matched_count_on_their_side():
    """The confusion describes the model alone: a side the list made certain is not "corrected" back."""
    sides_labels = ["Existing Customer - Lead Booked", "New Customer - Lead Booked", "Other"]
    rng = np.random.default_rng(2)
    seen = rng.integers(0, 3, 300)
    quantifier = Quantifier.fit(calls_of(seen, rng), [sides_labels[t] for t in seen], sides_labels)
    week = np.array([0] * 40 + [2] * 10)  # 40 existing customers booked, 10 other calls
    probs = calls_of(week, rng)
    moved = probs.copy()  # what customers.with_customer leaves in a matched row: the New share on Existing
    moved[:40, 0], moved[:40, 1] = probs[:40, 0] + probs[:40, 1], 0.0
    sides = np.array(["existing"] * 40 + [""] * 10, dtype=object)
    counts = quantifier.expected(moved, np.zeros(3), sides)
    assert counts[1] < 1.0 and abs(counts[0] - 40) < 4 and abs(counts.sum() - 50) < 1e-6
    plain = quantifier.expected(moved, np.zeros(3))  # the same rows, sides ignored: PACC overshoots
    assert abs(plain[0] - 40) > abs(counts[0] - 40)
    value, low, high = quantifier.estimate(moved, np.zeros(3), lambda c: c[0] / c.sum(), sides=sides)
    assert low <= 0.8 <= high and abs(value - 0.8) < 0.08
