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
from notenlp.stages.table import StageFailed

log = logging.getLogger(__name__)
# run_night's step before the stages: the home's schema, vocabulary and compiled dictionary (``prepare_home``).
HOME_SETUP = "home setup"


# ---------------------------------------------------------------------------------------------- ingest
def run_ingest(spark, night: Night, source: str, input_path: str) -> StageLog:
    """Every source record is counted once (``rows_in``) and leaves as a note, a quarantine row, or a skip
    that is counted too: an exact copy of a row, or a note unchanged since an earlier night."""
    from notenlp.config import ConfigError
    from notenlp.quality.gates import validate_dataframe
    from notenlp.schemas import NOTE
    from notenlp.stages import ingest
    from notenlp.versions import prepare_night

    record = StageLog("ingest", _now())
    from notenlp.warehouse import postgres

    if input_path == postgres.CDM_INPUT:  # the site's NOTE table in the PostgreSQL warehouse's CDM schema
        if not night.settings.on_postgres:
            raise ConfigError(f"input {postgres.CDM_INPUT} needs NOTENLP_WAREHOUSE_URL (a PostgreSQL warehouse)")
        sealed_notes = _sealed_dir(night, night.sealed_work) / "cdm_note"
        input_path = str(postgres.export_cdm_notes(night.settings, sealed_notes))
    mapped = ingest.read_source(spark, source, input_path)  # the input must be what `source` reads
    _sealed_dir(night, night.part("ingest").parent)
    processed_path = prepare_night(night)  # schema, vocabulary, nlp_system, incremental state
    # The parsed records and the canonical notes are each computed once into sealed Parquet (they hold PHI)
    # and read from there: nothing of the night is cached in memory, whatever its size.
    work = _sealed_dir(night, night.sealed_work / "ingest")
    try:
        mapped = _stored(mapped, work / "mapped")
        record.rows_in = mapped.count()
        canonical, rejected = ingest.canonical_notes(mapped)
        canonical = _stored(canonical, work / "canonical")
        copies = ingest.exact_copies(mapped)
        notes, duplicated = ingest.duplicate_ids(canonical)
        processed = spark.read.parquet(str(processed_path)) if processed_path else None
        fresh = ingest.only_new_or_changed(notes, processed)
        unchanged = notes.count() - fresh.count()
        gate = validate_dataframe(fresh.select(*ingest.NOTE_COLUMNS), "raw_notes", run_date=night.run_date,
                                  context={"settings": night.settings, "stage": "ingest"}, work_dir=work / "gate")
        record.rows_out = _write(gate.good_df, night.part("ingest"))
        _seal_files(night.part("ingest"))
        record.rows_quarantined = _write_quarantine(
            night, "ingest", [rejected, duplicated, gate.quarantine_df.select(*ingest.QUARANTINE_COLUMNS)])
        gate.release()
    finally:
        shutil.rmtree(work, ignore_errors=True)  # no stray PHI copies
    record.rows_skipped = copies + unchanged
    log.info("ingest %s: %d exact copies of a row, %d notes unchanged since an earlier night", night.key, copies,
             unchanged)
    spark.read.schema(NOTE).parquet(str(night.part("ingest")))  # fail early if the schema drifted
    record.write(night)  # fails when in != out + quarantined + skipped: a record was lost
    return record


def _stored(df, path):
    """``df`` written once as Parquet at ``path`` and read back: later jobs read the files instead of computing
    it again, and nothing is held in memory."""
    df.write.mode("overwrite").parquet(str(path))
    return df.sparkSession.read.parquet(str(path))


def _seal_files(path) -> None:
    """Files that hold note text: owner-only (their folder is in the 0700 sealed area too)."""
    import os

    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o700)
        for name in files:
            os.chmod(os.path.join(root, name), 0o600)


# ------------------------------------------------------------------------------------------ deidentify
def _deid_config(night: Night) -> dict:
    from notenlp.deid.keys import load_or_create_secret

    return {"mode": night.settings.deid_mode,
            "secret_hex": load_or_create_secret(_sealed_dir(night, night.settings.sealed))}


