"""MLflow tracking for evaluations, benchmarks and training runs (local sqlite store by default)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from notenlp.config import Settings, redacted_url

log = logging.getLogger(__name__)
_exported: str | None = None  # the MLFLOW_TRACKING_URI this process set (mlflow.set_tracking_uri exports it)


def configure_mlflow(settings: Settings | None = None):
    """Point MLflow at the configured tracking URI; returns the mlflow module."""
    import mlflow

    global _exported
    settings = settings or Settings.from_env()
    # Settings only (NOTENLP_MLFLOW_TRACKING_URI): mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI, so
    # reading that variable would carry one store's URI into the next configuration of this process. A value
    # this process did not set is someone's choice that is not followed: said once, before it is overwritten.
    uri = settings.mlflow_tracking_uri
    outside = os.environ.get("MLFLOW_TRACKING_URI")
    if outside and outside not in (uri, _exported):
        log.warning("MLFLOW_TRACKING_URI (%s) is not read by notenlp; using %s: set NOTENLP_MLFLOW_TRACKING_URI "
                    "to choose the store", redacted_url(outside), redacted_url(uri))
    _exported = uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow


def ensure_experiment(name: str, settings: Settings | None = None) -> str:
    mlflow = configure_mlflow(settings)
    settings = settings or Settings.from_env()
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        if settings.mlflow_tracking_uri.startswith(("http://", "https://")):
            # A shared tracking server keeps artifacts where it is configured to (mlflow server
            # --artifacts-destination s3://... or a local folder, proxied): every host reaches them through it.
            return mlflow.create_experiment(name)
        artifacts = Path(settings.mlflow_artifacts) / name
        artifacts.mkdir(parents=True, exist_ok=True)
        return mlflow.create_experiment(name, artifact_location=artifacts.resolve().as_uri())
    return experiment.experiment_id


def log_run(
    experiment: str,
    run_name: str,
    *,
    metrics: Mapping[str, float],
    params: Mapping[str, Any] | None = None,
    tables: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> str:
    """Log one evaluation/benchmark run; ``tables`` are JSON-serialisable artifacts. Returns the run id.

    Never pass note text or PHI here: everything logged lands in the MLflow store.
    """
    mlflow = configure_mlflow(settings)
    experiment_id = ensure_experiment(experiment, settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        if params:
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        clean = {k.replace("@", "_at_"): float(v) for k, v in metrics.items() if v is not None}
        if clean:
            mlflow.log_metrics(clean)
        for name, table in (tables or {}).items():
            mlflow.log_text(json.dumps(table, indent=2, default=str), f"{name}.json")
        log.info("logged %d metrics to MLflow experiment %r (run %s)", len(clean), experiment, run.info.run_id)
        return run.info.run_id
