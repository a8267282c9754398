"""Run one night's stages: read inputs from staging, write outputs, record what happened.

Every stage writes its output partition ``<staging>/<stage>/run_date=D`` and its quarantine
partition ``<staging>/quarantine/stage=<stage>/run_date=D`` with mode overwrite, so re-running a
stage or a whole night replaces that night's data. Each stage also writes a run-log record
(rows in / out / quarantined / skipped, timings) that the load stage puts in ``notenlp_run_log``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from notenlp.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Night:
    """One night's run: where its data lives and which system version produces it."""

    settings: Settings
    run_date: date
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None))

    @property
    def key(self) -> str:
        return f"run_date={self.run_date.isoformat()}"

    def part(self, stage: str, table: str | None = None) -> Path:
        # Ingested notes still hold PHI, so they stay in the owner-only sealed area.
        base = self.settings.sealed / "staging" / stage if stage == "ingest" else self.settings.stage_dir(stage)
        return (base / table if table else base) / self.key

    def quarantine_part(self, stage: str) -> Path:
        return self.settings.staging / "quarantine" / f"stage={stage}" / self.key

    @property
    def meta_dir(self) -> Path:
        return self.settings.staging / "_runs" / self.key

    @property
    def sealed_work(self) -> Path:
        return self.settings.sealed / "work" / self.key

    @property
    def nlp_system(self) -> str:
        path = self.meta_dir / "nlp_system.txt"
        if not path.exists():
            raise RuntimeError(f"no nlp_system recorded for {self.key}: run the ingest stage of this night first")
        return path.read_text(encoding="utf-8").strip()

    def annotate_config(self) -> dict[str, Any]:
        return json.loads((self.meta_dir / "annotate_pipeline.json").read_text(encoding="utf-8"))


@dataclass
class StageLog:
    stage: str
    started_at: datetime
    finished_at: datetime | None = None
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0

    def write(self, night: Night) -> None:
        self.finished_at = datetime.now(timezone.utc).replace(tzinfo=None)
        night.meta_dir.mkdir(parents=True, exist_ok=True)
        record = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}
        (night.meta_dir / f"stage_{self.stage}.json").write_text(json.dumps(record), encoding="utf-8")
        log.info(
            "%s %s: in=%d out=%d quarantined=%d skipped=%d (%.1fs)", self.stage, night.key, self.rows_in,
            self.rows_out, self.rows_quarantined, self.rows_skipped,
            (self.finished_at - self.started_at).total_seconds(),
        )
        if self.rows_in != self.rows_out + self.rows_quarantined + self.rows_skipped:
            raise RuntimeError(
                f"{self.stage}: rows do not reconcile: in={self.rows_in} != out={self.rows_out} + "
                f"quarantined={self.rows_quarantined} + skipped={self.rows_skipped}"
            )
        limit = night.settings.max_quarantine_rate
        if self.rows_in and self.rows_quarantined / self.rows_in > limit:
            raise StageQuarantineError(self.stage, self.rows_in, self.rows_quarantined, limit,
                                       quarantine_reasons(night, self.stage))


