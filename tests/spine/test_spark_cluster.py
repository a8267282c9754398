"""A real Spark standalone cluster: one master and two workers started from the pyspark installation on
127.0.0.1, the night run on it with ``--master spark://127.0.0.1:PORT`` and nothing else changed, and its
NOTE, NOTE_NLP and NOTE_NLP_RELATION compared with the same night in local mode (same notes, same
surrogate key). Master, workers and their executors are this test's own processes, stopped however it ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.floats import approx_floats
from tests.ports import free_port

pytestmark = [pytest.mark.slow, pytest.mark.cluster]
N_NOTES = 20
RUN_DATE = "2026-11-01"
WORKERS = 2
# Each worker offers one core and 1 GiB; each executor asks for less, so both workers run one.
WORKER_MEMORY = "1g"
EXECUTOR_MEMORY = "640m"
START_TIMEOUT_S = 180



def _wait_for(log: Path, text: str, count: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        body = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if body.count(text) >= count:
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{body[-3000:]}")
        time.sleep(0.5)
    raise TimeoutError(f"{what}: no {text!r} within {START_TIMEOUT_S}s:\n{log.read_text(errors='replace')[-3000:]}")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, even by a signal that skips finalizers
    (spark-class execs the JVM, which keeps this setting)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop each daemon's process group (the JVM and any executor it launched): TERM, then KILL."""
    for proc in reversed(procs):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in reversed(procs):
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def standalone_master(tmp_path_factory):
    """``spark://127.0.0.1:PORT`` of a running master with WORKERS registered workers."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_class = spark_home / "bin" / "spark-class"
    root = tmp_path_factory.mktemp("spark-cluster")
    env = {**os.environ, "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_DAEMON_MEMORY": "256m", "SPARK_LOG_DIR": str(root / "logs"), "SPARK_NO_DAEMONIZE": "1"}
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> tuple[subprocess.Popen, Path]:
        log = root / f"{name}.log"
        with log.open("wb") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen([str(spark_class), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=root,
                                    preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        procs.append(proc)
        return proc, log

    try:
        master, master_log = start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", str(port), "--webui-port", str(free_port()))
        _wait_for(master_log, "I have been elected leader", 1, master, "Spark master")
        workers = [start(f"worker-{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                         "--cores", "1", "--memory", WORKER_MEMORY, "--webui-port", str(free_port()),
                         "--work-dir", str(root / f"work-{i}"), url)[0] for i in range(WORKERS)]
        for i, worker in enumerate(workers):
            _wait_for(master_log, "Registering worker", i + 1, worker, f"Spark worker {i}")
        yield {"url": url, "logs": root}
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory) -> Path:
    from notenlp.demo.generator import write_demo

    return Path(write_demo(tmp_path_factory.mktemp("cluster-demo"), N_NOTES, 5)["noteevents"])


def _rows(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "notenlp.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


NOTE_NLP = "select * exclude (nlp_datetime) from note_nlp order by note_nlp_id"
NOTE = "select * from note order by note_id"
RELATIONS = "select * exclude (nlp_datetime) from note_nlp_relation order by note_nlp_relation_id"


def test_the_night_on_a_standalone_cluster_loads_what_local_mode_loads(spark, standalone_master, demo_csv,
                                                                        tmp_path):
    from notenlp.config import Settings
    from notenlp.deid.keys import SECRET_FILE
    from notenlp.stages.runner import run_night

    local = tmp_path / "local"
    logs = run_night(Settings(home=local, spark_master="local[2]", use_registered_models=False),
                     date.fromisoformat(RUN_DATE), "mimic3", str(demo_csv))
    assert [r.stage for r in logs][-1] == "load"

    cluster = tmp_path / "cluster"
    (cluster / "sealed").mkdir(parents=True)  # the same surrogate key, so the same de-identified text
    shutil.copy2(local / "sealed" / SECRET_FILE, cluster / "sealed" / SECRET_FILE)
    env = {**os.environ, "NOTENLP_HOME": str(cluster), "NOTENLP_EXECUTOR_MEMORY": EXECUTOR_MEMORY,
           "NOTENLP_USE_REGISTERED_MODELS": "false", "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("NOTENLP_SPARK_MASTER", None)
    done = subprocess.run(
        [sys.executable, "-m", "notenlp.cli", "nightly", "--master", standalone_master["url"], "--source", "mimic3",
         "--input", str(demo_csv), "--run-date", RUN_DATE, "--no-report", "--no-register-models"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=1500)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert f"session on {standalone_master['url']}" in output, output[-4000:]
    executors = list(Path(standalone_master["logs"]).glob("work-*/app-*/*/stderr"))
    assert len({p.parents[2] for p in executors}) == WORKERS, f"executors ran on {executors}"

    assert _rows(cluster, NOTE) == _rows(local, NOTE)
    note_nlp = _rows(local, NOTE_NLP)
    assert len(note_nlp) > 5 * N_NOTES
    assert _rows(cluster, NOTE_NLP) == note_nlp
    assert _rows(cluster, RELATIONS) == approx_floats(_rows(local, RELATIONS))
