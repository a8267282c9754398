"""
### note_nlp_nightly

Every night: ingest the new or changed clinical notes, de-identify them, annotate entities with
sections and assertions, normalize them to OMOP concepts, validate with Great Expectations, and
load OMOP CDM 5.4 `NOTE`, `NOTE_NLP` and `note_nlp_relation` into the warehouse, then write the
night's data-quality report.

* **Incremental**: only notes whose text changed (content hash) or that were never processed by the
  current `nlp_system` (pipeline + model versions) are processed.
* **Idempotent per night**: each task works on the night of its run's **logical date** (a manual run
  triggered without one: the day it runs). Re-running or backfilling a night replaces that night's rows.
* **Configuration**: DAG params `source` (`mimic3` | `mimic4` | `omop` | `jsonl`) and `input`
  (path or glob), or the environment variables `NOTENLP_SOURCE` / `NOTENLP_INPUT`; warehouse and
  staging paths from `NOTENLP_HOME` (or the `home` param); the Spark master from `NOTENLP_SPARK_MASTER`.
* **Deployment settings** (read when the DAG file is parsed): `NOTENLP_NIGHTLY_SCHEDULE` (a cron
  expression or preset, default `@daily`; `none` for runs triggered only from outside),
  `NOTENLP_TASK_TIMEOUT_HOURS` (default 10: how long a task may run before Airflow stops it) and
  `NOTENLP_TASK_RETRY_DELAY_MINUTES` (default 10: the wait before a failed task is retried, twice).
* **Downstream**: `load` publishes the asset `notenlp://warehouse/note_nlp`; a DAG scheduled on
  it (a cohort refresh) runs after every loaded night.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, task

from notenlp.stages.table import TASKS  # the table of stages: light, imports no Spark

NOTE_NLP_ASSET = Asset(name="notenlp_note_nlp", uri="notenlp://warehouse/note_nlp")
SCHEDULE = os.environ.get("NOTENLP_NIGHTLY_SCHEDULE", "@daily").strip()
TASK_TIMEOUT = timedelta(hours=float(os.environ.get("NOTENLP_TASK_TIMEOUT_HOURS", "10")))
RETRY_DELAY = timedelta(minutes=float(os.environ.get("NOTENLP_TASK_RETRY_DELAY_MINUTES", "10")))


@dag(
    dag_id="note_nlp_nightly",
    schedule=None if SCHEDULE.lower() in ("", "none") else SCHEDULE,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": RETRY_DELAY, "execution_timeout": TASK_TIMEOUT},
    params={
        "source": Param("", type="string", enum=["", "mimic3", "mimic4", "omop", "jsonl"],
                        description="note source format; empty: NOTENLP_SOURCE or mimic3"),
        "input": Param("", type="string", description="input path or glob; empty: NOTENLP_INPUT"),
        "home": Param("", type="string", description="notenlp home (warehouse, staging); empty: NOTENLP_HOME"),
        "sparknlp_input": Param("", type="string",
                                description="optional Spark NLP annotations (Parquet) to normalize beside ours"),
    },
    tags=["notenlp", "omop"],
    doc_md=__doc__,
)
def note_nlp_nightly():
    def stage_task(stage: str):
        @task(task_id=stage, outlets=[NOTE_NLP_ASSET] if stage == "load" else [])
        def run(logical_date=None, run_after=None, params=None):
            from notenlp.orchestration import night_of_run, run_stage

            return run_stage(stage, night_of_run(logical_date, run_after), dict(params or {}))

        return run()

    previous = None
    for stage in TASKS:
        current = stage_task(stage)
        if previous is not None:
            previous >> current
        previous = current


note_nlp_nightly()
