"""Shared fixtures: one real local SparkSession for the whole test session, and per-test homes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # GX runs offline in every test
# Spark's Python workers must import the code under test (src/) and test-only components (tests/).
_ROOT = Path(__file__).resolve().parents[1]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(_ROOT / "src"), str(_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from notenlp.config import Settings
    from notenlp.spark_session import get_spark

    # NOTENLP_ENGINE=sparknlp starts it with the Spark NLP JAR (tests/annotate/test_sparknlp_engine.py needs it).
    settings = Settings(home=tmp_path_factory.mktemp("spark-home"), spark_master="local[2]", spark_shuffle_partitions=2,
                        engine=os.environ.get("NOTENLP_ENGINE", "python"))
    session = get_spark(settings, "notenlp-tests")
    yield session
    session.stop()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh NOTENLP_HOME (warehouse, staging, sealed, mlruns) for one test."""
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path
