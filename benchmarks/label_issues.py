"""Tags that disagree, on the real calls: how many of the 580 tuning calls `train --label-issues` flags, and
what training on all of them, without the suspects, or with the suspects relabelled by the suggestion does to
macro-F1 on the fixed test part (tf-idf; the suspects are found on the tuning part only).
Writes results/label_issues.{json,md}.

    python label_issues.py
"""

from __future__ import annotations

import json

from accuracy import split
from common import RESULTS, real_calls

import callsort
from callsort.models.evaluate import classification_metrics
from callsort.models.label_issues import label_issues


def main() -> None:
    table = real_calls()
    tune, test = split(table)
    tuning, testing = table.subset(tune), table.subset(test)
    suspects = label_issues(tuning)
    flagged = {s["source"]: s["suggested"] for s in suspects}
    keep = [i for i, s in enumerate(tuning.sources) if s not in flagged]
    relabelled = tuning.subset(list(range(len(tuning))))
    relabelled.labels = [flagged.get(s, label) for s, label in zip(tuning.sources, tuning.labels, strict=False)]
    result = {"suspects": len(suspects), "of": len(tuning)}
    for name, data in (("all calls", tuning), ("without the suspects", tuning.subset(keep)),
                       ("suspects relabelled", relabelled)):
        model = callsort.train(data, callsort.TrainConfig(model="tfidf"), progress=False).model
        predicted = [p.label for p in model.predict(testing.texts)]
        result[name] = round(classification_metrics(testing.labels, predicted, model.labels)["macro_f1"], 4)
    (RESULTS / "label_issues.json").write_text(json.dumps(result, indent=2))
    lines = ["# Tags that disagree (tf-idf, fixed test part)", "",
             f"{result['suspects']} of {result['of']} tuning calls flagged.", "",
             "| trained on | test macro-F1 |", "|---|---:|"]
    lines += [f"| {name} | {result[name]:.3f} |" for name in ("all calls", "without the suspects", "suspects relabelled")]
    (RESULTS / "label_issues.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
