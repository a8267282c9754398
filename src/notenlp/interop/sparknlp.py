"""Spark NLP interoperability: Annotation columns <-> rows of ``notenlp.schemas.ENTITY``.

Spark NLP (and its licensed Healthcare library) stores annotator output as
``array<struct<annotatorType, begin, end, result, metadata: map<string,string>, embeddings: array<float>>>``
with ``end`` inclusive. ``ner_chunk`` annotations carry ``metadata.entity`` (the label) and
``metadata.confidence``; ``assertion`` annotations (one per chunk, same begin/end) carry the
status in ``result``: present, absent, possible, hypothetical, conditional,
associated_with_someone_else, past (Healthcare names; a few aliases are accepted).

These are plain DataFrame -> DataFrame functions on pyspark built-ins, so they work with or
without Spark NLP installed; ``require_sparknlp()`` is for code paths that run Spark NLP
annotators. pyspark is imported inside the functions: ``notenlp`` imports without Spark.
"""

from __future__ import annotations

from typing import Any

from notenlp.attributes import ASSERTION_FLAGS
from notenlp.config import ConfigError
from notenlp import schemas
from notenlp.schemas import ENTITY

ANNOTATION_SCHEMA = ("array<struct<annotatorType:string,begin:int,end:int,result:string,"
                     "metadata:map<string,string>,embeddings:array<float>>>")
# Spark NLP Healthcare assertion statuses -> our assertion flags.
ASSERTION_FLAGS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "present": (),
    "absent": ("negated",),
    "negated": ("negated",),
    "possible": ("possible",),
    "hypothetical": ("hypothetical",),
    "conditional": ("conditional",),
    "associated_with_someone_else": ("family",),
    "someoneelse": ("family",),
    "family": ("family",),
    "past": ("historical",),
    "history": ("historical",),
}
# Spark NLP clinical NER labels (ner_clinical, ner_jsl, ner_posology) -> our labels.
LABEL_ALIASES: dict[str, str] = {
    "PROBLEM": "PROBLEM", "TEST": "TEST", "TREATMENT": "DRUG", "DRUG": "DRUG", "PROCEDURE": "PROCEDURE",
    "DISEASE_SYNDROME_DISORDER": "PROBLEM", "SYMPTOM": "PROBLEM", "DRUG_INGREDIENT": "DRUG", "DRUG_BRANDNAME": "DRUG",
    "STRENGTH": "STRENGTH", "DOSAGE": "DOSE", "DOSE": "DOSE", "ROUTE": "ROUTE", "FREQUENCY": "FREQUENCY",
    "DURATION": "DURATION", "FORM": "FORM",
}
STATUS_BY_FLAG = {"negated": "absent", "possible": "possible", "hypothetical": "hypothetical",
                  "conditional": "conditional", "family": "associated_with_someone_else", "historical": "past"}


class SparkNLPUnavailable(ConfigError):
    """Spark NLP is switched on (Settings.spark_nlp or NOTENLP_ENGINE=sparknlp) but cannot be used."""


# Native backends of Spark NLP's deep-learning annotators. Maven Central serves none of them for
# spark-nlp_2.12 5.5.3 (tensorflow-cpu_2.12 0.4.4, jsl-llamacpp-cpu_2.12 0.1.4, jsl-openvino-cpu_2.12
# 0.1.0: "not found"), so resolution excludes them: NerDLApproach then fails with
# NoClassDefFoundError org/tensorflow/Graph, while the JVM-only annotators (DocumentAssembler,
# SentenceDetector, Tokenizer, PerceptronApproach, Word2VecApproach, NerCrfApproach) work.
NATIVE_BACKENDS = ("tensorflow-cpu", "jsl-llamacpp-cpu", "jsl-openvino-cpu")
IVY_DIR_ENV = "NOTENLP_IVY_DIR"


