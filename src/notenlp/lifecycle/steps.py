"""The four steps of a model's life, each a call on a catalog name: train, evaluate, register, promote.

The CLI (``notenlp models``) and the Airflow DAG (``dags/notenlp_models.py``) both call these,
so a step behaves the same from a terminal and from the scheduler.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from notenlp.config import Settings
from notenlp.lifecycle.catalog import DEID_GOLD_PREFIX, get_spec, recipe_path
from notenlp.tracking import log_run

log = logging.getLogger(__name__)

TRAIN_METRICS_ENV = "NOTENLP_TRAIN_METRICS"  # a recipe may write a JSON object of metrics to this file
TRAINING_EXPERIMENT = "notenlp-models-training"
EVALUATION_EXPERIMENT = "notenlp-models-evaluation"


def train(name: str, *, extra_args: Sequence[str] = (), settings: Settings | None = None) -> dict[str, Any]:
    """Run the model's recipe (``models/<recipe>/train.py``) when it has one; returns what it reported.

    The recipe runs in a child Python process with this environment; it writes its trained files
    where the model's pipeline config points, and may write a JSON metrics object to
    ``$NOTENLP_TRAIN_METRICS``.
    """
    spec = get_spec(name)
    script = recipe_path(spec)
    if script is None:
        log.info("%s has no training recipe%s; nothing to train", spec.name,
                 f" ({spec.recipe}/train.py not found)" if spec.recipe else "")
        return {"name": spec.name, "trained": False, "metrics": {}}
    with tempfile.TemporaryDirectory(prefix="notenlp-train-") as scratch:
        metrics_file = Path(scratch) / "metrics.json"
        env = {**os.environ, TRAIN_METRICS_ENV: str(metrics_file)}
        log.info("training %s with %s", spec.name, script)
        subprocess.run([sys.executable, str(script), *extra_args], env=env, check=True)
        reported = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    metrics = {f"train.{k}": float(v) for k, v in reported.items() if isinstance(v, (int, float))}
    if metrics:
        log_run(TRAINING_EXPERIMENT, f"train {spec.name}", metrics=metrics, params={"recipe": script},
                settings=settings)
    return {"name": spec.name, "trained": True, "recipe": str(script), "metrics": metrics}


def evaluate(name: str, *, model_uri: str | None = None, gold: Iterable[str] | None = None,
             settings: Settings | None = None) -> dict[str, float]:
    """Score the model's pipeline config (or a logged model, by URI) on its gold sets; logged to MLflow."""
    from notenlp.lifecycle.evaluate import evaluate as score, load_gold_sets

    spec = get_spec(name)
    if model_uri:
        import mlflow.pyfunc

        from notenlp.tracking import configure_mlflow

        configure_mlflow(settings)
        predict = mlflow.pyfunc.load_model(model_uri).predict
    else:
        from notenlp.lifecycle.pyfunc import annotate_records
        from notenlp.pipeline import Pipeline

        pipeline = Pipeline.from_config(spec.config())

        def predict(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return annotate_records(pipeline, records)

    gold_names = list(gold if gold is not None else spec.gold)
    deid_gold = [g for g in gold_names if g.startswith(DEID_GOLD_PREFIX)]
    metrics = score(predict, load_gold_sets([g for g in gold_names if g not in deid_gold]),
                    gold_targets=spec.gold_targets)
    if deid_gold:
        metrics.update(_deid_benchmark_metrics(spec, deid_gold, model_uri))
    if metrics:
        log_run(EVALUATION_EXPERIMENT, f"evaluate {spec.name}", metrics=metrics,
                params={"model": model_uri or "pipeline config", "gold": ",".join(gold_names)}, settings=settings)
    return metrics


def _deid_benchmark_metrics(spec, gold_names: list[str], model_uri: str | None) -> dict[str, float]:
    """The realistic nursing-note benchmark's scores of the model's de-identifier (PHI spans are not part of
    the annotation records that ``predict`` returns, so the pipeline's ``deid`` component is scored itself)."""
    from notenlp.evaluation.deid_benchmark import gold_metrics
    from notenlp.pipeline import Pipeline

    if model_uri:
        log.warning("%s: the de-identification benchmark scores the pipeline config, not %s", spec.name, model_uri)
    pipeline = Pipeline.from_config(spec.config())
    deidentifier = next((c for _, c in pipeline.components if hasattr(c, "detect")), None)
    if deidentifier is None:
        log.warning("%s: no de-identifier in the pipeline; %s not scored", spec.name, ", ".join(gold_names))
        return {}
    metrics: dict[str, float] = {}
    for gold_name in gold_names:
        metrics.update(gold_metrics(deidentifier, gold_name))
    return metrics


def register(name: str, metrics: Mapping[str, float], *, model_dir: str | None = None,
             settings: Settings | None = None) -> str:
    """Register the model (its pipeline config packaged as a pyfunc, or a saved model folder) with its metrics."""
    from notenlp.lifecycle.registry import register as register_version
    from notenlp.pipeline import Pipeline

    spec = get_spec(name)
    config = spec.config()
    params = {"pipeline_fingerprint": Pipeline([], config).fingerprint(),
              "components": ",".join(c["name"] for c in config["components"]),
              "owns": ",".join(spec.owns), "gold": ",".join(spec.gold)}
    return register_version(spec.name, model_dir or config, metrics, params, settings=settings)


def promote(name: str, version: str, *, margin: float | None = None, force: bool = False,
            settings: Settings | None = None):
    """Apply the promotion gate with the catalog's tracked metrics and margin; returns the Decision."""
    from notenlp.lifecycle.registry import promote_if_better

    spec = get_spec(name)
    return promote_if_better(spec.name, version, margin=spec.margin if margin is None else margin,
                             tracked=spec.tracked, lower_is_better=spec.lower_is_better, force=force,
                             settings=settings)
