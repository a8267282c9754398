"""Spark NLP Annotation columns <-> ENTITY rows, on a real local Spark session."""

import pytest

from notenlp.interop.sparknlp import (ANNOTATION_SCHEMA, SparkNLPUnavailable, annotations_to_entities,
                                      entities_to_annotations, require_sparknlp)
from notenlp.schemas import ENTITY

pytestmark = pytest.mark.slow

TEXT = "Pt denies chest pain. Mother had breast cancer. Takes metformin 500 mg."


def chunk(begin, end, label, confidence="0.93"):
    return ("chunk", begin, end - 1, TEXT[begin:end], {"entity": label, "confidence": confidence, "sentence": "0"}, [])


def assertion(begin, end, status):
    return ("assertion", begin, end - 1, status, {"sentence": "0"}, [])


def test_healthcare_chunks_and_assertions_to_entities(spark):
    pain = (TEXT.index("chest pain"), TEXT.index("chest pain") + len("chest pain"))
    cancer = (TEXT.index("breast cancer"), TEXT.index("breast cancer") + len("breast cancer"))
    drug = (TEXT.index("metformin"), TEXT.index("metformin") + len("metformin"))
    rows = [(7, TEXT, [chunk(*pain, "PROBLEM"), chunk(*cancer, "PROBLEM"), chunk(*drug, "TREATMENT", "0.5")],
             # assertions listed out of chunk order: pairing is by offsets
             [assertion(*cancer, "associated_with_someone_else"), assertion(*pain, "absent"),
              assertion(*drug, "present")])]
    df = spark.createDataFrame(rows, f"note_id bigint, text string, ner_chunk {ANNOTATION_SCHEMA}, "
                                     f"assertion {ANNOTATION_SCHEMA}")
    out = annotations_to_entities(df)
    assert [f"{f.name} {f.dataType.simpleString()}" for f in out.schema.fields] == \
        [c.replace("bigint", "bigint") for c in ENTITY.split(", ")]
    got = {r["lexical_variant"]: r for r in out.collect()}
    assert (got["chest pain"]["start"], got["chest pain"]["end"]) == pain  # end exclusive again
    assert got["chest pain"]["negated"] and not got["chest pain"]["family"]
    assert got["breast cancer"]["family"] and not got["breast cancer"]["negated"]
    assert got["metformin"]["label"] == "DRUG" and got["metformin"]["score"] == pytest.approx(0.5)
    assert not any(got["metformin"][f] for f in ("negated", "possible", "hypothetical", "family", "historical"))
    assert "chest pain" in got["chest pain"]["snippet"]


def test_entities_to_annotations_round_trip(spark):
    names = [c.split(" ")[0] for c in ENTITY.split(", ")]
    base = dict.fromkeys(names)
    rows = []
    for i, (start, end, label, flag, concept) in enumerate([(10, 20, "PROBLEM", "negated", 77670),
                                                           (54, 63, "DRUG", None, 1503328)]):
        row = {**base, "note_id": 1, "entity_id": i, "start": start, "end": end, "lexical_variant": TEXT[start:end],
               "snippet": "", "label": label, "source": "dictionary", "score": 0.9, "section": "hpi",
               "section_concept_id": 0, "concept_id": concept, "source_concept_id": concept,
               "vocabulary_id": "SNOMED", "concept_code": "x", "match_score": 1.0}
        for f in ("negated", "possible", "hypothetical", "conditional", "historical", "family"):
            row[f] = f == flag
        rows.append(tuple(row[n] for n in names))
    entities = spark.createDataFrame(rows, ENTITY)
    annotations_df = entities_to_annotations(entities)
    annotations = annotations_df.collect()[0]
    first = annotations["ner_chunk"][0]
    assert (first["begin"], first["end"], first["result"]) == (10, 19, TEXT[10:20])
    assert first["metadata"]["entity"] == "PROBLEM" and first["metadata"]["concept_id"] == "77670"
    assert [a["result"] for a in annotations["assertion"]] == ["absent", "present"]
    back = annotations_to_entities(annotations_df, text_col=None).orderBy("start").collect()
    assert [(r["start"], r["end"], r["label"], r["negated"], r["concept_id"]) for r in back] == \
        [(10, 20, "PROBLEM", True, 77670), (54, 63, "DRUG", False, 1503328)]


def test_require_sparknlp_explains_what_is_missing(spark):
    try:
        import sparknlp  # noqa: F401
    except ImportError:
        with pytest.raises(SparkNLPUnavailable, match="spark-nlp"):
            require_sparknlp(spark)
        return
    with pytest.raises(SparkNLPUnavailable, match="JAR"):
        require_sparknlp(spark)  # a plain local session has no Spark NLP JAR
