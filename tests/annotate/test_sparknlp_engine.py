"""The Spark NLP engine: JAR resolution settings, chunk -> target plumbing on a real Spark ML
PipelineModel, and (where the Spark NLP JAR loads) a tiny NerCrf pipeline trained in the test."""

from __future__ import annotations

import pytest

from notenlp.config import ConfigError, Settings
from notenlp.interop.sparknlp import SparkNLPUnavailable, spark_nlp_conf, spark_nlp_coordinate
from notenlp.interop.sparknlp_ner import bio_tags, token_shape

NOTES = [
    (1, "Patient denies fever. History of type 2 diabetes mellitus."),
    (2, "Mother had breast cancer. Rash noted today."),
]


def test_coordinate_follows_the_scala_of_the_spark_version():
    assert spark_nlp_coordinate("3.5.8", "5.5.3") == "com.johnsnowlabs.nlp:spark-nlp_2.12:5.5.3"
    assert spark_nlp_coordinate("4.0.0", "7.0.0") == "com.johnsnowlabs.nlp:spark-nlp-spark400_2.13:7.0.0"
    assert spark_nlp_coordinate("4.3.0", "7.0.0") == "com.johnsnowlabs.nlp:spark-nlp_2.13:7.0.0"
    with pytest.raises(SparkNLPUnavailable, match="no JAR for Spark 5.0.0"):
        spark_nlp_coordinate("5.0.0", "7.0.0")


def test_conf_caches_the_jar_under_one_ivy_folder_with_central_only(tmp_path):
    conf = spark_nlp_conf("3.5.8", "5.5.3", cache=str(tmp_path / "ivy"))
    assert conf["spark.jars.packages"] == "com.johnsnowlabs.nlp:spark-nlp_2.12:5.5.3"
    assert conf["spark.jars.ivy"] == str(tmp_path / "ivy")
    settings = (tmp_path / "ivy" / "ivysettings.xml").read_text()
    assert f'defaultCacheDir="{tmp_path / "ivy" / "cache"}"' in settings and "@IVY_CACHE@" not in settings
    assert settings.count("<ibiblio ") == 1 and ".m2" not in settings.split("-->")[-1]  # Central only
    assert conf["spark.jars.excludes"].split(",") == [
        "com.johnsnowlabs.nlp:tensorflow-cpu_2.12", "com.johnsnowlabs.nlp:jsl-llamacpp-cpu_2.12",
        "com.johnsnowlabs.nlp:jsl-openvino-cpu_2.12"]


def test_engine_setting_is_checked():
    with pytest.raises(ConfigError, match="NOTENLP_ENGINE must be one of python, sparknlp"):
        Settings(engine="spacy")
    with pytest.raises(ConfigError, match="NOTENLP_SPARKNLP_MODEL /nowhere is not a folder"):
        Settings(engine="sparknlp", sparknlp_model="/nowhere")
    assert Settings().engine == "python"


def test_bio_tags_and_shapes():
    tokens = [(0, 7), (8, 14), (15, 19), (20, 21), (22, 30), (30, 31)]  # Patient denies type 2 diabetes .
    assert bio_tags(tokens, [(15, 30, "PROBLEM")]) == ["O", "O", "B-PROBLEM", "I-PROBLEM", "I-PROBLEM", "O"]
    assert [token_shape(t) for t in ("Patient", "denies", "2", "HIV", "IL2", ".", "p53-x")] == \
        ["Xx", "x", "d", "X", "Xd", "p", "m"]


def _chunk_model(spark):
    """A real Spark ML PipelineModel that writes ner_chunk as a Spark NLP NER pipeline would (end inclusive)."""
    from pyspark.ml import PipelineModel
    from pyspark.ml.feature import SQLTransformer

    chunk = ("named_struct('annotatorType', 'chunk', 'begin', {b}, 'end', {e}, 'result', substring(text, {b} + 1, "
             "{e} - {b} + 1), 'metadata', map('entity', '{label}', 'confidence', '{score}'), 'embeddings', "
             "cast(array() as array<float>))")
    note1 = ", ".join(chunk.format(b=b, e=e, label="PROBLEM", score=s) for b, e, s in ((15, 19, 0.9), (33, 56, 0.8)))
    note2 = ", ".join(chunk.format(b=b, e=e, label="Problem", score=s) for b, e, s in ((11, 23, 0.7), (26, 29, 0.6)))
    sql = (f"SELECT *, CASE WHEN note_id = 1 THEN array({note1}) WHEN note_id = 2 THEN array({note2}) "
           "ELSE NULL END AS ner_chunk FROM __THIS__")
    return PipelineModel(stages=[SQLTransformer(statement=sql)])


