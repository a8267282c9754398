"""The SparkSession every job uses: ``local[*]`` by default, any cluster by changing ``--master``."""

from __future__ import annotations

import logging
import os
import sys

from notenlp.config import Settings

log = logging.getLogger(__name__)


def get_spark(settings: Settings, app_name: str = "notenlp"):
    """Create (or reuse) the session. Importing pyspark happens here, never at package import."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
    )
    # spark-submit passes --master itself; only set it when this process created the JVM.
    if not os.environ.get("SPARK_SUBMIT_OPTS") and "spark.master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        builder = builder.master(settings.spark_master)
    if settings.spark_master.startswith("local"):
        builder = builder.config("spark.driver.memory", os.environ.get("NOTENLP_DRIVER_MEMORY", "2g"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    log.info("Spark %s session on %s", spark.version, spark.sparkContext.master)
    return spark