def spark_nlp_coordinate(pyspark_version: str, sparknlp_version: str) -> str:
    """The Maven coordinate of the Spark NLP JAR for a Spark version (Spark NLP's own rule).

    Spark 3.x is Scala 2.12 (``spark-nlp_2.12``); Spark 4.0.0 has ``spark-nlp-spark400_2.13`` and
    later 4.x ``spark-nlp_2.13``. A JAR built for the other Scala cannot load: a 2.12 JAR on Spark
    4.3 fails with ``NoClassDefFoundError: scala/collection/GenTraversableOnce``.
    """
    parts = str(pyspark_version).split(".")
    if len(parts) < 2 or not parts[0].isdigit():
        raise SparkNLPUnavailable(f"cannot tell the Scala version of Spark {pyspark_version!r}")
    major = int(parts[0])
    if major == 3:
        artifact = "spark-nlp_2.12"
    elif major == 4:
        artifact = "spark-nlp-spark400_2.13" if str(pyspark_version) == "4.0.0" else "spark-nlp_2.13"
    else:
        raise SparkNLPUnavailable(f"Spark NLP publishes no JAR for Spark {pyspark_version}")
    return f"com.johnsnowlabs.nlp:{artifact}:{sparknlp_version}"


def ivy_dir() -> str:
    """Where Ivy keeps the Spark NLP JAR and its dependencies (``NOTENLP_IVY_DIR``, else the user cache)."""
    import os

    return os.environ.get(IVY_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "notenlp", "ivy")


def spark_nlp_conf(pyspark_version: str, sparknlp_version: str, *, cache: str | None = None) -> dict[str, str]:
    """Spark settings that fetch the Spark NLP JAR from Maven Central once and reuse it from the cache.

    Writes ``<cache>/ivysettings.xml`` (Central only; see the shipped template for why not ~/.m2).
    """
    from pathlib import Path

    from notenlp.resources import resource_path

    folder = Path(cache or ivy_dir())
    folder.mkdir(parents=True, exist_ok=True)
    settings = folder / "ivysettings.xml"
    text = resource_path("sparknlp", "ivysettings.xml").read_text(encoding="utf-8").replace(
        "@IVY_CACHE@", str(folder / "cache"))
    if not settings.exists() or settings.read_text(encoding="utf-8") != text:
        settings.write_text(text, encoding="utf-8")
    coordinate = spark_nlp_coordinate(pyspark_version, sparknlp_version)
    scala = coordinate.split(":")[1].rsplit("_", 1)[1]
    return {
        "spark.jars.packages": coordinate,
        "spark.jars.ivy": str(folder),
        "spark.jars.ivySettings": str(settings),
        "spark.jars.excludes": ",".join(f"com.johnsnowlabs.nlp:{name}_{scala}" for name in NATIVE_BACKENDS),
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
        "spark.kryoserializer.buffer.max": "512m",
    }


def installed_spark_nlp_conf() -> dict[str, str]:
    """``spark_nlp_conf`` for the installed pyspark and spark-nlp packages."""
    import pyspark

    return spark_nlp_conf(pyspark.__version__, require_sparknlp())


def require_sparknlp(spark: Any | None = None) -> str:
    """Check that Spark NLP's Python package and JAR are usable; returns its version.

    Raises ``SparkNLPUnavailable`` with what to install when either is missing. Passing a
    running session also loads a Spark NLP class through Spark's own class loader (where
    ``spark.jars.packages`` puts the JAR; ``Class.forName`` from Py4J does not see it), so a JAR
    built for another Scala version is reported as such.
    """
    try:
        import sparknlp
    except ImportError:
        raise SparkNLPUnavailable(
            "Spark NLP is switched on but the 'spark-nlp' Python package is not installed: "
            "pip install spark-nlp==<version built for your Spark>, and start Spark with its JAR "
            "(spark.jars, or spark.jars.packages com.johnsnowlabs.nlp:spark-nlp_<scala>:<version>), "
            "or set NOTENLP_ENGINE=python"
        ) from None
    version = str(getattr(sparknlp, "version", lambda: "unknown")())
    if spark is not None:
        coordinate = spark_nlp_coordinate(spark.version, version)
        try:
            spark.sparkContext._jvm.org.apache.spark.util.Utils.classForName(
                "com.johnsnowlabs.nlp.DocumentAssembler", True, False)
        except Exception as error:
            detail = str(error)
            if "scala/" in detail or "scala." in detail:
                reason = (f"its JAR does not link against Spark {spark.version}'s Scala "
                          f"({_first_java_error(detail)}): a JAR for another Scala version is on the classpath")
            else:
                reason = "the Spark session has no Spark NLP JAR"
            raise SparkNLPUnavailable(
                f"spark-nlp {version} is installed, but {reason}; Spark {spark.version} needs {coordinate} "
                "(spark.jars.packages, see notenlp.interop.sparknlp.spark_nlp_conf, or spark.jars with a local "
                "JAR), or set NOTENLP_ENGINE=python"
            ) from None
    return version


