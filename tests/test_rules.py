"""The questions behind each label (insights/rules.py): is it a lead, booked, an existing customer — in every
row, after a correction, and scored apart by evaluate."""

import pytest

from callsort.insights.rules import LeadRules


def test_questions_are_marginals_of_the_probabilities():
    rules = LeadRules()
    q = rules.questions({"New Customer - Lead Booked": 0.5, "Existing Customer - Lead Not Booked": 0.3, "Other": 0.2})
    assert q == {"p_lead": 0.8, "p_booked": 0.625, "p_existing": 0.375}
    assert rules.questions({"Missed Call": 1.0}) == {"p_lead": 0.0, "p_booked": None, "p_existing": None}
    assert rules.questions({}) == {"p_lead": None, "p_booked": None, "p_existing": None}
    narrow = LeadRules(lead_labels=["New Customer - Lead Booked"])
    assert narrow.questions({"New Customer - Lead Booked": 0.4, "Existing Customer - Lead Booked": 0.6})["p_lead"] == 0.4


def test_every_row_and_a_corrected_one_carry_them(tfidf_dir, sample_table):
    from callsort import classify_calls
    from callsort.jobs.corrections import corrected_row

    row = next(classify_calls(sample_table.subset([0]), tfidf_dir)).to_dict()
    assert row["p_lead"] == pytest.approx(sum(p for k, p in row["probabilities"].items() if "Lead" in k), abs=1e-3)
    fixed = corrected_row(row, {"label": "Existing Customer - Lead Booked", "reason": None})
    assert (fixed["p_lead"], fixed["p_booked"], fixed["p_existing"]) == (1.0, 1.0, 1.0)


def test_evaluate_scores_each_question(tfidf_dir, sample_test_csv, tmp_path):
    import json

    from conftest import run_cli

    done = run_cli("evaluate", sample_test_csv, "--model", tfidf_dir, "--out", tmp_path / "ev", "--json")
    questions = json.loads(done.stdout)["questions"]
    assert set(questions) == {"lead", "booked", "existing"}
    assert questions["lead"]["n"] == 24 and 0 < questions["booked"]["n"] < 24
    assert all(0 <= q["accuracy"] <= 1 and 0 <= q["brier"] <= 1 for q in questions.values())
