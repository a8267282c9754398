"""Run note_nlp_nightly with ``dag.test()`` in a fresh process (Airflow reads its config at import).

Usage: python dag_runner.py YYYY-MM-DD SOURCE INPUT. The caller sets AIRFLOW_HOME,
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (SQLite) and NOTENLP_HOME. Exits non-zero if any task failed.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag
from airflow.utils import db

DAGS = Path(__file__).resolve().parents[2] / "dags"


def main(run_date: str, source: str, input_path: str) -> int:
    db.initdb()
    bag = DagBag(dag_folder=str(DAGS))
    if bag.import_errors:
        print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
        return 2
    dag = bag.get_dag("note_nlp_nightly")
    logical = datetime.fromisoformat(run_date).replace(tzinfo=timezone.utc)
    dag_run = dag.test(logical_date=logical, run_conf={"source": source, "input": input_path})
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    print(f"task states: {states}")
    return 0 if all(state.endswith("success") for state in states.values()) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
