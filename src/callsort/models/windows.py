"""Whole calls as overlapping token windows: how the encoder reads a call of any length, in training and use."""

from __future__ import annotations

import numpy as np


def encode_windows(tokenizer, texts: list[str], max_length: int, stride: int, view: str = "windows") -> dict:
    """Tokenise whole calls into windows; `call_index[w]` is the call that window w belongs to.

    view="windows": overlapping windows covering the whole call (nothing is cut; a call's logits are the mean
    of its windows'); view="head_tail": one window per call, its first and last (max_length - 2) / 2 tokens.
    """
    if view == "head_tail":
        return _head_and_tail(tokenizer, texts, max_length)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length, stride=stride,
                        return_overflowing_tokens=True, padding=False)
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
            "call_index": list(encoded["overflow_to_sample_mapping"])}


def _head_and_tail(tokenizer, texts: list[str], max_length: int) -> dict:
    keep = max_length - 2  # room for [CLS] and [SEP] (<s> and </s> in RoBERTa-style vocabularies)
    first = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    last = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    ids = []
    for tokens in tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]:  # cut below
        if len(tokens) > keep:
            tokens = tokens[:keep // 2] + tokens[len(tokens) - (keep - keep // 2):]
        ids.append([first, *tokens, last])
    return {"input_ids": ids, "attention_mask": [[1] * len(i) for i in ids], "call_index": list(range(len(ids)))}


def padded_batches(tokenizer, windows: dict, batch_size: int):
    """Yield (window ids, padded tensors) over `encode_windows` output, longest first so each batch pads little."""
    order = sorted(range(len(windows["input_ids"])), key=lambda i: -len(windows["input_ids"][i]))
    for start in range(0, len(order), batch_size):
        ids = order[start:start + batch_size]
        yield ids, tokenizer.pad({"input_ids": [windows["input_ids"][i] for i in ids],
                                  "attention_mask": [windows["attention_mask"][i] for i in ids]}, return_tensors="pt")


def pool_windows(window_logits: np.ndarray, call_index, n_calls: int) -> np.ndarray:
    """Average the logits of each call's windows: (windows, classes) -> (calls, classes)."""
    call_index = np.asarray(call_index)
    sums = np.zeros((n_calls, window_logits.shape[1]), dtype=np.float64)
    np.add.at(sums, call_index, window_logits)
    counts = np.bincount(call_index, minlength=n_calls)[:, None]
    return sums / np.maximum(counts, 1)
