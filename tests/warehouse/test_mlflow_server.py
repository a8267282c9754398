"""A site's shared MLflow server: the README's "A shared MLflow server", step for step.

Real components: ``mlflow server`` on 127.0.0.1 with its backend store in PostgreSQL (a database of the test
session's server, conftest) and proxied artifacts (``--artifacts-destination`` a folder the clients never
write); the ``notenlp`` command line in child processes, as a site runs it. The catalog's models are registered
and promoted with ``notenlp models register NAME --promote``; a demo night then runs with only
``NOTENLP_MLFLOW_TRACKING_URI`` naming the server, into the PostgreSQL warehouse. The night's ``nlp_system``
must name every champion, and each champion it loads must have been downloaded from the server once, into
``<home>/mlruns/champions``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from notenlp.config import Settings
from notenlp.lifecycle.catalog import load_catalog
from tests.ports import free_port

BIN = Path(sys.executable).parent
SITE_NAME = "mlflow"  # the host name a site's clients call the server by (docker/compose.yaml)
NOTES = 8
RUN_DATE = "2026-12-05"
# uvicorn's access log line of a file the server streams from --artifacts-destination
FILE_GET = re.compile(r'"GET /api/2\.0/mlflow-artifacts/artifacts/(\S+) HTTP')


@contextmanager
def mlflow_server(backend: str, artifacts: Path, log_path: Path):
    """``mlflow server`` on a free port of 127.0.0.1; yields its URL; stopped (its process group) after."""
    port = free_port()
    command = [str(BIN / "mlflow"), "server", "--backend-store-uri", backend, "--artifacts-destination",
               str(artifacts), "--allowed-hosts", f"{SITE_NAME}:{port},localhost:*,127.0.0.1:*",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # mlflow starts uvicorn by name: it must be this environment's
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    env.pop("MLFLOW_TRACKING_URI", None)
    # no job-execution workers (MLflow's GenAI jobs; two huey consumers with 15 workers that notenlp never uses)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + 300
        while True:
            assert server.poll() is None, f"mlflow server exited early:\n{log_path.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < give_up, f"mlflow server not ready in 300 s:\n{log_path.read_text()[-3000:]}"
            time.sleep(1)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture
def backend_store(postgres_url):
    """A database of its own on the session's PostgreSQL, as SQLAlchemy names it for psycopg 3."""
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("drop database if exists mlflow_site")
        con.execute("create database mlflow_site")
    yield "postgresql+psycopg://" + postgres_url.split("://", 1)[1].rsplit("/", 1)[0] + "/mlflow_site"
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("drop database if exists mlflow_site with (force)")