def _first_java_error(detail: str) -> str:
    for line in detail.splitlines():
        if "Error" in line or "Exception" in line:
            return line.strip().lstrip(": ")[:200]
    return detail.splitlines()[0][:200] if detail else "unknown error"


def _omop_conventions(*columns):
    """term_exists / term_temporal / term_modifiers from the flags, by notenlp.omop's one definition."""
    from pyspark.sql import functions as F

    @F.udf("struct<term_exists: string, term_temporal: string, term_modifiers: string>")
    def conventions(*values):
        from notenlp.doc import Entity
        from notenlp.omop import term_exists, term_modifiers, term_temporal

        *flags, section, label = values
        entity = Entity(start=0, end=0, text="", label=label or "", section=section or "",
                        **{name: bool(value) for name, value in zip(ASSERTION_FLAGS, flags)})
        return term_exists(entity), term_temporal(entity), term_modifiers(entity)

    return conventions(*columns)


def annotations_to_entities(df, *, note_id_col: str = "note_id", chunk_col: str = "ner_chunk",
                            assertion_col: str | None = "assertion", text_col: str | None = "text",
                            source: str = "sparknlp"):
    """Rows of ``notenlp.schemas.ENTITY`` from a Spark NLP chunk column (+ optional assertion column).

    Offsets become end-exclusive; assertions pair with chunks by (begin, end), falling back to
    position in the array. ``metadata.confidence`` becomes ``score``; concept columns are 0/empty
    (the normalizer fills them), unless the chunk metadata has ``concept_id``.
    """
    from pyspark.sql import functions as F

    assertion = F.col(assertion_col) if assertion_col and assertion_col in df.columns else F.array()
    snippet = F.col(text_col) if text_col and text_col in df.columns else F.lit(None).cast("string")
    exploded = df.select(
        F.col(note_id_col).cast("bigint").alias("note_id"),
        F.posexplode_outer(F.col(chunk_col)).alias("pos", "chunk"),
        assertion.alias("_assertions"),
        snippet.alias("_text"),
    ).where(F.col("chunk").isNotNull())
    matching = F.filter(F.col("_assertions"),
                        lambda a: (a["begin"] == F.col("chunk.begin")) & (a["end"] == F.col("chunk.end")))
    status = F.lower(F.coalesce(
        F.element_at(matching, 1)["result"],
        F.when(F.size("_assertions") > F.col("pos"), F.col("_assertions")[F.col("pos")]["result"]),
        F.lit("present"),
    ))
    raw_label = F.upper(F.coalesce(F.col("chunk.metadata")["entity"], F.col("chunk.metadata")["ner_label"],
                                   F.lit("")))
    label_map = F.create_map(*[F.lit(x) for pair in LABEL_ALIASES.items() for x in pair])
    flag = {name: F.lit(False) for name in ASSERTION_FLAGS}
    for status_name, flags in ASSERTION_FLAGS_BY_STATUS.items():
        for name in flags:
            flag[name] = flag[name] | (status == F.lit(status_name))
    start = F.col("chunk.begin")
    end = F.col("chunk.end") + 1
    columns = {
        "note_id": F.col("note_id"),
        "entity_id": F.col("pos").cast("int"),
        "start": start.cast("int"),
        "end": end.cast("int"),
        "lexical_variant": F.col("chunk.result"),
        # up to 40 characters either side of the chunk (substring is 1-based)
        "snippet": F.expr("substring(_text, greatest(chunk.begin - 39, 1), "
                          "chunk.end + 41 - greatest(chunk.begin - 39, 1))"),
        "label": F.coalesce(F.element_at(label_map, raw_label), raw_label),
        "source": F.lit(source),
        "score": F.coalesce(F.col("chunk.metadata")["confidence"].cast("double"), F.lit(1.0)),
        "section": F.coalesce(F.col("chunk.metadata")["section"], F.lit("")),
        "section_concept_id": F.lit(0),
        **{name: flag[name] for name in ASSERTION_FLAGS},
        "concept_id": F.coalesce(F.col("chunk.metadata")["concept_id"].cast("int"), F.lit(0)),
        "source_concept_id": F.coalesce(F.col("chunk.metadata")["source_concept_id"].cast("int"), F.lit(0)),
        "vocabulary_id": F.coalesce(F.col("chunk.metadata")["vocabulary_id"], F.lit("")),
        "concept_code": F.coalesce(F.col("chunk.metadata")["concept_code"], F.lit("")),
        "concept_name": F.coalesce(F.col("chunk.metadata")["concept_name"], F.lit("")),
        "match_score": F.coalesce(F.col("chunk.metadata")["match_score"].cast("double"), F.lit(0.0)),
    }
    conventions = _omop_conventions(*[flag[name] for name in ASSERTION_FLAGS], columns["section"], columns["label"])
    for name in ("term_exists", "term_temporal", "term_modifiers"):
        columns[name] = conventions[name]
    names = schemas.columns(ENTITY)
    out = exploded.select(*[columns[name].alias(name) for name in names])
    return out.select(*[F.col(n).cast(t) for n, t in schemas.column_types(ENTITY)])


