"""Time the classifier: training on the largest labelled sets, and predicting one ticket at a time.

Targets (DESIGN.md): predict under 5 ms a ticket; training on 50,000 tickets under 60 s. The sets
are read from ../shared/data (see each folder's SOURCE.md); a set that is absent is skipped.

    .venv/bin/python benchmarks/bench_classifier.py [--predictions 1000] [--json]

Training is what ``sdconsole classifier train`` does (temperature fitted on a held-out tenth,
then the model refitted on everything) on every text of the set. Prediction is
`TextModel.classify` on one text at a time (top 3 with probabilities), as intake calls it, over
the set's last N texts (what the model has seen does not change how long it takes).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdconsole.classifier.model import TextModel  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def spb() -> tuple[list[str], list[str]]:
    path = DATA / "appeals-spb-ru" / "appeals_spb.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["text"].strip() and r["category"]]
    return [r["text"] for r in rows], [r["category"] for r in rows]


def kursk() -> tuple[list[str], list[str]]:
    path = DATA / "appeals-kursk-ru" / "appeals_kursk.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["text"].strip() and r["topic"]]
    return [r["text"] for r in rows], [r["topic"] for r in rows]


def endava() -> tuple[list[str], list[str]]:
    path = DATA / "tickets-it-en-endava" / "all_tickets_processed_improved_v3.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Document"].strip()]
    return [r["Document"] for r in rows], [r["Topic_group"] for r in rows]


def spb_and_kursk() -> tuple[list[str], list[str]]:
    """Both Russian sets together: over 50,000 texts, 188 categories."""
    a_texts, a_labels = spb()
    b_texts, b_labels = kursk()
    return a_texts + b_texts, a_labels + [f"kursk:{label}" for label in b_labels]


SETS: dict[str, Callable[[], tuple[list[str], list[str]]]] = {
    "appeals-spb-ru": spb,
    "appeals-spb-ru + appeals-kursk-ru": spb_and_kursk,
    "tickets-it-en-endava": endava,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--predictions", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    for name, load in SETS.items():
        try:
            texts, labels = load()
        except FileNotFoundError:
            print(f"{name}: not present, skipped", file=sys.stderr)
            continue
        held = texts[-args.predictions :]
        started = time.perf_counter()
        model = TextModel.train(texts, labels)
        train_seconds = time.perf_counter() - started
        timings = []
        for text in held:
            started = time.perf_counter()
            model.classify(text)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        results.append(
            {
                "set": name,
                "train_texts": len(texts),
                "categories": len(model.classes),
                "train_seconds": round(train_seconds, 1),
                "predict_ms_median": round(statistics.median(timings), 2),
                "predict_ms_p95": round(timings[int(0.95 * (len(timings) - 1))], 2),
                "predictions": len(timings),
            }
        )
        print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr)
    report = {"machine": platform.processor() or platform.machine(), "results": results}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print("| set | train texts | categories | train s | predict ms (median / p95) |")
        print("|---|---:|---:|---:|---:|")
        for r in results:
            print(
                f"| {r['set']} | {r['train_texts']:,} | {r['categories']} | {r['train_seconds']} "
                f"| {r['predict_ms_median']} / {r['predict_ms_p95']} |"
            )
    slow = [r for r in results if r["predict_ms_median"] >= 5 or r["train_seconds"] >= 60]
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
