"""A corrupted batch is caught row by row by the GX gates (real local Spark, real GX), good rows pass."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from notenlp.config import Settings
from notenlp.doc import Entity
from notenlp.omop import term_exists, term_modifiers, term_temporal

RUN_DATE = "2024-03-05"

NOTES = {
    1: "Patient denies chest pain. Started aspirin 81 mg daily.",
    2: "SSN 123-45-6789 on file. History of asthma.",
    3: "Follow up with cardiology.",
    4: "Call 617-555-0123 or mail jane.roe@example.org about the MRI.",
    5: "Reached at 617-432-1234 yesterday.",
}
# note_id 3 twice: the duplicate id; 2 and 5: residual SSN and phone (4 holds surrogates only).
NOTE_ROWS = [(1, NOTES[1]), (2, NOTES[2]), (3, NOTES[3]), (3, "Follow up with cardiology soon."), (4, NOTES[4]),
             (5, NOTES[5])]

CONCEPTS = [  # concept_id, domain_id, standard_concept, invalid_reason
    (77670, "Condition", "S", None),  # chest pain
    (1112807, "Drug", "S", None),  # aspirin
    (45572083, "Condition", None, None),  # a non-standard ICD10CM code: allowed as source concept only
    (10154, "Observation", "S", None),  # a section concept
]


def _entity(note_id, entity_id, text, *, start=None, concept_id=0, source_concept_id=0, section_concept_id=0,
            negated=False, historical=False, note_nlp_id=None, lexical_variant=None):
    start = NOTES[note_id].index(text) if start is None else start
    e = Entity(start=start, end=start + len(text), text=text, label="PROBLEM", negated=negated,
               historical=historical, section="hpi")
    return {
        "note_id": note_id, "entity_id": entity_id, "start": e.start, "end": e.end,
        "lexical_variant": lexical_variant or text, "snippet": text, "label": e.label,
        "concept_id": concept_id, "source_concept_id": source_concept_id, "section_concept_id": section_concept_id,
        "term_exists": term_exists(e), "term_temporal": term_temporal(e), "term_modifiers": term_modifiers(e),
        "nlp_system": "notenlp 0.1.0", "note_nlp_id": note_nlp_id or note_id * 100 + entity_id,
        "note_text": NOTES[note_id],
    }


ENTITIES = [
    _entity(1, 0, "chest pain", concept_id=77670, source_concept_id=45572083, negated=True, section_concept_id=10154),
    _entity(1, 1, "aspirin", concept_id=1112807),
    _entity(1, 2, "chest pain", start=900),  # offset out of range
    _entity(2, 0, "asthma", concept_id=999999),  # unknown concept id
    _entity(2, 1, "History", concept_id=45572083),  # non-standard concept as note_nlp_concept_id
    _entity(3, 0, "cardiology", note_nlp_id=777),
    _entity(3, 1, "Follow", note_nlp_id=777),  # duplicate note_nlp_id
    _entity(4, 0, "MRI", lexical_variant="CT"),  # lexical variant is not the text at the offset
    _entity(4, 1, "MRI", historical=True, section_concept_id=123),  # unknown section concept
]


@pytest.fixture(scope="module")
def gate_run(spark, tmp_path_factory):
    from pyspark.sql import functions as F

    from notenlp.quality.gates import validate_dataframe

    home = tmp_path_factory.mktemp("quality-home")
    settings = Settings(home=home)
    concept = spark.createDataFrame(CONCEPTS, "concept_id int, domain_id string, standard_concept string, "
                                              "invalid_reason string")
    notes = spark.createDataFrame(
        [(i, 10 + i, t, len(t) + 2, f"{t[:3]}") for i, t in NOTE_ROWS],
        "note_id bigint, person_id bigint, note_text string, orig_length int, note_title string",
    ).withColumn("note_date", F.to_date(F.lit("2024-03-04")))
    entity_schema = ("note_id bigint, entity_id int, start int, end int, lexical_variant string, snippet string, "
                     "label string, concept_id int, source_concept_id int, section_concept_id int, "
                     "term_exists string, term_temporal string, term_modifiers string, nlp_system string, "
                     "note_nlp_id bigint, note_text string")
    entities = spark.createDataFrame([tuple(e.values()) for e in ENTITIES], entity_schema)
    context = {"settings": settings, "concept": concept, "max_quarantine_rate": 1.0}
    note_gate = validate_dataframe(notes, "deid_notes", run_date=RUN_DATE, context=context)
    entity_gate = validate_dataframe(entities, "note_nlp", run_date=RUN_DATE, context=context)
    good_entities = entity_gate.good_df.select("note_nlp_id", "note_id")
    relations = spark.createDataFrame(
        [(1, 0, 1, "treats", 0.9, 100, 101, 1),  # good
         (1, 1, 0, "cures", 0.9, 101, 100, 2),  # relationship type not allowed
         (1, 0, 2, "treats", 0.8, 100, 102, 3),  # tail was quarantined, so it is not in note_nlp
         (1, 0, 0, "treats", 0.7, 100, 100, 4)],  # self relation
        "note_id bigint, head_entity_id int, tail_entity_id int, relationship string, score double, "
        "note_nlp_id_1 bigint, note_nlp_id_2 bigint, note_nlp_relation_id bigint",
    )
    relation_gate = validate_dataframe(relations, "note_nlp_relation", run_date=RUN_DATE,
                                       context={**context, "note_nlp": good_entities})
    return {
        "settings": settings,
        "inputs": {"notes": (notes, "deid_notes", context), "entities": (entities, "note_nlp", context),
                   "relations": (relations, "note_nlp_relation", {**context, "note_nlp": good_entities})},
        "notes": (note_gate, notes.count(), _collect(note_gate)),
        "entities": (entity_gate, entities.count(), _collect(entity_gate)),
        "relations": (relation_gate, relations.count(), _collect(relation_gate)),
    }


def _collect(gate):
    good = gate.good_df.collect()
    quarantined = gate.quarantine_df.collect()
    return good, quarantined


def _reasons(quarantined) -> Counter:
    return Counter((row.record_key, row.reason) for row in quarantined)


@pytest.mark.slow
def test_notes_with_residual_phi_or_duplicate_ids_are_quarantined(gate_run):
    gate, rows_in, (good, quarantined) = gate_run["notes"]
    assert sorted(r.note_id for r in good) == [1, 4]  # surrogate phone / example.org e-mail pass
    assert _reasons(quarantined) == Counter({("2", "residual_ssn"): 1, ("3", "duplicate_note_id"): 2,
                                             ("5", "residual_phone"): 1})
    assert {r.stage for r in quarantined} == {"validate"}
    assert {str(r.run_date) for r in quarantined} == {RUN_DATE}
    assert rows_in == len(good) + len(quarantined) == gate.summary.rows_in
    assert gate.summary.failed_by_reason() == {"duplicate_note_id": 2, "residual_ssn": 1, "residual_phone": 1}
    assert set(gate.good_df.columns) == {"note_id", "person_id", "note_text", "orig_length", "note_title",
                                         "note_date"}


@pytest.mark.slow
def test_entities_failing_offsets_concepts_or_ids_are_quarantined_once_with_all_reasons(gate_run):
    gate, rows_in, (good, quarantined) = gate_run["entities"]
    assert sorted((r.note_id, r.entity_id) for r in good) == [(1, 0), (1, 1)]
    assert _reasons(quarantined) == Counter({
        ("1:2", "lexical_variant_mismatch;offset_out_of_range"): 1,
        ("2:0", "concept_unknown_or_nonstandard"): 1,
        ("2:1", "concept_unknown_or_nonstandard"): 1,
        ("3:0", "duplicate_note_nlp_id"): 1,
        ("3:1", "duplicate_note_nlp_id"): 1,
        ("4:0", "end_offset_mismatch;lexical_variant_mismatch"): 1,
        ("4:1", "unknown_section_concept"): 1,
    })
    assert rows_in == len(good) + len(quarantined)
    assert gate.summary.rows_good == 2 and gate.summary.rows_quarantined == 7


@pytest.mark.slow
def test_relations_need_both_ends_in_note_nlp_and_an_allowed_type(gate_run):
    gate, rows_in, (good, quarantined) = gate_run["relations"]
    assert [r.note_nlp_relation_id for r in good] == [1]
    assert _reasons(quarantined) == Counter({("1:1:0", "unknown_relationship"): 1,
                                             ("1:0:2", "tail_not_in_note_nlp"): 1,
                                             ("1:0:0", "self_relation"): 1})
    assert rows_in == len(good) + len(quarantined)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["notes", "entities", "relations"])
def test_gx_checkpoint_counts_agree_with_row_level_quarantine(gate_run, name):
    gate, _, _ = gate_run[name]
    assert gate.summary.gx_success is False
    for outcome in gate.summary.expectations:
        assert outcome.gx_unexpected == outcome.rows_failed, outcome
        assert outcome.gx_success is (outcome.rows_failed == 0), outcome


@pytest.mark.slow
@pytest.mark.parametrize("name", ["notes", "entities", "relations"])
def test_every_row_condition_counts_what_gx_counts(gate_run, name):
    """The gate evaluates a row condition only where GX found unexpected rows, which is right only if each
    condition flags exactly GX's unexpected rows: checked here for every expectation, failing or not."""
    from pyspark.sql import functions as F

    from notenlp.quality.suites import failure_condition, load_suite, prepare

    df, suite, context = gate_run["inputs"][name]
    gate = gate_run[name][0]
    spec = load_suite(suite)
    prepared = prepare(df, spec, context)
    flags = prepared.select(*[failure_condition(e).cast("long").alias(f"c{i}")  # windows: select, then sum
                              for i, e in enumerate(spec.expectations)])
    counts = flags.agg(*[F.sum(c).alias(c) for c in flags.columns]).first()
    for i, outcome in enumerate(gate.summary.expectations):
        assert outcome.gx_unexpected == int(counts[f"c{i}"] or 0), outcome
    assert any(o.gx_unexpected == 0 for o in gate.summary.expectations)  # some pass: compared at zero too


