"""MLflow Model Registry: register versions, gate the ``champion`` alias, resolve champions for the nightly run.

The gate: a candidate becomes champion when no tracked metric drops by more than ``margin``
(absolute) against the current champion's metrics; the first version of a model becomes champion.
Every decision and its reason are written as tags on the candidate version, so the registry itself
answers "why is this the champion?".
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from notenlp.config import Settings
from notenlp.tracking import configure_mlflow, ensure_experiment

log = logging.getLogger(__name__)

CHAMPION = "champion"
MODELS_EXPERIMENT = "notenlp-models"
TAG_PREFIX = "notenlp.promotion."


@dataclass
class Decision:
    name: str
    version: str
    promoted: bool
    reason: str
    champion_before: str | None = None
    deltas: dict[str, float] = field(default_factory=dict)  # candidate minus champion, per compared metric

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _client(settings: Settings | None):
    from mlflow import MlflowClient

    configure_mlflow(settings)
    return MlflowClient()


def _model_dir(model: Any) -> Path | None:
    if isinstance(model, (str, Path)) and (Path(model) / "MLmodel").is_file():
        return Path(model)
    return None


def register(
    name: str,
    model: Any,
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
) -> str:
    """Log ``model`` in a run of the ``notenlp-models`` experiment and register it as a new version of ``name``.

    ``model`` is a saved MLflow model folder or a pipeline config (name, path or dict) that is packaged
    as a ``PipelineModel``. The run carries ``metrics`` and ``params``, so each version's scores are
    those of the run that produced it. Returns the new version number as a string.
    """
    mlflow = configure_mlflow(settings)
    experiment_id = ensure_experiment(MODELS_EXPERIMENT, settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"register {name}") as run:
        if params:
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        clean = {k: float(v) for k, v in (metrics or {}).items() if v is not None and not math.isnan(float(v))}
        if clean:
            mlflow.log_metrics(clean)
        folder = _model_dir(model)
        if folder is not None:
            mlflow.log_artifacts(str(folder), artifact_path="model")
            version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name).version
        else:
            from notenlp.lifecycle.pyfunc import log_pipeline_model

            version = log_pipeline_model(model, registered_model_name=name).registered_model_version
    log.info("registered %s version %s with %d metrics", name, version, len(clean))
    return str(version)


def version_metrics(name: str, version: str, *, settings: Settings | None = None) -> dict[str, float]:
    client = _client(settings)
    run_id = client.get_model_version(name, str(version)).run_id
    return dict(client.get_run(run_id).data.metrics) if run_id else {}


def current_champion(name: str, *, settings: Settings | None = None):
    """The model version holding the champion alias, or None (also when the model is not registered)."""
    from mlflow.exceptions import MlflowException

    client = _client(settings)
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def _is_score(metric: str) -> bool:
    from notenlp.lifecycle.catalog import SCORE_SUFFIXES

    return metric.rsplit(".", 1)[-1].endswith(SCORE_SUFFIXES)


def compare(
    candidate: Mapping[str, float],
    champion: Mapping[str, float],
    *,
    tracked: Iterable[str] | None,
    margin: float,
    lower_is_better: Iterable[str] = (),
) -> tuple[bool, str, dict[str, float]]:
    """(passes, reason, deltas): the gate's rule on two metric dicts, with no MLflow involved."""
    lower = set(lower_is_better)
    keys = list(tracked) if tracked is not None else sorted(k for k in candidate if k in champion and _is_score(k))
    missing = [k for k in keys if k not in candidate and k in champion]
    if missing:
        return False, f"candidate lacks tracked metrics the champion has: {missing}", {}
    comparable = [k for k in keys if k in champion]
    if not comparable:
        return False, "no tracked metric is recorded for both candidate and champion", {}
    deltas = {k: candidate[k] - champion[k] for k in comparable}
    drops = {k: (d if k in lower else -d) for k, d in deltas.items()}  # positive means worse
    worse = {k: drop for k, drop in drops.items() if drop > margin + 1e-12}
    summary = ", ".join(f"{k} {deltas[k]:+.4f}" for k in comparable)
    if worse:
        listed = ", ".join(f"{k} worse by {drop:.4f}" for k, drop in sorted(worse.items()))
        return False, f"{listed} (margin {margin:g}); compared: {summary}", deltas
    return True, f"no tracked metric worse by more than {margin:g}; compared: {summary}", deltas


