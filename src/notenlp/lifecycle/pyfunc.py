"""A pipeline config as an MLflow pyfunc model that answers the JSONL contract.

The model's artifacts are the pipeline config (``pipeline_config``) plus every file a component
setting points to. While packaging, each such setting is replaced in the stored config by
``{"$artifact": "<key>"}``; ``load_context`` puts the downloaded artifact's local path back, so
the model runs wherever MLflow unpacks it. ``predict`` takes JSONL-contract input records
(``note_id``, ``text``, optional ``person_id``, ``note_date``, ``targets``) as a DataFrame or a
list of dicts and returns one ``notenlp.jsonl.annotation_record`` dict per note.

Only model code imports this module, so importing mlflow at the top is fine here.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from notenlp.pipeline import Pipeline, load_config, load_factory
from notenlp.resources import resource_path

log = logging.getLogger(__name__)

CONFIG_ARTIFACT = "pipeline_config"
ARTIFACT_MARKER = "$artifact"
# Settings that always name a file or folder; any other setting ending in one of FILE_SUFFIXES is one too.
FILE_SETTINGS = frozenset({"rules", "model_path", "dictionary"})
FILE_SUFFIXES = ("_path", "_file", "_dir", "_rules", "_dictionary", "_lexicon")
INPUT_FIELDS = ("note_id", "text", "person_id", "note_date", "targets")


def is_file_setting(key: str) -> bool:
    return key in FILE_SETTINGS or key.endswith(FILE_SUFFIXES)


def resolve_setting_path(value: str) -> Path:
    """Where a component would read a file setting from: an existing path as given, else a shipped resource."""
    given = Path(value).expanduser()
    if given.is_absolute() or given.exists():
        return given.resolve()
    return resource_path(value)


def file_setting_defaults(factory: str) -> dict[str, str]:
    """Keyword defaults of a component's file settings, e.g. ``rules="annotate/context_rules.json"``."""
    try:
        signature = inspect.signature(load_factory(factory))
    except (TypeError, ValueError):
        return {}
    return {name: p.default for name, p in signature.parameters.items()
            if p.kind is p.KEYWORD_ONLY and is_file_setting(name) and isinstance(p.default, str) and p.default}