def run_deidentify(spark, night: Night) -> StageLog:
    from notenlp.schemas import NOTE
    from notenlp.stages import deidentify as deid

    record = StageLog("deidentify", _now())
    notes = _read(spark, night.part("ingest"), NOTE)
    record.rows_in = notes.count()
    config = _deid_config(night)
    work = _sealed_dir(night, night.sealed_work) / "deidentify"
    deid.deidentify_with(spark, notes, config, night.settings).write.mode("overwrite").parquet(str(work))
    _deidentify_outputs(spark, night, spark.read.parquet(str(work)), record)
    shutil.rmtree(night.sealed_work, ignore_errors=True)  # no stray PHI copies once the audit holds it
    record.write(night)
    return record


def _deidentify_outputs(spark, night: Night, out, record: StageLog) -> None:
    """From the worker's output (``deidentify.DEID_OUTPUT``, in the sealed area): the stage's partition,
    quarantine, PHI summary and the sealed audit."""
    from pyspark.sql import functions as F

    from notenlp.schemas import DEID_NOTE
    from notenlp.stages import deidentify as deid

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


# -------------------------------------------------------------------------------------------- annotate
def _annotate_config(night: Night) -> tuple[dict, dict]:
    """The night's annotate pipeline without its normalize component, and that component."""
    config = night.annotate_config()
    entry = next(c for c in config["components"] if c["name"] == "normalize")
    config["components"] = [c for c in config["components"] if c["name"] != "normalize"]
    return config, entry


def run_annotate(spark, night: Night) -> StageLog:
    from notenlp.schemas import DEID_NOTE
    from notenlp.stages import annotate as ann

    record = StageLog("annotate", _now())
    notes = _read(spark, night.part("deidentify"), DEID_NOTE)
    record.rows_in = notes.count()
    config = _annotate_config(night)[0]
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
    _annotate_counts(spark, night, record)
    record.write(night)
    return record


def _annotate_counts(spark, night: Night, record: StageLog) -> None:
    from notenlp.stages import annotate as ann

    out = spark.read.parquet(str(night.part("annotate")))
    record.rows_out = out.filter("record_type = 'note'").count()
    record.rows_quarantined = _write_quarantine(night, "annotate", [ann.annotate_quarantine(out)])


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
    work = night.settings.staging / "_work" / night.key / "normalize"
    norm.normalize(entities, notes, _annotate_config(night)[1]).write.mode("overwrite").parquet(str(work))
    _normalize_outputs(night, spark.read.parquet(str(work)), record)
    shutil.rmtree(work, ignore_errors=True)
    record.write(night)
    return record


def _normalize_outputs(night: Night, out, record: StageLog) -> None:
    from notenlp.stages import normalize as norm

    record.rows_out = _write(norm.normalized_entities(out), night.part("normalize"))
    record.rows_quarantined = _write_quarantine(night, "normalize", [norm.normalize_quarantine(out)])


# ---------------------------------------------------------------------- deidentify + annotate + normalize
def run_text(spark, night: Night) -> list[StageLog]:
    """The three text stages in one pass (``stages.text``): one Spark job over the notes writes one sealed
    Parquet; each stage's partition, quarantine and run-log record come from it, in stage order, with the
    counts the stage would record alone (a stage that fails its record fails here under its own name)."""
    from notenlp.schemas import NOTE
    from notenlp.stages import text

    from notenlp.stages.table import stage

    records = {name: StageLog(name, _now()) for name in stage("text").fuses}
    notes = _read(spark, night.part("ingest"), NOTE)
    records["deidentify"].rows_in = notes.count()
    annotate_config, normalizer_entry = _annotate_config(night)
    work = _sealed_dir(night, night.sealed_work) / "text"
    try:
        text.text_pass_with(spark, notes, _deid_config(night), annotate_config, normalizer_entry,
                            night.settings).write.mode("overwrite").parquet(str(work))
        out = spark.read.parquet(str(work))
        with _member("deidentify", night, records):
            _deidentify_outputs(spark, night, text.deid_output(out), records["deidentify"])
            records["deidentify"].write(night)
        with _member("annotate", night, records):
            records["annotate"].rows_in = records["deidentify"].rows_out
            text.annotations(out).write.mode("overwrite").parquet(str(night.part("annotate")))
            _annotate_counts(spark, night, records["annotate"])
            records["annotate"].write(night)
        with _member("normalize", night, records):
            normalized = text.normalized(out)
            records["normalize"].rows_in = normalized.count()
            _normalize_outputs(night, normalized, records["normalize"])
            records["normalize"].write(night)
    finally:
        shutil.rmtree(night.sealed_work, ignore_errors=True)  # no stray PHI copies once the audit holds it
    return list(records.values())