def promote_if_better(
    name: str,
    version: str,
    *,
    metrics: Mapping[str, float] | None = None,
    margin: float = 0.0,
    tracked: Iterable[str] | None = None,
    higher_is_better: bool = True,
    lower_is_better: Iterable[str] = (),
    force: bool = False,
    settings: Settings | None = None,
) -> Decision:
    """Move the champion alias to ``version`` when it passes the gate; tag the version with the decision.

    ``metrics`` default to those of the run that registered the version. ``higher_is_better=False``
    turns every tracked metric into a lower-is-better one; ``lower_is_better`` names single ones.
    ``force`` promotes whatever the metrics say (the reason records that it was forced).
    """
    client = _client(settings)
    version = str(version)
    candidate = dict(metrics) if metrics is not None else version_metrics(name, version, settings=settings)
    champion = current_champion(name, settings=settings)
    before = str(champion.version) if champion else None
    deltas: dict[str, float] = {}
    if before is None:
        promoted, reason = True, "first version: no champion yet"
    elif before == version:
        promoted, reason = False, "already the champion"
    else:
        champion_metrics = version_metrics(name, before, settings=settings)
        lower = set(lower_is_better)
        if not higher_is_better:
            lower |= set(tracked if tracked is not None else candidate)
        promoted, reason, deltas = compare(candidate, champion_metrics, tracked=tracked, margin=margin,
                                           lower_is_better=lower)
        reason = f"vs champion v{before}: {reason}"
    if force and not promoted and before != version:
        promoted, reason = True, f"forced; the gate said: {reason}"
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
        if before:
            client.set_model_version_tag(name, before, f"{TAG_PREFIX}superseded_by", version)
    decision = Decision(name, version, promoted, reason, before, deltas)
    tags = {
        "decision": "promoted" if promoted else "rejected",
        "reason": reason[:5000],
        "compared_with": before or "",
        "margin": f"{margin:g}",
        "decided_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, f"{TAG_PREFIX}{key}", value)
    log.info("%s v%s %s: %s", name, version, tags["decision"], reason)
    return decision


def latest_version(name: str, *, settings: Settings | None = None) -> str | None:
    client = _client(settings)
    versions = client.search_model_versions(f"name = '{name}'")
    return str(max(int(v.version) for v in versions)) if versions else None


def list_versions(name: str | None = None, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every version (of ``name`` or of all models): aliases, decision tags and the registering run's metrics."""
    client = _client(settings)
    rows = []
    models = [client.get_registered_model(name)] if name else client.search_registered_models()
    for model in models:
        aliases: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        for version in sorted(client.search_model_versions(f"name = '{model.name}'"), key=lambda v: int(v.version)):
            metrics = dict(client.get_run(version.run_id).data.metrics) if version.run_id else {}
            rows.append({
                "name": model.name, "version": str(version.version),
                "aliases": sorted(aliases.get(str(version.version), [])),
                "decision": version.tags.get(f"{TAG_PREFIX}decision", ""),
                "reason": version.tags.get(f"{TAG_PREFIX}reason", ""),
                "metrics": metrics,
            })
    return rows


def _champion_cache(settings: Settings) -> Path:
    return Path(settings.mlflow_artifacts).parent / "champions"


def resolve_champion(name: str, *, settings: Settings | None = None) -> tuple[str, Path] | None:
    """(version, local model folder) of the champion, downloaded once into a cache; None when there is none."""
    settings = settings or Settings.from_env()
    champion = current_champion(name, settings=settings)
    if champion is None:
        return None
    target = _champion_cache(settings) / name / str(champion.version)
    if not (target / "MLmodel").is_file():
        import mlflow

        target.mkdir(parents=True, exist_ok=True)
        mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{champion.version}", dst_path=str(target))
    return str(champion.version), target


def model_config(model_dir: str | Path) -> dict[str, Any]:
    """The pipeline config inside a downloaded ``PipelineModel``, its file settings pointing into the folder."""
    import yaml

    from notenlp.lifecycle.pyfunc import CONFIG_ARTIFACT, unpack_config

    model_dir = Path(model_dir)
    spec = yaml.safe_load((model_dir / "MLmodel").read_text(encoding="utf-8"))
    artifacts = {key: str(model_dir / value["path"]) for key, value in spec["flavors"]["python_function"]
                 .get("artifacts", {}).items()}
    packaged = json.loads(Path(artifacts.pop(CONFIG_ARTIFACT)).read_text(encoding="utf-8"))
    return unpack_config(packaged, artifacts)


def champion_versions(settings: Settings | None = None, catalog=None) -> dict[str, str]:
    """{model name: champion version} for every catalog model that has a champion."""
    from notenlp.lifecycle.catalog import load_catalog

    settings = settings or Settings.from_env()
    found = {}
    for name in (catalog or load_catalog()):
        champion = current_champion(name, settings=settings)
        if champion is not None:
            found[name] = str(champion.version)
    return found


def pipeline_overrides_from_champions(settings: Settings | None = None, catalog=None) -> dict[str, dict[str, Any]]:
    """``Pipeline.from_config`` overrides from each champion: {component: its settings, files downloaded}.

    Only components a model ``owns`` are taken from it, so the nightly pipeline keeps its own
    composition and loads each annotator's files from ``models:/<name>@champion``. Empty when
    ``settings.use_registered_models`` is off or nothing is registered.
    """
    from notenlp.lifecycle.catalog import load_catalog

    settings = settings or Settings.from_env()
    if not settings.use_registered_models:
        return {}
    overrides: dict[str, dict[str, Any]] = {}
    for spec in (catalog or load_catalog()).values():
        if not spec.owns:
            continue
        resolved = resolve_champion(spec.name, settings=settings)
        if resolved is None:
            continue
        version, folder = resolved
        for component in model_config(folder)["components"]:
            if component["name"] in spec.owns:
                overrides[component["name"]] = component.get("config", {})
        log.info("pipeline uses %s v%s for %s", spec.name, version, ", ".join(spec.owns))
    return overrides