def test_only_expectations_gx_could_not_clear_get_row_flags():
    from notenlp.quality.gates import _suspects

    outcomes = {"suite": {"success": False}, 0: {"unexpected_count": 0}, 1: {"unexpected_count": 3},
                2: {"unexpected_count": None}}  # 3: no result at all (GX raised)
    assert _suspects(outcomes, 4) == [1, 2, 3]


@pytest.mark.slow
def test_a_clean_batch_passes_every_row_with_gx_counts_of_zero(spark, tmp_path):
    from notenlp.quality.gates import validate_dataframe

    notes = spark.createDataFrame([(1, 11, NOTES[1], len(NOTES[1]), "Pat"), (3, 13, NOTES[3], len(NOTES[3]), "Fol")],
                                  "note_id bigint, person_id bigint, note_text string, orig_length int, "
                                  "note_title string").withColumn("note_date", _day("2024-03-04"))
    gate = validate_dataframe(notes, "deid_notes", run_date=RUN_DATE, context={"settings": Settings(home=tmp_path)},
                              work_dir=tmp_path / "work")
    assert sorted(r.note_id for r in gate.good_df.collect()) == [1, 3]
    assert gate.quarantine_df.count() == 0
    assert gate.summary.gx_success is True and gate.summary.rows_quarantined == 0
    assert all(o.gx_unexpected == 0 and o.rows_failed == 0 for o in gate.summary.expectations)
    gate.release()
    assert not (tmp_path / "work").exists()


