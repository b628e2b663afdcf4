"""The labelling order of a learning service (models/label_order.py), on the shipped sample calls."""

from callsort.models.label_order import review_order


def test_the_order_is_every_unlabelled_call_once(sample_table):
    labelled = [i % 5 == 0 for i in range(len(sample_table))]
    order = review_order(sample_table.texts, labelled)
    assert sorted(order) == [i for i, done in enumerate(labelled) if not done]


def test_the_first_calls_cover_more_categories_than_the_calls_as_they_came(sample_table):
    labels = sample_table.labels
    order = review_order(sample_table.texts, [False] * len(labels))
    first = 12
    assert len({labels[i] for i in order[:first]}) > len(set(labels[:first]))


def test_with_a_model_the_least_confident_of_each_group_comes_first(sample_table):
    confidence = [((i * 37) % 100) / 100 for i in range(len(sample_table))]
    order = review_order(sample_table.texts, [False] * len(sample_table), confidence)
    assert confidence[order[0]] <= sorted(confidence)[len(confidence) // 3]  # a low one, not the arrival order's
    assert order == review_order(sample_table.texts, [False] * len(sample_table), confidence)  # deterministic