def entities_to_annotations(entities_df, *, note_id_col: str = "note_id", chunk_col: str = "ner_chunk",
                            assertion_col: str = "assertion"):
    """One row per note with Spark NLP Annotation arrays: ``ner_chunk`` and ``assertion``.

    ``end`` becomes inclusive; the chunk metadata carries entity (label), confidence, chunk index
    and the concept fields; the assertion result is the Healthcare status of the entity's flags
    (absent > family > hypothetical > conditional > possible > past > present).
    """
    from pyspark.sql import functions as F

    status = F.lit("present")
    for name in ("historical", "possible", "conditional", "hypothetical", "family", "negated"):
        status = F.when(F.col(name), F.lit(STATUS_BY_FLAG[name])).otherwise(status)

    def metadata(*pairs):
        return F.create_map(*[x for key, value in pairs for x in (F.lit(key), value.cast("string"))])

    chunk = F.struct(
        F.lit("chunk").alias("annotatorType"), F.col("start").cast("int").alias("begin"),
        (F.col("end") - 1).cast("int").alias("end"), F.col("lexical_variant").alias("result"),
        metadata(("entity", F.col("label")), ("confidence", F.col("score")), ("chunk", F.col("entity_id")),
                 ("sentence", F.lit(0)), ("section", F.col("section")), ("concept_id", F.col("concept_id")),
                 ("source_concept_id", F.col("source_concept_id")), ("vocabulary_id", F.col("vocabulary_id")),
                 ("concept_code", F.col("concept_code")), ("match_score", F.col("match_score"))).alias("metadata"),
        F.array().cast("array<float>").alias("embeddings"),
    )
    assertion = F.struct(
        F.lit("assertion").alias("annotatorType"), F.col("start").cast("int").alias("begin"),
        (F.col("end") - 1).cast("int").alias("end"), status.alias("result"),
        metadata(("chunk", F.col("entity_id")), ("ner_chunk", F.col("lexical_variant")),
                 ("confidence", F.lit(1.0))).alias("metadata"),
        F.array().cast("array<float>").alias("embeddings"),
    )
    def by_offset(left, right):  # maps are not orderable, so sort_array cannot compare the structs
        return (F.when(left["start"] < right["start"], -1).when(left["start"] > right["start"], 1)
                .when(left["entity_id"] < right["entity_id"], -1).when(left["entity_id"] > right["entity_id"], 1)
                .otherwise(0))

    grouped = entities_df.groupBy(F.col(note_id_col).alias("note_id")).agg(
        F.array_sort(F.collect_list(F.struct(F.col("start"), F.col("entity_id"), chunk.alias("c"),
                                             assertion.alias("a"))), by_offset).alias("_items"))
    return grouped.select(
        "note_id",
        F.transform("_items", lambda item: item["c"]).cast(ANNOTATION_SCHEMA).alias(chunk_col),
        F.transform("_items", lambda item: item["a"]).cast(ANNOTATION_SCHEMA).alias(assertion_col),
    )