def _notenlp(env: dict[str, str], *args: str, cwd: Path, timeout: int = 900) -> str:
    done = subprocess.run([str(BIN / "notenlp"), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"notenlp {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def _status_for_host(url: str, host: str) -> int:
    """The server's answer to a registry call addressed (Host header) to ``host``."""
    request = urllib.request.Request(f"{url}/api/2.0/mlflow/registered-models/search?max_results=1",
                                     headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def _files_served(log_path: Path, start: int) -> list[str]:
    return FILE_GET.findall(log_path.read_text(encoding="utf-8", errors="replace")[start:])


@pytest.mark.slow
def test_a_night_uses_the_champions_of_a_shared_mlflow_server(postgres_url, backend_store, tmp_path):
    home, artifacts, log_path = tmp_path / "home", tmp_path / "artifacts", tmp_path / "mlflow-server.log"
    home.mkdir()
    with psycopg.connect(postgres_url, autocommit=True) as con:  # a warehouse of the site's, empty
        con.execute("drop schema if exists results cascade; drop schema if exists vocab cascade")
    with mlflow_server(backend_store, artifacts, log_path) as url:
        port = url.rsplit(":", 1)[1]
        # a site's clients call it by name: --allowed-hosts admits that name, the host check stays on for others
        assert _status_for_host(url, f"{SITE_NAME}:{port}") == 200
        assert _status_for_host(url, f"elsewhere.example:{port}") == 403
        env = {key: value for key, value in os.environ.items() if not key.startswith(("NOTENLP_", "MLFLOW_"))}
        env.update({"NOTENLP_HOME": str(home), "NOTENLP_MLFLOW_TRACKING_URI": url,
                    "NOTENLP_WAREHOUSE_URL": postgres_url, "NOTENLP_DRIVER_MEMORY": "2g",
                    "NOTENLP_SPARK_SHUFFLE_PARTITIONS": "2"})
        catalog = list(load_catalog())
        for name in catalog:
            assert "promoted: first version" in _notenlp(env, "models", "register", name, "--promote", cwd=home)
        listed = json.loads(_notenlp(env, "models", "list", "--json", cwd=home))
        assert sorted((row["name"], row["version"], row["aliases"]) for row in listed) == \
            sorted((name, "1", ["champion"]) for name in catalog)
        # proxied artifacts: the models are in the server's destination, nothing under the client's home
        assert len(list(artifacts.rglob("MLmodel"))) == len(catalog)
        assert not list(home.rglob("MLmodel"))

        before_night = len(log_path.read_text(encoding="utf-8", errors="replace"))
        printed = _notenlp(env, "nightly", "--demo", "--demo-notes", str(NOTES), "--run-date", RUN_DATE,
                           "--master", "local[2]", "--no-register-models", cwd=home, timeout=1800)
        served = _files_served(log_path, before_night)

        # every champion the pipeline loads (the models that own components) came down once, into champions/
        owning = sorted(spec.name for spec in load_catalog().values() if spec.owns)
        champions = home / "mlruns" / "champions"
        assert sorted(p.parent.parent.name for p in champions.glob("*/*/MLmodel")) == owning
        model_files = [p for p in served if p.endswith("/MLmodel")]
        assert len(model_files) == len(set(model_files)) == len(owning), served
        assert len(served) == len(set(served)), f"a champion's file was downloaded twice in one night: {served}"

        # the night's rows name each champion and its version
        with psycopg.connect(postgres_url) as con:
            systems = [r[0] for r in con.execute("select distinct nlp_system from results.note_nlp").fetchall()]
            loaded = con.execute("select count(*) from results.note_nlp").fetchone()[0]
        assert len(systems) == 1 and loaded > NOTES
        assert [f"{name} v1" for name in sorted(catalog)] == re.findall(r"notenlp-\w+ v\d+", systems[0])
        assert (home / "reports" / f"notenlp-report-{RUN_DATE}.html").is_file() and "report:" in printed

        # a later process resolves the same champions from its cache: the registry is asked, no file is served
        before = len(log_path.read_text(encoding="utf-8", errors="replace"))
        resolved = subprocess.run(
            [sys.executable, "-c", "from notenlp.lifecycle.registry import pipeline_overrides_from_champions as o; "
             "import json; print(json.dumps(o()))"], env=env, cwd=home, capture_output=True, text=True, timeout=300)
        assert resolved.returncode == 0, resolved.stderr[-3000:]
        overrides = json.loads(resolved.stdout.strip().splitlines()[-1])
        # the NER weights and the ConText rules the pipeline runs are the champions' copies
        assert overrides["ner_model"]["model_path"].startswith(str(champions / "notenlp-ner" / "1"))
        assert overrides["context"]["rules"].startswith(str(champions / "notenlp-assertion" / "1"))
        assert _files_served(log_path, before) == []


def test_mlflow_tracking_uri_set_outside_is_named_and_not_followed(tmp_path, monkeypatch, caplog):
    """docs/models.md: the store is NOTENLP_MLFLOW_TRACKING_URI's (or the home's); MLflow's own variable is not
    read, because mlflow.set_tracking_uri exports it and one store would follow into the next."""
    import mlflow

    from notenlp.tracking import configure_mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:secret@mlflow.example:5000")
    settings = Settings(home=tmp_path / "home")
    with caplog.at_level(logging.WARNING, logger="notenlp.tracking"):
        configure_mlflow(settings)
        assert mlflow.get_tracking_uri() == settings.mlflow_tracking_uri
        configure_mlflow(Settings(home=tmp_path / "other"))  # its own export is no outside choice
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "http://user:***@mlflow.example:5000" in warnings[0]
    assert "secret" not in warnings[0]