class _member:
    """Around one stage's share of the fused pass: its failure is recorded and raised under its own name."""

    def __init__(self, name: str, night: Night, records: dict[str, StageLog]):
        self.name, self.night, self.records = name, night, records

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, StageFailed):
            return False
        from notenlp.stages.table import _log_failure, failure_cause

        failure = StageFailed(self.name, failure_cause(exc))
        _log_failure(self.night, self.name, self.records[self.name].started_at, failure.cause)
        raise failure from exc


# -------------------------------------------------------------------------------------------- validate
def run_validate(spark, night: Night) -> StageLog:
    """Notes, then entities of the good notes, then relations of the good entities: each check reads the
    previous one's written output, and every gate's flagged rows go through Parquet, not memory."""
    from notenlp.quality.gates import data_docs_index
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
        # Each checkpoint's UpdateDataDocsAction rendered its own result and the index; rebuilding the whole
        # site here rendered every night's stored results again (a cost that grew with the nights kept).
        log.info("Great Expectations Data Docs: %s", data_docs_index(night.settings))
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


def _prepare_home_for(night: Night) -> None:
    """``versions.prepare_home`` before the night's ingest; ingest runs it too, so a failure here is recorded
    and raised as ingest's (its run-log row and one line naming the stage and the cause)."""
    from notenlp.stages.table import StageFailed, _log_failure, failure_cause
    from notenlp.versions import prepare_home

    started = _now()
    try:
        prepare_home(night.settings)
    except Exception as exc:
        failure = StageFailed("ingest", failure_cause(exc))
        _log_failure(night, "ingest", started, failure.cause)
        raise failure from exc


def run_night(
    settings: Settings, run_date: date, source: str, input_path: str, *, sparknlp_input: str | None = None,
    observe=None,
) -> list[StageLog]:
    """All stages of one night in one Spark session (the DAG runs them as separate tasks).

    The text stages run as one pass when ``settings.fused_text`` (``stages.table.night_plan``).
    ``observe(step)``, when given, returns a context manager entered around each step, a stage or a pass, and
    ``HOME_SETUP`` first (the nightly bench times and profiles them with it).
    """
    from contextlib import nullcontext

    from notenlp.preflight import guarded
    from notenlp.spark_session import get_spark, input_bytes
    from notenlp.stages.table import night_plan, run_stage

    night = Night(settings, run_date)
    params = {"source": source, "input": input_path, "sparknlp_input": sparknlp_input}
    plan = night_plan(settings, sparknlp_input=sparknlp_input)
    logs = []
    with guarded(night, plan, params):  # configuration checked, then the home's night lock held
        spark = get_spark(settings, f"notenlp-nightly-{run_date}", input_size=input_bytes(input_path))
        with observe(HOME_SETUP) if observe else nullcontext():  # a fresh home's vocabulary: once, not nightly
            _prepare_home_for(night)
        for i, name in enumerate(plan, 1):
            t0 = time.perf_counter()
            log.info("[%d/%d] %s ...", i, len(plan), name)
            with observe(name) if observe else nullcontext():
                done = run_stage(name, night, params, spark)
            logs.extend(done if isinstance(done, list) else [done])
            log.info("[%d/%d] %s done in %.1fs", i, len(plan), name, time.perf_counter() - t0)
    return logs
