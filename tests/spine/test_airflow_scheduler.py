"""The nightly DAG under a real Airflow 3: api-server, scheduler and dag-processor on 127.0.0.1.

A run is triggered through the REST API for a logical date that is not today. Its ingest task fails
once (the input is not there yet) and the scheduler retries it; the night that lands in the warehouse
must be the logical date's, with every note loaded once. Clearing the run makes the scheduler run the
whole night again: the warehouse rows must not change.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.ports import free_port

pytestmark = pytest.mark.slow
DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "note_nlp_nightly"
NIGHT = "2026-12-05"
N_NOTES = 20



class Airflow:
    """A throwaway Airflow: SQLite metadata DB, LocalExecutor, no auth (all users admin)."""

    def __init__(self, root: Path, notenlp_home: Path):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        bin_dir = Path(sys.executable).parent
        self.airflow = str(bin_dir / "airflow")
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(root),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "NOTENLP_HOME": str(notenlp_home),
            "NOTENLP_NIGHTLY_SCHEDULE": "none",  # only the runs this test triggers
            "NOTENLP_TASK_RETRY_DELAY_MINUTES": "0.1",
            "NOTENLP_SPARK_MASTER": "local[2]",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        subprocess.run([self.airflow, "db", "migrate"], env=self.env, check=True, capture_output=True, timeout=300)
        for component in ("api-server", "scheduler", "dag-processor"):
            log = open(self.root / f"{component}.log", "wb")  # noqa: SIM115 - closed with the process
            self.processes.append(subprocess.Popen([self.airflow, component], env=self.env, stdout=log,
                                                   stderr=subprocess.STDOUT, start_new_session=True))
        self.wait_for(lambda: self.get("/api/v2/version"), "the api-server", 240)
        self.wait_for(lambda: self.get(f"/api/v2/dags/{DAG_ID}"), "the DAG to be parsed", 240)
        self.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str):
        try:
            return self.call("GET", path)
        except OSError:
            return None

    def wait_for(self, check, what: str, timeout_s: float):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise AssertionError(f"an Airflow component exited while waiting for {what}: {self.logs()}")
            result = check()
            if result:
                return result
            time.sleep(2)
        raise AssertionError(f"timed out waiting for {what}: {self.logs()}")

    def run_state(self, run_id: str) -> str | None:
        run = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
        return run and run["state"]

    def wait_for_run(self, run_id: str, timeout_s: float = 1200) -> str:
        return self.wait_for(lambda: self.run_state(run_id) in ("success", "failed") and self.run_state(run_id),
                             f"run {run_id}", timeout_s)

    def task_tries(self, run_id: str) -> dict[str, int]:
        listed = self.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti["try_number"] for ti in listed["task_instances"]}

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                         for log in sorted(self.root.glob("*.log")))


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    root = tmp_path_factory.mktemp("airflow")
    server = Airflow(root / "airflow_home", root / "notenlp_home")
    server.root.mkdir()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _warehouse_rows(home: Path) -> dict:
    with duckdb.connect(str(home / "warehouse" / "notenlp.duckdb"), read_only=True) as con:
        return {
            "notes": con.execute("select count(*), count(distinct note_id) from note").fetchone(),
            "note_nlp": con.execute("select count(*), count(distinct note_nlp_id), "
                                    "sum(hash(note_nlp_id, lexical_variant, note_nlp_concept_id)) "
                                    "from note_nlp").fetchone(),
            "nights": con.execute("select distinct cast(run_date as varchar) from notenlp_run_log "
                                  "order by 1").fetchall(),
            "load_rows": con.execute("select rows_out from notenlp_run_log where stage = 'load'").fetchall(),
        }


def test_a_triggered_night_is_retried_then_loads_its_logical_date_once(airflow, tmp_path):
    from notenlp.demo.generator import write_demo

    demo = write_demo(tmp_path / "demo", N_NOTES, 11)
    late_input = tmp_path / "arrives_late" / "NOTEEVENTS.csv.gz"  # absent when the run starts
    run = airflow.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {
        "dag_run_id": f"night-{NIGHT}", "logical_date": f"{NIGHT}T00:00:00Z",
        "conf": {"source": "mimic3", "input": str(late_input)}})
    run_id = run["dag_run_id"]
    airflow.wait_for(lambda: airflow.task_tries(run_id).get("ingest", 0) >= 1
                     and airflow.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/ingest")
                     ["state"] in ("up_for_retry", "failed"), "ingest's first try to fail", 600)
    late_input.parent.mkdir()
    shutil.copy(demo["noteevents"], late_input)

    assert airflow.wait_for_run(run_id) == "success", airflow.logs()
    assert airflow.task_tries(run_id)["ingest"] >= 2  # the scheduler retried it
    home = Path(airflow.env["NOTENLP_HOME"])
    first = _warehouse_rows(home)
    assert first["nights"] == [(NIGHT,)]  # the logical date, not the day it was triggered
    n_notes, distinct_notes = first["notes"]
    assert n_notes == distinct_notes and N_NOTES - 2 <= n_notes <= N_NOTES
    n_rows, distinct_rows, _ = first["note_nlp"]
    assert n_rows == distinct_rows and n_rows > 5 * n_notes

    airflow.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/clear", {"dry_run": False})
    airflow.wait_for(lambda: airflow.run_state(run_id) not in ("success", "failed"), "the cleared run to restart",
                     120)
    assert airflow.wait_for_run(run_id) == "success", airflow.logs()
    again = _warehouse_rows(home)
    assert again["notes"] == first["notes"] and again["note_nlp"] == first["note_nlp"]
    assert again["nights"] == [(NIGHT,)]
