"""Run one night's stages: read inputs from staging, write outputs, record what happened.

The partitions, run-log records and partition I/O are in ``notenlp.stages.night``; the table of
stages (what each reads and writes, whether it needs Spark) is ``notenlp.stages.table``.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import date

from notenlp.config import Settings
from notenlp.stages.night import Night, StageLog, now as _now, read_partition as _read, sealed_dir as _sealed_dir
from notenlp.stages.night import write_partition as _write, write_quarantine as _write_quarantine

log = logging.getLogger(__name__)


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
    deid.deidentify_with(spark, notes, config, night.settings).write.mode("overwrite").parquet(str(work))
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
    if night.settings.engine == "sparknlp":
        from pyspark.ml import PipelineModel

        from notenlp.config import ConfigError

        if not night.settings.sparknlp_model:
            raise ConfigError("NOTENLP_ENGINE=sparknlp needs NOTENLP_SPARKNLP_MODEL: the folder of a Spark NLP "
                              "PipelineModel with a ner_chunk output (models/sparknlp_ner/train.py writes one)")
        model = PipelineModel.load(night.settings.sparknlp_model)
        annotated = ann.annotate_with_targets(ann.sparknlp_targets(notes, model), config, source="sparknlp")
    else:
        annotated = ann.annotate(notes, config)
    annotated.write.mode("overwrite").parquet(str(night.part("annotate")))
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
        from notenlp.interop.sparknlp import annotations_to_entities

        entities = annotations_to_entities(spark.read.parquet(sparknlp_input))
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
    """Notes, then entities of the good notes, then relations of the good entities: each check reads the
    previous one's written output, and every gate's flagged rows go through Parquet, not memory."""
    from notenlp.quality.gates import build_data_docs
    from notenlp.schemas import DEID_NOTE, ENTITY, NOTE
    from notenlp.stages import validate as val
    from notenlp.warehouse.concepts import concept_frame

    record = StageLog("validate", _now())
    raw = _read(spark, night.part("ingest"), NOTE)
    deid = _read(spark, night.part("deidentify"), DEID_NOTE)
    entities = _read(spark, night.part("normalize"), ENTITY)
    relations = val.night_relations(spark.read.parquet(str(night.part("annotate"))))
    record.rows_in = deid.count() + entities.count() + relations.count()
    context = {"concept": concept_frame(spark, night), "settings": night.settings}
    work = night.work_dir("validate")
    checked = []

    notes = val.check_notes(deid, raw, context, night.run_date, work / "deid_notes")
    checked.append(notes)
    record.rows_out += _write(notes.good, night.part("validate", "note"))
    good_notes = _read(spark, night.part("validate", "note"), DEID_NOTE)

    entity_check = val.check_entities(entities, good_notes, night.nlp_system, context, night.run_date,
                                      work / "note_nlp")
    checked.append(entity_check)
    record.rows_out += _write(entity_check.good, night.part("validate", "note_nlp"))
    good_entities = spark.read.parquet(str(night.part("validate", "note_nlp")))

    relation_check = val.check_relations(relations, good_entities, context, night.run_date,
                                         work / "note_nlp_relation")
    checked.append(relation_check)
    record.rows_out += _write(relation_check.good, night.part("validate", "note_nlp_relation"))
    record.rows_quarantined = _write_quarantine(night, "validate", [c.quarantine for c in checked])
    for check in checked:
        check.gate.release()
    shutil.rmtree(work, ignore_errors=True)
    if any(c.rows_in for c in checked):
        log.info("Great Expectations Data Docs: %s", build_data_docs(night.settings))
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

    from notenlp.stages.table import NIGHT_STAGES, run_stage

    night = Night(settings, run_date)
    from notenlp.spark_session import input_bytes

    spark = get_spark(settings, f"notenlp-nightly-{run_date}", input_size=input_bytes(input_path))
    params = {"source": source, "input": input_path, "sparknlp_input": sparknlp_input}
    logs = []
    for i, name in enumerate(NIGHT_STAGES, 1):
        t0 = time.perf_counter()
        log.info("[%d/%d] %s ...", i, len(NIGHT_STAGES), name)
        with observe(name) if observe else nullcontext():
            logs.append(run_stage(name, night, params, spark))
        log.info("[%d/%d] %s done in %.1fs", i, len(NIGHT_STAGES), name, time.perf_counter() - t0)
    return logs