class StageQuarantineError(RuntimeError):
    """A stage quarantined more of its rows than Settings.max_quarantine_rate allows (counts only, no text)."""

    def __init__(self, stage: str, rows_in: int, quarantined: int, limit: float, reasons: dict[str, int]):
        listed = ", ".join(f"{reason}={n}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:10])
        super().__init__(f"{stage}: {quarantined} of {rows_in} rows quarantined ({quarantined / rows_in:.1%} > "
                         f"max {limit:.1%}); reasons: {listed}")


def quarantine_reasons(night: Night, stage: str) -> dict[str, int]:
    import pyarrow.parquet as pq

    path = night.quarantine_part(stage)
    if not path.exists():
        return {}
    reasons = pq.read_table(path, columns=["reason"]).column("reason").to_pylist()
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _write(df, path: Path) -> int:
    """Write a partition (replacing it) and return its row count, read back from the files."""
    df.write.mode("overwrite").parquet(str(path))
    return df.sparkSession.read.parquet(str(path)).count()


def _read(spark, path: Path, schema: str):
    if not path.exists():
        raise FileNotFoundError(f"missing stage input {path}: run the previous stage of this night first")
    return spark.read.schema(schema).parquet(str(path))


def _write_quarantine(night: Night, stage: str, frames: list) -> int:
    from functools import reduce

    merged = reduce(lambda a, b: a.unionByName(b), frames)
    return _write(merged, night.quarantine_part(stage))


def _sealed_dir(night: Night, path: Path) -> Path:
    """A folder under the sealed area, readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(night.settings.sealed, 0o700)
    return path


# ---------------------------------------------------------------------------------------------- ingest
def run_ingest(spark, night: Night, source: str, input_path: str) -> StageLog:
    from notenlp.quality.gates import validate_dataframe
    from notenlp.schemas import NOTE
    from notenlp.stages import ingest
    from notenlp.versions import prepare_night

    record = StageLog("ingest", _now())
    _sealed_dir(night, night.part("ingest").parent)
    processed_path = prepare_night(night)  # schema, vocabulary, nlp_system, incremental state
    mapped = ingest.read_source(spark, source, input_path).cache()
    record.rows_in = mapped.count()
    notes, rejected = ingest.canonical_notes(mapped)
    notes, duplicated = ingest.duplicate_ids(notes)
    notes = notes.cache()
    processed = spark.read.parquet(str(processed_path)) if processed_path else None
    fresh = ingest.only_new_or_changed(notes, processed)
    gate = validate_dataframe(fresh, "raw_notes", run_date=night.run_date,
                              context={"settings": night.settings, "stage": "ingest"})
    record.rows_out = _write(gate.good_df, night.part("ingest"))
    record.rows_quarantined = _write_quarantine(
        night, "ingest", [rejected, duplicated, gate.quarantine_df.select(*ingest.QUARANTINE_COLUMNS)])
    gate.release()
    # Duplicated ids collapse several source rows into one quarantine row per copy, so count the rest.
    record.rows_skipped = record.rows_in - record.rows_out - record.rows_quarantined
    spark.read.schema(NOTE).parquet(str(night.part("ingest")))  # fail early if the schema drifted
    mapped.unpersist()
    notes.unpersist()
    record.write(night)
    return record


# ------------------------------------------------------------------------------------------ deidentify
def run_deidentify(spark, night: Night) -> StageLog:
    from pyspark.sql import functions as F

    from notenlp.deid.keys import load_or_create_secret
    from notenlp.schemas import DEID_NOTE, NOTE
    from notenlp.stages import deidentify as deid

    record = StageLog("deidentify", _now())
    notes = _read(spark, night.part("ingest"), NOTE)
    record.rows_in = notes.count()
    config = {"mode": night.settings.deid_mode, "secret_hex": load_or_create_secret(_sealed_dir(night, night.settings.sealed))}
    work = _sealed_dir(night, night.sealed_work) / "deidentify"
    deid.deidentify(notes, config).write.mode("overwrite").parquet(str(work))
    out = spark.read.parquet(str(work))
    record.rows_out = _write(deid.deidentified_notes(out), night.part("deidentify"))
    record.rows_quarantined = _write_quarantine(night, "deidentify", [deid.deid_quarantine(out)])
    audit_path = night.sealed_work / "phi_audit"
    deid.phi_audit_rows(out).write.mode("overwrite").parquet(str(audit_path))
    phi = (
        spark.read.schema(DEID_NOTE).parquet(str(night.part("deidentify")))
        .select(F.explode("phi_types").alias("phi_type", "n"))
        .groupBy("phi_type").agg(F.sum("n").alias("n"))
    )
    phi.write.mode("overwrite").parquet(str(night.part("deidentify", "_phi_summary")))
    from notenlp.warehouse.audit import load_phi_audit

    load_phi_audit(night.settings.audit_db, audit_path)
    shutil.rmtree(night.sealed_work, ignore_errors=True)  # no stray PHI copies once the audit holds it
    record.write(night)
    return record


# -------------------------------------------------------------------------------------------- annotate
def run_annotate(spark, night: Night) -> StageLog:
    from notenlp.schemas import DEID_NOTE
    from notenlp.stages import annotate as ann

    record = StageLog("annotate", _now())
    notes = _read(spark, night.part("deidentify"), DEID_NOTE)
    record.rows_in = notes.count()
    config = night.annotate_config()
    config["components"] = [c for c in config["components"] if c["name"] != "normalize"]
    ann.annotate(notes, config).write.mode("overwrite").parquet(str(night.part("annotate")))
    out = spark.read.parquet(str(night.part("annotate")))
    record.rows_out = out.filter("record_type = 'note'").count()
    record.rows_quarantined = _write_quarantine(night, "annotate", [ann.annotate_quarantine(out)])
    record.write(night)
    return record


# ------------------------------------------------------------------------------------------- normalize
def run_normalize(spark, night: Night, sparknlp_input: str | None = None) -> StageLog:
    from notenlp.schemas import DEID_NOTE
    from notenlp.stages import annotate as ann
    from notenlp.stages import normalize as norm

    record = StageLog("normalize", _now())
    notes = _read(spark, night.part("deidentify"), DEID_NOTE)
    if sparknlp_input:
        from notenlp.interop.sparknlp import entities_from_annotations

        entities = entities_from_annotations(spark.read.parquet(sparknlp_input))
    else:
        entities = ann.entities(spark.read.parquet(str(night.part("annotate"))))
    record.rows_in = entities.count()
    entry = next(c for c in night.annotate_config()["components"] if c["name"] == "normalize")
    work = night.settings.staging / "_work" / night.key / "normalize"
    norm.normalize(entities, notes, entry).write.mode("overwrite").parquet(str(work))
    out = spark.read.parquet(str(work))
    record.rows_out = _write(norm.normalized_entities(out), night.part("normalize"))
    record.rows_quarantined = _write_quarantine(night, "normalize", [norm.normalize_quarantine(out)])
    shutil.rmtree(work, ignore_errors=True)
    record.write(night)
    return record


# -------------------------------------------------------------------------------------------- validate
def run_validate(spark, night: Night) -> StageLog:
    from notenlp.stages import validate as val

    record = StageLog("validate", _now())
    result = val.validate_night(spark, night)
    record.rows_in, record.rows_out, record.rows_quarantined = result.rows_in, result.rows_out, result.rows_quarantined
    record.write(night)
    return record


# ------------------------------------------------------------------------------------------------ load
def run_load(night: Night) -> StageLog:
    from notenlp.warehouse.load import load_night

    record = StageLog("load", _now())
    record.rows_in, record.rows_out = load_night(night)
    record.write(night)
    from notenlp.warehouse.load import load_run_log

    load_run_log(night)
    return record


def run_night(
    settings: Settings, run_date: date, source: str, input_path: str, *, sparknlp_input: str | None = None,
    observe=None,
) -> list[StageLog]:
    """All stages of one night in one Spark session (the DAG runs them as separate tasks).

    ``observe(stage)``, when given, returns a context manager entered around each stage (the nightly bench
    times and profiles stages with it).
    """
    from contextlib import nullcontext

    from notenlp.spark_session import get_spark

    night = Night(settings, run_date)
    spark = get_spark(settings, f"notenlp-nightly-{run_date}")
    logs = []
    steps = [
        ("ingest", lambda: run_ingest(spark, night, source, input_path)),
        ("deidentify", lambda: run_deidentify(spark, night)),
        ("annotate", lambda: run_annotate(spark, night)),
        ("normalize", lambda: run_normalize(spark, night, sparknlp_input)),
        ("validate", lambda: run_validate(spark, night)),
        ("load", lambda: run_load(night)),
    ]
    for i, (name, step) in enumerate(steps, 1):
        t0 = time.perf_counter()
        log.info("[%d/%d] %s ...", i, len(steps), name)
        with observe(name) if observe else nullcontext():
            logs.append(step())
        log.info("[%d/%d] %s done in %.1fs", i, len(steps), name, time.perf_counter() - t0)
    return logs
