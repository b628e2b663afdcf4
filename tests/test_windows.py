import numpy as np

from callsort import load_model
from callsort.models.windows import encode_windows, pool_windows


def test_windows_cover_the_whole_call(transformer_dir):
    tokenizer = load_model(transformer_dir).encoder.tokenizer
    text = " ".join(f"word{i}" for i in range(400))
    windows = encode_windows(tokenizer, [text, "short call"], max_length=48, stride=8)
    first_call = [ids for ids, c in zip(windows["input_ids"], windows["call_index"], strict=False) if c == 0]
    assert len(first_call) > 5 and windows["call_index"].count(1) == 1
    # the last window ends with the call's last token: nothing was cut off
    last_token = tokenizer(text)["input_ids"][-2]  # before [SEP]
    assert first_call[-1][-2] == last_token


def test_pool_windows_averages_per_call():
    logits = np.array([[1.0, 0.0], [3.0, 2.0], [0.0, 5.0]])
    pooled = pool_windows(logits, [0, 0, 1], 2)
    np.testing.assert_allclose(pooled, [[2.0, 1.0], [0.0, 5.0]])


def test_head_and_tail_keep_both_ends_of_a_long_call(transformer_dir):
    tokenizer = load_model(transformer_dir).encoder.tokenizer
    text = " ".join(f"word{i}" for i in range(400))
    windows = encode_windows(tokenizer, [text, "short call"], max_length=64, stride=8, view="head_tail")
    assert windows["call_index"] == [0, 1] and len(windows["input_ids"][0]) == 64
    tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert windows["input_ids"][0][1:32] == tokens[:31] and windows["input_ids"][0][32:-1] == tokens[-31:]
    assert windows["input_ids"][1] == tokenizer("short call")["input_ids"]
