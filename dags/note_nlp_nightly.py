"""
### note_nlp_nightly

Every night: ingest the new or changed clinical notes, de-identify them, annotate entities with
sections and assertions, normalize them to OMOP concepts, validate with Great Expectations, and
load OMOP CDM 5.4 `NOTE`, `NOTE_NLP` and `note_nlp_relation` into the warehouse, then write the
night's data-quality report.

* **Incremental**: only notes whose text changed (content hash) or that were never processed by the
  current `nlp_system` (pipeline + model versions) are processed.
* **Idempotent**: each task works on the night of its `data_interval_start`; re-running a night
  replaces that night's rows.
* **Configuration**: DAG params `source` (`mimic3` | `mimic4` | `omop` | `jsonl`) and `input`
  (path or glob), or the environment variables `NOTENLP_SOURCE` / `NOTENLP_INPUT`; warehouse and
  staging paths from `NOTENLP_HOME`; the Spark master from `NOTENLP_SPARK_MASTER`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from notenlp.stages.table import TASKS  # the table of stages: light, imports no Spark


@dag(
    dag_id="note_nlp_nightly",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    params={"source": "", "input": "", "home": "", "sparknlp_input": ""},
    tags=["notenlp", "omop"],
    doc_md=__doc__,
)
def note_nlp_nightly():
    def stage_task(stage: str):
        @task(task_id=stage)
        def run(data_interval_start=None, params=None):
            from notenlp.orchestration import run_stage

            return run_stage(stage, data_interval_start, dict(params or {}))

        return run()

    previous = None
    for stage in TASKS:
        current = stage_task(stage)
        if previous is not None:
            previous >> current
        previous = current


note_nlp_nightly()