def _day(day: str):
    from pyspark.sql import functions as F

    return F.to_date(F.lit(day))


@pytest.mark.slow
def test_gx_keeps_no_copy_of_the_validated_rows_in_memory(gate_run):
    from notenlp.quality.gates import DATASOURCE, gx_context

    datasource = gx_context(gate_run["settings"].staging).data_sources.get(DATASOURCE)
    assert datasource.persist is False


@pytest.mark.slow
def test_data_docs_are_built_and_hold_no_note_text(gate_run):
    from notenlp.quality.gates import build_data_docs

    staging = gate_run["settings"].staging
    index = build_data_docs(gate_run["settings"])
    assert index == staging / "data_docs" / "index.html" and index.exists()
    pages = [p for p in (staging / "data_docs").rglob("*.html")]
    assert any("deid_notes" in p.as_posix() for p in pages)
    stored = [p for p in staging.rglob("*") if p.is_file() and p.suffix in {".html", ".json", ".yml"}]
    for path in stored:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "123-45-6789" not in text and "617-432-1234" not in text and "History of asthma" not in text, path


@pytest.mark.slow
def test_too_many_failures_raise_with_counts_and_no_row_text(spark, tmp_path):
    from notenlp.quality.gates import QualityGateError, validate_dataframe
    from notenlp.quality.suites import load_suite

    deid = load_suite("deid_notes").raw
    one_check = {**deid, "name": "residual_ssn_only", "meta": {"notenlp": {"record_key": ["note_id"]}},
                 "expectations": [e for e in deid["expectations"] if e["meta"]["reason"] == "residual_ssn"]}
    suite_file = tmp_path / "residual_ssn_only.json"
    suite_file.write_text(json.dumps(one_check), encoding="utf-8")
    notes = spark.createDataFrame([(1, "SSN 123-45-6789"), (2, "fine text")], "note_id bigint, note_text string")
    with pytest.raises(QualityGateError) as raised:
        validate_dataframe(notes, str(suite_file), run_date=RUN_DATE, context={"settings": Settings(home=tmp_path)})
    summary = raised.value.summary
    assert (summary.rows_in, summary.rows_quarantined) == (2, 1)
    assert summary.max_quarantine_rate == pytest.approx(0.05, rel=1e-9)
    assert "residual_ssn" in str(raised.value) and "123-45-6789" not in str(raised.value)


