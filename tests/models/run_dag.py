"""Run in a child process by test_dag.py, after AIRFLOW_HOME and the Airflow DB URL point at a tmp folder.

Creates the Airflow DB, parses the DAG file with a DagBag and runs ``notenlp_models`` with
``dag.test()`` once per entry of a JSON list ``[{"models": [...], "env": {...}}]`` (``env`` is set
before that run); prints a JSON summary on the last line. A child process keeps Airflow's
settings, which are read once at import, away from the test process.
"""

import json
import os
import sys

from airflow.dag_processing.dagbag import DagBag
from airflow.utils import db

dag_file, runs = sys.argv[1], json.loads(sys.argv[2])
db.initdb()
bag = DagBag(dag_folder=dag_file)
dag = bag.get_dag("notenlp_models")
summary = {"import_errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()}, "dag_ids": sorted(bag.dag_ids),
           "runs": []}
if dag is not None:
    summary["has_doc"] = bool(dag.doc_md) and "promote" in dag.doc_md
    summary["catchup"] = dag.catchup
    for spec in runs:
        os.environ.update(spec.get("env", {}))
        run = dag.test(run_conf={"models": spec["models"]})
        summary["runs"].append({
            "state": str(run.state),
            "tasks": sorted(f"{ti.task_id}[{ti.map_index}]={ti.state}" for ti in run.get_task_instances()),
        })
print(json.dumps(summary))