def _notes(spark, notes=NOTES):
    return spark.createDataFrame([(n, 100 + n, "2024-01-02", t) for n, t in notes],
                                 "note_id bigint, person_id bigint, note_date string, note_text string")


def _annotate_config():
    from notenlp.pipeline import load_config

    config = load_config("annotate")
    config["components"] = [c for c in config["components"] if c["name"] != "normalize"]  # as run_annotate does
    return config


def test_chunks_become_the_entities_and_get_the_projects_assertions(spark):
    from notenlp.stages import annotate as ann

    notes = _notes(spark, [*NOTES, (3, "Nothing found by the model.")])
    targets = ann.sparknlp_targets(notes, _chunk_model(spark))
    rows = ann.annotate_with_targets(targets, _annotate_config(), source="sparknlp").collect()
    assert sorted(r["note_id"] for r in rows if r["record_type"] == "note") == [1, 2, 3]  # every note leaves
    assert not [r for r in rows if r["record_type"] == "error"]
    entities = sorted((r["note_id"], r["start"], r["end"], r["lexical_variant"], r["label"], r["source"], r["negated"],
                       r["family"], r["score"]) for r in rows if r["record_type"] == "entity")
    text1, text2 = NOTES[0][1], NOTES[1][1]
    assert [e[:6] for e in entities] == [
        (1, 15, 20, text1[15:20], "PROBLEM", "sparknlp"), (1, 33, 57, text1[33:57], "PROBLEM", "sparknlp"),
        (2, 11, 24, text2[11:24], "PROBLEM", "sparknlp"), (2, 26, 30, text2[26:30], "PROBLEM", "sparknlp")]
    assert text1[15:20] == "fever" and text2[11:24] == "breast cancer"
    assert entities[0][6] is True and entities[1][6] is False  # ConText: "denies fever"
    assert entities[2][7] is True  # ConText: "Mother had ..." is family history
    assert [e[8] for e in entities] == pytest.approx([0.9, 0.8, 0.7, 0.6])


@pytest.fixture(scope="module")
def sparknlp_session(spark):
    """The test session when it carries a usable Spark NLP JAR; otherwise a clear skip."""
    from notenlp.interop.sparknlp import require_sparknlp

    try:
        require_sparknlp(spark)
    except SparkNLPUnavailable as error:
        pytest.skip(f"Spark NLP cannot run here ({error}); run with NOTENLP_ENGINE=sparknlp on a Spark that "
                    "Spark NLP publishes a JAR for")
    return spark


def test_tiny_spark_nlp_ner_pipeline_feeds_the_annotate_stage(sparknlp_session, tmp_path):
    from pyspark.ml import PipelineModel

    from notenlp.interop import sparknlp_ner
    from notenlp.stages import annotate as ann

    sentences = ["Patient has diabetes mellitus.", "No asthma today.", "History of breast cancer.",
                 "She denies asthma.", "Mother had diabetes mellitus.", "Breast cancer was treated."]
    labelled = []
    for s in sentences:
        mentions = [(s.find(m), s.find(m) + len(m), "PROBLEM")
                    for m in ("diabetes mellitus", "asthma", "breast cancer", "Breast cancer") if m in s]
        labelled.append((s, mentions))
    model = sparknlp_ner.train(sparknlp_session, labelled * 4, embedding_dim=10, min_count=1, max_epochs=30, l2=0.01)
    model.write().overwrite().save(str(tmp_path / "model"))
    loaded = PipelineModel.load(str(tmp_path / "model"))
    found = sparknlp_ner.predict(sparknlp_session, loaded, ["Patient has diabetes mellitus."])
    assert found == [[(12, 29, "PROBLEM")]]
    notes = _notes(sparknlp_session, [(7, "The patient denies asthma. Mother had breast cancer.")])
    rows = ann.annotate_with_targets(ann.sparknlp_targets(notes, loaded), _annotate_config(),
                                     source="sparknlp").collect()
    entities = sorted((r["lexical_variant"], r["negated"], r["family"]) for r in rows if r["record_type"] == "entity")
    assert entities == [("asthma", True, False), ("breast cancer", False, True)]


def test_engine_option_reaches_the_settings(tmp_path):
    import argparse

    from notenlp.stages.cli import add_arguments, settings_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["annotate", "--home", str(tmp_path), "--engine", "sparknlp", "--sparknlp-model",
                              str(tmp_path)])
    settings = settings_from(args)
    assert (settings.engine, settings.sparknlp_model) == ("sparknlp", str(tmp_path))
    with pytest.raises(ConfigError, match="NOTENLP_SPARKNLP_MODEL"):
        settings_from(parser.parse_args(["annotate", "--engine", "sparknlp", "--sparknlp-model", str(tmp_path / "x")]))