@pytest.mark.slow
def test_raw_notes_need_text_valid_dates_and_a_hash(spark, tmp_path):
    from pyspark.sql import functions as F

    from notenlp.quality.gates import validate_dataframe

    good_hash = "a" * 64
    notes = spark.createDataFrame(
        [(1, 1, "Discharge summary.", "2151-07-02", good_hash),  # MIMIC's shifted dates are valid
         (2, 1, "   ", "2151-07-02", good_hash),  # blank text
         (3, 1, "Radiology report.", "1850-01-01", good_hash),  # date out of range
         (4, 2, "Nursing note.", None, "not-a-hash")],
        "note_id bigint, person_id bigint, note_text string, day string, text_hash string",
    ).withColumn("note_date", F.to_date("day")).withColumn("note_datetime", F.to_timestamp("day")).drop("day")
    gate = validate_dataframe(notes, "raw_notes", run_date=RUN_DATE,
                              context={"settings": Settings(home=tmp_path), "stage": "ingest",
                                       "max_quarantine_rate": 1.0})
    assert [r.note_id for r in gate.good_df.collect()] == [1]
    assert _reasons(gate.quarantine_df.collect()) == Counter({
        ("2", "text_length_out_of_bounds"): 1,
        ("3", "note_date_out_of_range;note_datetime_out_of_range"): 1,
        ("4", "bad_text_hash;missing_note_date"): 1,
    })
    assert {r.stage for r in gate.quarantine_df.collect()} == {"ingest"}
    for outcome in gate.summary.expectations:
        assert outcome.gx_unexpected == outcome.rows_failed, outcome
