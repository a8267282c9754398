"""Run settings: where the warehouse, staging area, sealed PHI audit and MLflow store live.

Every field can be set by an environment variable ``NOTENLP_<FIELD>`` (upper case) or
by the matching CLI option. Paths default to folders under ``NOTENLP_HOME`` (the
current directory when unset), so a fresh clone runs with no configuration at all.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


@dataclass
class Settings:
    home: Path = Path(".")
    warehouse: Path | None = None  # DuckDB analytics warehouse (no PHI)
    staging: Path | None = None  # Parquet between stages, partitioned by run_date
    sealed: Path | None = None  # owner-only folder: PHI audit DuckDB and the surrogate key
    mlflow_tracking_uri: str | None = None
    mlflow_artifacts: Path | None = None
    spark_master: str = "local[*]"
    spark_shuffle_partitions: int = 0  # 0: from the machine and the input size (spark_session.spark_resources)
    deid_mode: str = "surrogate"  # "surrogate" or "tag"
    annotate_pipeline: str = "annotate"  # name of resources/pipelines/<name>.json or a path
    max_quarantine_rate: float = 0.05  # a stage fails when more of its rows than this are quarantined
    use_registered_models: bool = True  # load models:/<name>@champion when the registry has one
    spark_nlp: bool = False  # optional Spark NLP annotators (needs the Spark NLP JAR on the classpath)

    def __post_init__(self) -> None:
        self.home = Path(self.home).resolve()
        self.warehouse = Path(self.warehouse or self.home / "warehouse" / "notenlp.duckdb")
        self.staging = Path(self.staging or self.home / "staging")
        self.sealed = Path(self.sealed or self.home / "sealed")
        self.mlflow_artifacts = Path(self.mlflow_artifacts or self.home / "mlruns" / "artifacts")
        if not self.mlflow_tracking_uri:
            self.mlflow_tracking_uri = f"sqlite:///{self.home / 'mlruns' / 'mlflow.db'}"

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"NOTENLP_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def audit_db(self) -> Path:
        return self.sealed / "phi_audit.duckdb"

    def stage_dir(self, stage: str) -> Path:
        return self.staging / stage

    def to_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
