"""The compose file describes the site the README deploys: which services, on which images and volumes.
Docker's own validation (``docker compose config`` / Debian's ``docker-compose config``) runs where a client is
installed; no container is started (these machines have no Docker engine)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


def test_services_share_the_notenlp_home_and_force_no_bind_address():
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert {"postgres-cdm", "postgres-services", "mlflow", "spark-master", "spark-worker", "airflow-api-server",
            "airflow-scheduler", "airflow-dag-processor"} <= set(services)
    for name in ("spark-worker", "airflow-scheduler"):  # executors and the driver read the same staging files
        assert "notenlp-data:/data" in services[name]["volumes"]
        assert services[name]["environment"]["NOTENLP_SPARK_MASTER"] == "spark://spark-master:7077"
    assert "postgresql" in " ".join(services["mlflow"]["command"])
    assert not any("SPARK_LOCAL_IP" in (s.get("environment") or {}) for s in services.values())
    assert "SPARK_LOCAL_IP" not in (COMPOSE.parent / "Dockerfile").read_text(encoding="utf-8")


def test_docker_validates_the_compose_file():
    if shutil.which("docker-compose"):
        command = ["docker-compose"]
    elif shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose"]
    else:
        pytest.skip("no docker compose client (apt-get install docker-compose) to validate docker/compose.yaml")
    done = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_mlflow_server_admits_the_host_name_the_services_call_it_by():
    """MLflow's host check admits only localhost and IP addresses by default: a request to http://mlflow:5000
    from another container is refused unless the server allows that name (MLflow's own matching rule)."""
    from urllib.parse import urlparse

    from mlflow.server.security_utils import get_default_allowed_hosts, is_allowed_host_header

    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    called = {urlparse(s["environment"]["NOTENLP_MLFLOW_TRACKING_URI"]).netloc for s in services.values()
              if "NOTENLP_MLFLOW_TRACKING_URI" in (s.get("environment") or {})}
    allowed = [arg.split("=", 1)[1] for arg in services["mlflow"]["command"] if arg.startswith("--allowed-hosts=")]
    assert called == {"mlflow:5000"} and len(allowed) == 1
    assert not is_allowed_host_header(get_default_allowed_hosts(), "mlflow:5000")  # why the option is there
    assert all(is_allowed_host_header(allowed[0].split(","), host) for host in (*called, "127.0.0.1:5000"))
