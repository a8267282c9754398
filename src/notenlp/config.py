"""Run settings: where the warehouse, staging area, sealed PHI audit and MLflow store live.

Every field can be set by an environment variable ``NOTENLP_<FIELD>`` (upper case) or
by the matching CLI option. Paths default to folders under ``NOTENLP_HOME`` (the
current directory when unset), so a fresh clone runs with no configuration at all.

Dates outside the note text (``date_mode``): ``shift`` (the default, a de-identified warehouse)
moves NOTE.note_date and note_datetime by the same per-person offset as the dates inside the
text, so neither the row nor the text gives the real date away and the interval between them
holds; ``keep`` (a site's identified CDM) leaves the note row's dates as the source wrote them
and needs ``date_shift_table``, the site's own per-person offsets (``person_id,
date_shift_days``, CSV or Parquet) for the text, so that a research extract shifting the CDM by
that table agrees with its notes. With a table, its offsets are used in either mode (a person
missing from it is quarantined); without one, each person's offset is keyed by the sealed secret.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

DATE_MODES = ("shift", "keep")
# NOTE_NLP ids: "dense" (1, 2, ... from notenlp_note_nlp_key: fits the official DDL's integer) or "hash" (the
# validate stage's 63-bit hash of note_id, start, end, label: for sites whose note_nlp_id columns are bigint).
NOTE_NLP_ID_MODES = ("dense", "hash")
ENGINES = ("python", "sparknlp")


class ConfigError(ValueError):
    """A setting that cannot work; the CLI prints the message as one line and exits non-zero."""


# Folders Spark and DuckDB write as local files: a plain path or a file:// URI. On a cluster of several hosts
# they must be one shared filesystem mounted at the same path everywhere (README "Deploy at a site").
LOCAL_FOLDERS = ("home", "staging", "sealed", "mlflow_artifacts")


def local_path(value: str | Path | None, name: str) -> Path | None:
    """``value`` as a local path: ``file:///x`` is ``/x``; another scheme (s3a://, hdfs://) is a ConfigError."""
    if value is None or isinstance(value, Path):
        return value
    from urllib.parse import unquote, urlparse

    parsed = urlparse(str(value))
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        return Path(unquote(parsed.path))
    if len(parsed.scheme) > 1:  # one letter is a Windows drive, not a scheme
        # The scheme only: a URI may carry credentials (s3a://key:secret@bucket).
        raise ConfigError(f"NOTENLP_{name.upper()} is a {parsed.scheme}:// URI: only a local path or a file:// URI "
                          "is supported; "
                          "for object stores or HDFS mount them at the same path on every host")
    return Path(value)


