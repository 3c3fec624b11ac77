"""Provides `sdconsole classifier train | predict | eval`."""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from sdconsole.cli.common import TextFormat, err_console, handle_errors, print_json, state
from sdconsole.i18n import N_, _

app = typer.Typer(
    help="The request classifier: train it on resolved tickets, try it, evaluate it.",
    no_args_is_help=True,
)

ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Model file (.npz); default: classifier.npz in the data folder.",
        show_default=False,
    ),
]
FormatOption = Annotated[TextFormat, typer.Option("--format", help="text or json.")]


@app.command("train")
@handle_errors
def train(
    ctx: typer.Context,
    model: ModelOption = None,
    limit: Annotated[
        int | None, typer.Option(help="Only the newest N resolved tickets.", min=10)
    ] = None,
    output_format: FormatOption = TextFormat.TEXT,
) -> None:
    """Train the classifier on the store's resolved tickets and save it (no pickles)."""
    from sdconsole.classifier.model import TextModel
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.services.classifier import model_path, training_set

    path = model_path(model)
    data = training_set(state(ctx).store(), limit=limit)
    if len(set(data.labels)) < 2:
        raise InvalidInput(
            N_(
                "Too few resolved tickets with a category to train on ({count}); the classifier "
                "keeps using the catalogue's keywords."
            ),
            count=len(data.labels),
        )
    started = time.perf_counter()
    trained = TextModel.train(data.texts, data.labels)
    seconds = time.perf_counter() - started
    trained.meta.update(
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tickets=len(data.labels),
        categories=len(trained.classes),
        train_seconds=round(seconds, 2),
        left_out=data.rare,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    trained.save(partial)
    partial.replace(path)  # a running intake never reads half a file
    summary = {
        "model": str(path),
        "tickets": len(data.labels),
        "categories": len(trained.classes),
        "left_out_categories": len(data.rare),
        "train_seconds": round(seconds, 2),
    }
    if output_format is TextFormat.JSON:
        print_json(summary)
        return
    err_console.print(
        _(
            "Trained on {tickets} tickets in {categories} categories in {seconds} s; saved to "
            "{path}."
        ).format(
            tickets=len(data.labels),
            categories=len(trained.classes),
            seconds=f"{seconds:.1f}",
            path=path,
        ),
        markup=False,
    )
    if data.rare:
        err_console.print(
            _("{count} categories have too few tickets and were left out.").format(
                count=len(data.rare)
            ),
            markup=False,
        )


@app.command("predict")
@handle_errors
def predict(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The request's text (subject and body).")],
    model: ModelOption = None,
    top: Annotated[int, typer.Option(help="How many categories.", min=1, max=20)] = 3,
    output_format: FormatOption = TextFormat.TEXT,
) -> None:
    """The most likely categories of a text, with probabilities.

    Uses the trained model when there is one, else the packaged catalogue's keywords.
    """
    from sdconsole.services.classifier import model_path, trained_classifier

    path = model_path(model or state(ctx).settings.classifier_model)
    classifier = trained_classifier(path)
    source = "model"
    if classifier is None:
        if model is not None:
            from sdconsole.domain.errors import NotFound

            raise NotFound(N_("No readable model at {path}."), path=str(path))
        from sdconsole.classifier import KeywordClassifier
        from sdconsole.services.catalogue import default_catalogue

        catalogue = default_catalogue()
        classifier = KeywordClassifier.from_rows(
            (node.code, node.keywords, node.parent) for node in catalogue.nodes
        )
        source = "keywords"
    started = time.perf_counter()
    suggestions = classifier.classify(text, top=top)
    elapsed = (time.perf_counter() - started) * 1000
    rows = [{"category": s.code, "probability": s.confidence} for s in suggestions]
    if output_format is TextFormat.JSON:
        print_json({"classifier": source, "predict_ms": round(elapsed, 2), "top": rows})
        return
    if not rows:
        err_console.print(_("No category matches this text."), markup=False)
    for row in rows:
        typer.echo(f"{row['probability']:.3f}  {row['category']}")


@app.command("eval")
@handle_errors
def evaluate(
    data: Annotated[
        Path, typer.Option("--data", help="A CSV file (UTF-8; .gz read as gzip).", exists=True)
    ],
    text_column: Annotated[str, typer.Option("--text", help="The column with the text.")],
    label_column: Annotated[str, typer.Option("--label", help="The column with the category.")],
    folds: Annotated[int, typer.Option(help="Cross-validation folds.", min=2, max=20)] = 5,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.", min=10)] = None,
    baseline: Annotated[
        bool, typer.Option(help="Also run plain TF-IDF + linear SVM on the same folds.")
    ] = True,
    output_format: FormatOption = TextFormat.TEXT,
) -> None:
    """Cross-validate the classifier on a labelled CSV: accuracy, macro-F1, per class, the most
    confused pairs, train and predict times."""
    from sdconsole.classifier.evaluate import evaluate as run
    from sdconsole.domain.errors import InvalidInput

    texts, labels = _read_labelled(data, text_column, label_column, limit)
    if len(set(labels)) < 2:
        raise InvalidInput(N_("The file has fewer than two categories."))
    results = run(texts, labels, folds=folds, baseline=baseline)
    report: dict[str, Any] = {
        "data": data.name,
        "rows": len(texts),
        "classes": len(set(labels)),
        "folds": folds,
        "models": [r.as_json() for r in results],
    }
    if output_format is TextFormat.JSON:
        print_json(report)
        return
    typer.echo(
        _("{rows} texts, {classes} categories, {folds} folds").format(
            rows=len(texts), classes=len(set(labels)), folds=folds
        )
    )
    for result in results:
        typer.echo(
            f"{result.name:<10} "
            + _(
                "accuracy {accuracy:.3f}  macro-F1 {f1:.3f}  "
                "train {train:.1f} s  predict {ms:.2f} ms"
            ).format(
                accuracy=result.accuracy,
                f1=result.macro_f1,
                train=result.train_seconds,
                ms=result.predict_ms,
            )
        )
    best = results[0]
    typer.echo(_("Most confused (true → predicted):"))
    for true, predicted, count in best.confused[:5]:
        typer.echo(f"  {count:>5}  {true} → {predicted}")


def _read_labelled(
    path: Path, text_column: str, label_column: str, limit: int | None
) -> tuple[list[str], list[str]]:
    import gzip

    from sdconsole.domain.errors import InvalidInput

    opener: Any = gzip.open if path.suffix == ".gz" else open
    texts: list[str] = []
    labels: list[str] = []
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in columns:
                raise InvalidInput(
                    N_("{path} has no column {column}; it has: {columns}."),
                    path=path.name,
                    column=column,
                    columns=", ".join(columns),
                )
        for row in reader:
            label = (row.get(label_column) or "").strip()
            text = row.get(text_column) or ""
            if label and text.strip():
                texts.append(text)
                labels.append(label)
            if limit is not None and len(texts) >= limit:
                break
    return texts, labels
