"""The notenlp_models DAG parses and, run with real Airflow and MLflow, refreshes the toy model behind the gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from notenlp.config import Settings
from notenlp.lifecycle.registry import list_versions

from .components import import_root
from .conftest import TOY, gold_records, write_jsonl

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags" / "notenlp_models.py"


@pytest.mark.slow
def test_dag_parses_and_refreshes_the_toy_model_behind_the_gate(toy_world, tmp_path):
    full = write_jsonl(tmp_path / "train_full.jsonl", gold_records())
    poor = write_jsonl(tmp_path / "train_poor.jsonl", gold_records([3]))
    runs = [{"models": [TOY], "env": {"TOY_TRAINING": str(full)}},
            {"models": ["toy"], "env": {"TOY_TRAINING": str(poor)}}]  # a worse lexicon: registered, not promoted
    airflow_home = tmp_path / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
        # The toy annotators live in this test package: the child imports them as pytest does here.
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(import_root()),
                                       os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("run_dag.py")), str(DAG_FILE),
                           json.dumps(runs)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])

    assert summary["import_errors"] == {} and summary["dag_ids"] == ["notenlp_models"]
    assert summary["has_doc"] and summary["catchup"] is False
    expected = ["evaluate[0]=success", "promote[0]=success", "register[0]=success",
                "select_models[-1]=success", "train[0]=success"]
    assert [(r["state"], r["tasks"]) for r in summary["runs"]] == [("success", expected)] * 2

    rows = {row["version"]: row for row in list_versions(TOY, settings=Settings.from_env())}
    assert sorted(rows) == ["1", "2"]
    assert rows["1"]["aliases"] == ["champion"] and rows["1"]["decision"] == "promoted"
    assert rows["1"]["metrics"]["toy_gold.entity_strict_f1"] == pytest.approx(1.0, rel=1e-9)
    assert rows["1"]["metrics"]["train.lexicon_terms"] == 11
    assert rows["2"]["decision"] == "rejected" and rows["2"]["aliases"] == []
    assert rows["2"]["metrics"]["toy_gold.entity_strict_f1"] == pytest.approx(2 * 2 / (2 + 11))
    # no negated gold entity found at all
    assert rows["2"]["metrics"]["toy_gold.negated_f1"] == pytest.approx(0.0, abs=1e-12)
    assert "toy_gold.entity_strict_f1 worse by 0.6923" in rows["2"]["reason"]
