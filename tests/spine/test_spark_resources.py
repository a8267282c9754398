"""Spark's memory and partitions follow the machine and the input size, and configuration wins."""

from __future__ import annotations


def test_partitions_grow_with_input_and_settings_override(monkeypatch, tmp_path):
    from notenlp import spark_session
    from notenlp.config import Settings

    monkeypatch.setattr(spark_session, "machine", lambda: (2, 24 * spark_session.GIB))
    monkeypatch.delenv("NOTENLP_DRIVER_MEMORY", raising=False)
    auto = Settings(home=tmp_path)
    small = spark_session.spark_resources(auto, 5 * 1024 ** 2)
    large = spark_session.spark_resources(auto, 4 * 1024 ** 3)
    assert small["spark.sql.shuffle.partitions"] == "4"  # two per core
    assert large["spark.sql.shuffle.partitions"] == "256"  # one per 16 MB
    assert small["spark.driver.memory"] == "3g"  # an eighth of 24 GiB, at most 3
    assert spark_session.spark_resources(Settings(home=tmp_path, spark_shuffle_partitions=7), 4 * 1024 ** 3)[
        "spark.sql.shuffle.partitions"] == "7"
    monkeypatch.setenv("NOTENLP_DRIVER_MEMORY", "5g")
    assert spark_session.spark_resources(auto)["spark.driver.memory"] == "5g"


def test_small_machines_get_at_least_one_gib(monkeypatch, tmp_path):
    from notenlp import spark_session
    from notenlp.config import Settings

    monkeypatch.setattr(spark_session, "machine", lambda: (1, 4 * spark_session.GIB))
    monkeypatch.delenv("NOTENLP_EXECUTOR_MEMORY", raising=False)
    assert spark_session.spark_resources(Settings(home=tmp_path))["spark.executor.memory"] == "1g"


def test_input_bytes_counts_files_folders_and_globs(tmp_path):
    from notenlp.spark_session import input_bytes

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.parquet").write_bytes(b"1234")
    (tmp_path / "b.csv").write_bytes(b"12")
    assert input_bytes(str(tmp_path / "a")) == 4
    assert input_bytes(str(tmp_path / "*.csv")) == 2
    assert input_bytes(str(tmp_path / "missing")) == 0
    assert input_bytes(None) == 0


def test_memory_sampler_sees_this_process():
    import os

    import psutil

    from notenlp.nightly_bench import sample_tree

    peaks = sample_tree(psutil.Process(os.getpid()))
    assert peaks.driver_mb > 10
    assert peaks.tree_total_mb >= peaks.driver_mb