@dataclass
class Settings:
    home: Path = Path(".")
    warehouse: Path | None = None  # DuckDB analytics warehouse (no PHI)
    # A site's PostgreSQL instead of DuckDB (notenlp.warehouse.postgres): NOTE read from cdm_schema, NOTE_NLP and
    # notenlp's tables written to results_schema, the vocabulary read from vocabulary_schema.
    warehouse_url: str | None = None  # postgresql://user@host:port/db (SQLAlchemy's postgresql+psycopg:// too)
    cdm_schema: str = "cdm"
    results_schema: str = "results"
    vocabulary_schema: str = "vocab"
    staging: Path | None = None  # Parquet between stages, partitioned by run_date
    sealed: Path | None = None  # owner-only folder: PHI audit DuckDB and the surrogate key
    mlflow_tracking_uri: str | None = None
    mlflow_artifacts: Path | None = None
    spark_master: str = "local[*]"
    spark_shuffle_partitions: int = 0  # 0: from the machine and the input size (spark_session.spark_resources)
    deid_mode: str = "surrogate"  # "surrogate" or "tag"
    date_mode: str = "shift"  # "shift": note row dates move with the text; "keep": they stay (identified CDM)
    date_shift_table: Path | None = None  # site-provided person_id, date_shift_days (CSV or Parquet)
    annotate_pipeline: str = "annotate"  # name of resources/pipelines/<name>.json or a path
    max_quarantine_rate: float = 0.05  # a stage fails when more of its rows than this are quarantined
    use_registered_models: bool = True  # load models:/<name>@champion when the registry has one
    allow_shipped_models: bool = False  # run the shipped model files even where champions are expected (preflight)
    spark_nlp: bool = False  # optional Spark NLP annotators (needs the Spark NLP JAR on the classpath)
    fused_text: bool = True  # run_night: deidentify, annotate and normalize as one pass (stages.table.PASSES)
    engine: str = "python"  # annotate NER: "python" (the component pipeline) or "sparknlp" (a Spark NLP PipelineModel)
    sparknlp_model: str = ""  # folder of a Spark NLP PipelineModel with a ner_chunk output (engine sparknlp)
    note_nlp_ids: str = "dense"  # NOTE_NLP_ID_MODES: dense 32-bit ids, or the 63-bit hashes where columns are bigint

    def __post_init__(self) -> None:
        for name in LOCAL_FOLDERS:
            setattr(self, name, local_path(getattr(self, name), name))
        self.home = Path(self.home).resolve()
        self.warehouse = Path(self.warehouse or self.home / "warehouse" / "notenlp.duckdb")
        self.staging = Path(self.staging or self.home / "staging")
        self.sealed = Path(self.sealed or self.home / "sealed")
        self.mlflow_artifacts = Path(self.mlflow_artifacts or self.home / "mlruns" / "artifacts")
        if not self.mlflow_tracking_uri:
            self.mlflow_tracking_uri = self.home_tracking_uri(self.home)
        self._check_dates()
        self._check_warehouse_url()
        self._check_engine()
        if self.note_nlp_ids not in NOTE_NLP_ID_MODES:
            raise ConfigError(f"NOTENLP_NOTE_NLP_IDS must be one of {', '.join(NOTE_NLP_ID_MODES)}, "
                              f"not {self.note_nlp_ids!r}")

    def _check_engine(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"NOTENLP_ENGINE must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.engine == "sparknlp" and self.sparknlp_model and not Path(self.sparknlp_model).is_dir():
            raise ConfigError(f"NOTENLP_SPARKNLP_MODEL {self.sparknlp_model} is not a folder (a saved Spark NLP "
                              "PipelineModel, e.g. from models/sparknlp_ner/train.py)")

    def _check_warehouse_url(self) -> None:
        if not self.warehouse_url:
            self.warehouse_url = None
            return
        scheme = self.warehouse_url.split("://", 1)[0] if "://" in self.warehouse_url else ""
        if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise ConfigError("NOTENLP_WAREHOUSE_URL must be a PostgreSQL URL (postgresql://user@host:port/db), "
                              f"not one with scheme {scheme or '(none)'!r}")
        for name in ("cdm_schema", "results_schema", "vocabulary_schema"):
            value = getattr(self, name)
            if not (value.isidentifier() and value == value.lower()):
                raise ConfigError(f"NOTENLP_{name.upper()} must be a lowercase SQL identifier, not {value!r}")

    @property
    def on_postgres(self) -> bool:
        """True when the warehouse is a PostgreSQL server (NOTENLP_WAREHOUSE_URL), not the DuckDB file."""
        return self.warehouse_url is not None

    @staticmethod
    def home_tracking_uri(home: Path) -> str:
        """The default MLflow store: a SQLite file under the home."""
        return f"sqlite:///{Path(home).resolve() / 'mlruns' / 'mlflow.db'}"

    def _check_dates(self) -> None:
        if self.date_mode not in DATE_MODES:
            raise ConfigError(f"NOTENLP_DATE_MODE must be one of {', '.join(DATE_MODES)}, not {self.date_mode!r}")
        if not self.date_shift_table:
            self.date_shift_table = None
            if self.date_mode == "keep":
                raise ConfigError("NOTENLP_DATE_MODE=keep needs NOTENLP_DATE_SHIFT_TABLE (a CSV or Parquet table "
                                  "person_id, date_shift_days): without it the note text could not agree with "
                                  "a shifted extract of the CDM")
            return
        self.date_shift_table = Path(self.date_shift_table)
        if not self.date_shift_table.exists():
            raise ConfigError(f"NOTENLP_DATE_SHIFT_TABLE {self.date_shift_table} does not exist")
        if self.date_shift_table.is_file() and self.date_shift_table.suffix.lower() not in (".csv", ".parquet"):
            raise ConfigError(f"NOTENLP_DATE_SHIFT_TABLE {self.date_shift_table} must be a .csv or .parquet file "
                              "(or a folder of Parquet files)")

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
        values = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        if self.warehouse_url:
            values["warehouse_url"] = redacted_url(self.warehouse_url)
        return values


def redacted_url(url: str) -> str:
    """A database URL without its password, for anything printed or written out."""
    import re

    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