def package_config(config: str | Path | dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a pipeline config into (config with artifact markers, {artifact key: local file path}).

    File settings a component leaves at their default are packaged too, when that file exists.
    """
    packaged = json.loads(json.dumps(load_config(config)))
    artifacts: dict[str, str] = {}

    def to_marker(component: str, key: str, value: str) -> dict[str, str]:
        path = resolve_setting_path(value)
        if not path.exists():
            raise FileNotFoundError(f"component {component!r}: setting {key!r} points to a missing file {path}")
        artifact_key = f"{component}__{key}__{len(artifacts)}"
        artifacts[artifact_key] = str(path)
        return {ARTIFACT_MARKER: artifact_key}

    for entry in packaged["components"]:
        settings = entry.setdefault("config", {})
        for key, value in file_setting_defaults(entry["factory"]).items():
            if key not in settings and resolve_setting_path(value).exists():
                settings[key] = value  # a default file is part of the model too, so it is versioned with it
        for key, value in list(settings.items()):
            if not is_file_setting(key) or not value:
                continue
            if isinstance(value, str):
                settings[key] = to_marker(entry["name"], key, value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                settings[key] = [to_marker(entry["name"], key, v) for v in value]
    return packaged, artifacts


def unpack_config(packaged: dict[str, Any], artifact_paths: Mapping[str, str]) -> dict[str, Any]:
    """Replace every artifact marker in a packaged config by the artifact's local path."""

    def restore(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {ARTIFACT_MARKER}:
            return str(artifact_paths[value[ARTIFACT_MARKER]])
        if isinstance(value, list):
            return [restore(v) for v in value]
        return value

    config = json.loads(json.dumps(packaged))
    for entry in config["components"]:
        entry["config"] = {k: restore(v) for k, v in entry.get("config", {}).items()}
    return config


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "tolist"):  # numpy arrays and scalars from a DataFrame
        return _clean(value.tolist())
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def input_records(model_input: Any) -> list[dict[str, Any]]:
    """JSONL-contract records from a DataFrame, a list of dicts or one dict; missing optional fields dropped."""
    if isinstance(model_input, pd.DataFrame):
        rows: Iterable[Mapping[str, Any]] = model_input.to_dict(orient="records")
    elif isinstance(model_input, Mapping):
        rows = [model_input]
    else:
        rows = list(model_input)
    records = []
    for row in rows:
        record = {k: _clean(row[k]) for k in INPUT_FIELDS if k in row}
        records.append({k: v for k, v in record.items() if v is not None})
    return records


def annotate_records(pipeline: Pipeline, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    from notenlp.jsonl import annotation_record, doc_from_record

    return [annotation_record(pipeline(doc_from_record(dict(r), i))) for i, r in enumerate(records, 1)]


class PipelineModel(mlflow.pyfunc.PythonModel):
    """A notenlp pipeline behind MLflow's pyfunc interface."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        artifacts = dict(context.artifacts)
        packaged = json.loads(Path(artifacts.pop(CONFIG_ARTIFACT)).read_text(encoding="utf-8"))
        self.config = unpack_config(packaged, artifacts)
        self.pipeline = Pipeline.from_config(self.config)
        log.info("loaded pipeline %r with components %s", self.config.get("name"), self.pipeline.names)

    # No type hints on the arguments: MLflow would infer a second, conflicting signature from them.
    def predict(self, context, model_input, params=None):
        records = input_records(model_input)
        results = annotate_records(self.pipeline, records)
        log.info("annotated %d notes", len(results))
        return results


def model_signature():
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, Array, ColSpec, Object, Property, Schema

    target = Object([Property("start", "long"), Property("end", "long")])
    inputs = Schema([
        ColSpec(AnyType(), "note_id"),
        ColSpec("string", "text"),
        ColSpec(AnyType(), "person_id", required=False),  # an integer, but missing on some rows
        ColSpec("string", "note_date", required=False),
        ColSpec(Array(target), "targets", required=False),
    ])
    outputs = Schema([
        ColSpec(AnyType(), "note_id"),
        ColSpec(AnyType(), "entities"),
        ColSpec(AnyType(), "relations"),
    ])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _model_kwargs(config: str | Path | dict[str, Any], staging: Path, code_paths: list[str] | None) -> dict[str, Any]:
    packaged, artifacts = package_config(config)
    config_file = staging / "pipeline.json"
    config_file.write_text(json.dumps(packaged, indent=2), encoding="utf-8")
    fingerprint = Pipeline([], load_config(config)).fingerprint()
    from notenlp import __version__ as notenlp_version

    return {
        "python_model": PipelineModel(),
        "artifacts": {CONFIG_ARTIFACT: str(config_file), **artifacts},
        "signature": model_signature(),
        "code_paths": code_paths,
        # Explicit requirements: inferring them would load the model in a subprocess for every save.
        "pip_requirements": [f"mlflow=={mlflow.__version__}", f"pandas=={pd.__version__}"],
        "metadata": {
            "notenlp_version": notenlp_version,
            "pipeline": packaged.get("name", ""),
            "pipeline_fingerprint": fingerprint,
            "components": [c["name"] for c in packaged["components"]],
        },
    }


@contextmanager
def _quiet_model_warnings() -> Iterator[None]:
    # The signature is given explicitly, so MLflow's hints about type hints and input examples do not apply.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*(type hint|input example|input_example).*")
        yield


def save_pipeline_model(config: str | Path | dict[str, Any], path: str | Path,
                        *, code_paths: list[str] | None = None) -> Path:
    """Write a pipeline config and its files as an MLflow model folder at ``path``."""
    with tempfile.TemporaryDirectory(prefix="notenlp-model-") as staging, _quiet_model_warnings():
        mlflow.pyfunc.save_model(path=str(path), **_model_kwargs(config, Path(staging), code_paths))
    return Path(path)


def log_pipeline_model(config: str | Path | dict[str, Any], *, registered_model_name: str | None = None,
                       code_paths: list[str] | None = None):
    """Log a pipeline model into the active run (registering it when a name is given); returns ModelInfo."""
    with tempfile.TemporaryDirectory(prefix="notenlp-model-") as staging, _quiet_model_warnings():
        return mlflow.pyfunc.log_model(name="model", registered_model_name=registered_model_name,
                                       **_model_kwargs(config, Path(staging), code_paths))
