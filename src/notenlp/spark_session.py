"""The SparkSession every job uses: ``local[*]`` by default, any cluster by changing ``--master``."""

from __future__ import annotations

import logging
import os
import sys

from notenlp.config import Settings

log = logging.getLogger(__name__)


GIB = 1024 ** 3
# One shuffle partition per this much input (compressed source or Parquet): entity rows fan a note out
# several-fold, so partitions stay a few hundred MB however large the night is.
SHUFFLE_INPUT_BYTES = 16 * 1024 ** 2
MAX_SHUFFLE_PARTITIONS = 2000


def machine() -> tuple[int, int]:
    """(cores, bytes of physical memory) of this machine."""
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 8 * GIB
    return cores, memory


def input_bytes(path: str | None) -> int:
    """Bytes under an input path (file, folder or glob); 0 when unknown."""
    import glob

    if not path:
        return 0
    total = 0
    for match in glob.glob(path) or [path]:
        if os.path.isfile(match):
            total += os.path.getsize(match)
        elif os.path.isdir(match):
            for root, _, files in os.walk(match):
                total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def spark_resources(settings: Settings, size: int = 0) -> dict[str, str]:
    """Memory and partitioning from the machine and the input size; each overridable.

    * JVM heap (driver, and executors on a cluster): an eighth of physical memory, between 1 and 3 GiB, so
      a process stays under 4 GB resident; ``NOTENLP_DRIVER_MEMORY`` / ``NOTENLP_EXECUTOR_MEMORY`` override.
    * shuffle partitions: ``Settings.spark_shuffle_partitions`` when set (> 0), else two per core or one per
      16 MB of input, whichever is more (adaptive execution coalesces small ones).
    * rows that do not fit spill to disk: sorts, windows and Python workers' buffers, never the driver.
    """
    cores, memory = machine()
    heap = f"{max(1, min(3, memory // (8 * GIB)))}g"
    partitions = settings.spark_shuffle_partitions or min(
        MAX_SHUFFLE_PARTITIONS, max(2 * cores, -(-size // SHUFFLE_INPUT_BYTES)))
    return {
        "spark.driver.memory": os.environ.get("NOTENLP_DRIVER_MEMORY", heap),
        "spark.executor.memory": os.environ.get("NOTENLP_EXECUTOR_MEMORY", heap),
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.windowExec.buffer.spill.threshold": "65536",
        "spark.python.worker.memory": "256m",
    }


def get_spark(settings: Settings, app_name: str = "notenlp", *, input_size: int = 0):
    """Create (or reuse) the session. Importing pyspark happens here, never at package import.

    ``input_size`` (bytes of the night's input) sizes the shuffle partitions; see ``spark_resources``.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # No bind address is forced: Spark picks the host's, a cluster needs one its executors reach, and a
    # machine without a resolvable hostname sets SPARK_LOCAL_IP=127.0.0.1 itself (run.sh and the tests do).
    from pyspark.sql import SparkSession

    resources = spark_resources(settings, input_size)
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.shuffle.partitions", resources["spark.sql.shuffle.partitions"])
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
    for key in ("spark.sql.adaptive.enabled", "spark.sql.adaptive.coalescePartitions.enabled",
                "spark.sql.windowExec.buffer.spill.threshold", "spark.python.worker.memory"):
        builder = builder.config(key, resources[key])
    # In local mode the driver JVM is the executor; on a cluster spark-submit may set these itself.
    builder = builder.config("spark.driver.memory", resources["spark.driver.memory"])
    if not settings.spark_master.startswith("local"):
        builder = builder.config("spark.executor.memory", resources["spark.executor.memory"])
    if settings.engine == "sparknlp":  # the Spark NLP JAR, fetched once into the Ivy cache
        from notenlp.interop.sparknlp import SparkNLPUnavailable, installed_spark_nlp_conf

        conf = installed_spark_nlp_conf()
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            spark = builder.getOrCreate()
        except Exception as error:  # Ivy's report (above, on stderr) names what Maven Central did not serve
            raise SparkNLPUnavailable(
                f"Spark did not start with {conf['spark.jars.packages']} ({type(error).__name__}): Maven Central "
                f"may not serve it for this Spark; Ivy's report above says which artifact was not found "
                f"(cache {conf['spark.jars.ivy']}); or set NOTENLP_ENGINE=python") from None
    else:
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    if settings.engine == "sparknlp":
        from notenlp.interop.sparknlp import require_sparknlp

        require_sparknlp(spark)
    log.info("Spark %s session on %s: heap %s, %s shuffle partitions", spark.version, spark.sparkContext.master,
             resources["spark.driver.memory"], resources["spark.sql.shuffle.partitions"])
    return spark
