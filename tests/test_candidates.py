"""The learning policy (models/candidates.py): every label teaches the candidate, and the check is paired —
the candidate's out-of-fold predictions against the active model's data refitted on the same folds."""

from callsort.data import CallTable
from callsort.models import candidates
from callsort.models.candidates import Check, better_or_equal, learnable, score


def test_a_candidate_learns_every_label_and_is_checked_on_every_one_out_of_fold(sample_table):
    people = sample_table.subset(range(40))
    keys = [f"call-{i}" for i in range(40)]
    first = candidates.train_and_check(None, people, keys, None, None)
    assert first.theirs is None and first.mine.calls == 40  # no active model: nothing to compare with
    assert first.model.info.training["data"]["train_calls"] == 40  # no label kept back
    assert first.learned == dict(zip(keys, people.labels, strict=True))
    assert first.mine.low <= first.mine.macro_f1 <= first.mine.high

    more = sample_table.subset(range(len(sample_table)))
    all_keys = [f"call-{i}" for i in range(len(sample_table))]
    second = candidates.train_and_check(None, more, all_keys, first.model, first.learned)
    assert second.mine.calls == second.theirs.calls == len(sample_table)  # the same calls, paired
    assert better_or_equal(second.mine, second.theirs) == (second.mine.macro_f1 >= second.theirs.macro_f1)


def test_the_active_data_is_refitted_at_the_labels_it_learned(sample_table):
    """A call relabelled since the active model learned it is refitted at its old label: the active model's
    data, not today's labels."""
    table = sample_table.subset(range(32))
    keys = [str(i) for i in range(32)]
    other = sorted(set(table.labels))
    learned = {key: other[0] for key in keys}  # the active model learned one category for every call
    from callsort.models.train import train

    result = train(table, progress=False)
    said = candidates.refitted(type(result.model), table, 0, keys, learned, result.folds, None)
    assert said == [other[0]] * 32  # one category learned: it is all it can say


def test_a_model_that_did_not_record_its_data_is_scored_on_the_calls_it_did_not_learn(sample_table):
    people = sample_table.subset(range(30))
    keys = [str(i) for i in range(30)]
    active = candidates.train_and_check(None, people.subset(range(20)), keys[:20], None, None).model
    said = candidates.as_it_is(active, people, keys, {k: "x" for k in keys[:20]})
    assert said[:20] == [None] * 20 and all(s is not None for s in said[20:])


def test_scores_and_the_activation_rule():
    check = score(["a", "a", "b", "b"], [["a", "a", "b", None]])  # a call without a prediction is left out
    assert check.calls == 3 and check.macro_f1 == 1.0
    assert score(["a"], [[None]]) == Check(calls=0)
    two_rounds = score(["a", "a", "b", "b"], [["a", "a", "b", "b"], ["a", "b", "b", "b"]])
    assert two_rounds.macro_f1 == round((1.0 + (2 / 3 + 0.8) / 2) / 2, 4)  # the mean of the rounds
    assert better_or_equal(Check(0.5), None)  # no active model: the first candidate goes in
    assert better_or_equal(Check(0.5), Check(0.5)) and not better_or_equal(Check(0.49), Check(0.5))
    assert not better_or_equal(Check(), Check(0.5))  # nothing says it is not worse: it waits
    assert "at least 2 categories" in learnable(CallTable(["x", "y"], ["1", "2"], ["a", "a"]))
    assert "two calls" in learnable(CallTable(["x", "y"], ["1", "2"], ["a", "b"]))
    assert learnable(CallTable(["x", "y", "z"], ["1", "2", "3"], ["a", "b", "b"])) == ""


def test_the_bootstraps_macro_f1_is_scikit_learns():
    import numpy as np
    from sklearn.metrics import f1_score

    from callsort.models.candidates import _macro_f1

    rng = np.random.default_rng(1)
    for _ in range(200):
        right, said = rng.integers(0, 5, 30), rng.integers(0, 6, 30)
        expected = f1_score(right, said, labels=sorted(set(right)), average="macro", zero_division=0)
        assert abs(_macro_f1(right, said, 6) - expected) < 1e-12
