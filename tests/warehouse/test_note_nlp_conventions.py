"""NOTE_NLP by the OHDSI conventions at load: a drug's attributes in its row's term_modifiers (no attribute rows),
a test's value and unit on the test row, route and unit concepts from the loaded vocabulary, and the relations
also as FACT_RELATIONSHIP rows. DuckDB only, through the load stage's own SQL (``load_note_rows``)."""

from __future__ import annotations

import duckdb
import pytest

from notenlp.omop import attribute_pairs
from notenlp.warehouse import ensure_schema
from notenlp.warehouse.load import etl_params, load_note_rows

TEXT = "Metformin 500 mg PO BID for diabetes. Hgb 9.8 g/dL, Cr of 1.2 and K-4.1. Troponin sent at 9:41."
BASE = "negated=false;possible=false;hypothetical=false;conditional=false;historical=false;subject=patient;section="
# (hash key, label, words): offsets are found in TEXT
ENTITIES = [(2**62 + 11, "DRUG", "Metformin"), (2**62 + 12, "STRENGTH", "500 mg"), (2**62 + 13, "ROUTE", "PO"),
            (2**62 + 14, "FREQUENCY", "BID"), (2**62 + 15, "PROBLEM", "diabetes"), (2**62 + 16, "TEST", "Hgb"),
            (2**62 + 17, "TEST", "Cr"), (2**62 + 18, "TEST", "K"), (2**62 + 19, "TEST", "Troponin")]
RELATIONS = [("has_strength", 11, 12), ("has_route", 11, 13), ("has_frequency", 11, 14), ("treats", 11, 15)]
# A test vocabulary (ids made up for the test): UCUM mg and g/dL, a SNOMED route, the Note domain, two relationships.
CONCEPTS = [(8576, "mg", "UCUM", "Unit"), (8713, "g/dL", "UCUM", "Unit"), (90001, "26643006", "SNOMED", "Route")]
NOTE_DOMAIN, MAY_TREAT, MAY_BE_TREATED_BY = 90010, 90020, 90021


def _night(con, folder) -> dict:
    folder.mkdir()
    paths = {k: str(folder / f"{k}.parquet") for k in ("notes", "entities", "relations")}
    con.execute(f"copy (select 7::bigint as note_id, $t as note_text) to '{paths['notes']}' (format parquet)",
                {"t": TEXT})
    rows = []
    for key, label, words in ENTITIES:
        start = TEXT.index(words if words != "K" else "K-")
        rows.append((key, 7, key - 2**62, start, start + len(words), words, label, f"{BASE};label={label}"))
    con.execute("create or replace temp table e (note_nlp_id bigint, note_id bigint, entity_id int, start int, "
                "\"end\" int, lexical_variant varchar, label varchar, term_modifiers varchar)")
    con.executemany("insert into e values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(f"copy (select *, 0 as section_concept_id, lexical_variant as snippet, 0 as concept_id, "
                f"0 as source_concept_id, 'Y' as term_exists, 'present' as term_temporal from e) "
                f"to '{paths['entities']}' (format parquet)")
    con.execute("create or replace temp table r (note_nlp_relation_id bigint, note_id bigint, note_nlp_id_1 bigint, "
                "note_nlp_id_2 bigint, relationship varchar, score double)")
    con.executemany("insert into r values (?, 7, ?, ?, ?, 1.0)",
                    [(k, 2**62 + a, 2**62 + b, t) for k, (t, a, b) in enumerate(RELATIONS)])
    con.execute(f"copy r to '{paths['relations']}' (format parquet)")
    return etl_params({**paths, "nlp_system": "test", "nlp_date": "2026-12-01",
                       "nlp_datetime": "2026-12-01 01:00:00"})


@pytest.fixture()
def loaded(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    load_note_rows(con, _night(con, tmp_path / "n"), has_entities=True, has_relations=True)  # empty vocabulary
    return con, tmp_path


def _with_vocabulary(con) -> None:
    con.executemany("insert into concept (concept_id, concept_name, concept_code, vocabulary_id, domain_id, "
                    "standard_concept) values (?, 'x', ?, ?, ?, 'S')", CONCEPTS)
    con.execute(f"insert into domain values ('Note', 'Note', {NOTE_DOMAIN})")
    con.execute(f"insert into relationship values ('May treat', 'May treat', '0', '0', 'May be treated by', "
                f"{MAY_TREAT}), ('May be treated by', 'May be treated by', '0', '0', 'May treat', {MAY_BE_TREATED_BY})")


def _modifiers(con) -> dict[str, str]:
    return dict(con.execute("select lexical_variant, term_modifiers from note_nlp").fetchall())


def test_attributes_and_values_are_modifiers_of_their_drug_and_test_rows(loaded):
    con, _ = loaded
    modifiers = _modifiers(con)
    assert sorted(modifiers) == ["Cr", "Hgb", "K", "Metformin", "Troponin", "diabetes"]  # no attribute rows
    pairs = attribute_pairs({"STRENGTH": "500 mg", "ROUTE": "PO", "FREQUENCY": "BID"})
    assert modifiers["Metformin"] == f"{BASE};label=DRUG;{pairs}"
    assert pairs == "strength=500 mg;route=PO;frequency=BID"
    assert modifiers["Hgb"].endswith(";label=TEST;value=9.8;unit=g/dL")
    assert modifiers["Cr"].endswith(";label=TEST;value=1.2")
    assert modifiers["K"].endswith(";label=TEST;value=4.1")
    assert modifiers["Troponin"].endswith(";label=TEST")  # '9:41' after 'sent at' is a time, not a result
    assert modifiers["diabetes"].endswith(";label=PROBLEM")
    # the one relation between two NOTE_NLP rows, in both tables; vocabulary concepts absent: 0
    assert con.execute("select relationship_id from note_nlp_relation").fetchall() == [("treats",)]
    ids = dict(con.execute("select lexical_variant, note_nlp_id from note_nlp").fetchall())
    assert sorted(con.execute("select * from fact_relationship").fetchall()) == sorted([
        (0, ids["Metformin"], 0, ids["diabetes"], 0), (0, ids["diabetes"], 0, ids["Metformin"], 0)])
    assert max(ids.values()) == 6  # dense ids for the six rows: attributes take none


def test_route_unit_domain_and_relationship_concepts_come_from_the_loaded_vocabulary(loaded):
    con, tmp_path = loaded
    _with_vocabulary(con)
    con.execute("delete from fact_relationship")  # rows of the first load carry domain 0: not this night's domain
    load_note_rows(con, _night(con, tmp_path / "again"), has_entities=True, has_relations=True)
    modifiers = _modifiers(con)
    assert modifiers["Metformin"].endswith(
        ";label=DRUG;strength=500 mg;strength_unit_concept_id=8576;route=PO;route_concept_id=90001;frequency=BID")
    assert modifiers["Hgb"].endswith(";value=9.8;unit=g/dL;unit_concept_id=8713")
    ids = dict(con.execute("select lexical_variant, note_nlp_id from note_nlp").fetchall())
    expected = sorted([(NOTE_DOMAIN, ids["Metformin"], NOTE_DOMAIN, ids["diabetes"], MAY_TREAT),
                       (NOTE_DOMAIN, ids["diabetes"], NOTE_DOMAIN, ids["Metformin"], MAY_BE_TREATED_BY)])
    assert sorted(con.execute("select * from fact_relationship").fetchall()) == expected
    # a rerun of the same night replaces, never duplicates, and keeps every id
    load_note_rows(con, _night(con, tmp_path / "third"), has_entities=True, has_relations=True)
    assert sorted(con.execute("select * from fact_relationship").fetchall()) == expected
    assert dict(con.execute("select lexical_variant, note_nlp_id from note_nlp").fetchall()) == ids
    assert con.execute("select count(*) from note_nlp_relation").fetchone() == (1,)


def test_hashed_ids_by_configuration_keep_the_63_bit_keys(tmp_path):
    """NOTENLP_NOTE_NLP_IDS=hash (sites whose columns are bigint): the stage's hashes are the ids, in NOTE_NLP,
    note_nlp_relation and FACT_RELATIONSHIP alike, and no dense id is issued."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    params = {**_night(con, tmp_path / "n"), "hashed_ids": True}
    for _ in range(2):  # a rerun keeps the same ids
        load_note_rows(con, params, has_entities=True, has_relations=True)
    ids = dict(con.execute("select lexical_variant, note_nlp_id from note_nlp").fetchall())
    assert ids["Metformin"] == 2**62 + 11 and ids["diabetes"] == 2**62 + 15 and len(ids) == 6
    assert con.execute("select note_nlp_id_1, note_nlp_id_2 from note_nlp_relation").fetchall() == [
        (2**62 + 11, 2**62 + 15)]
    assert con.execute("select count(*), min(fact_id_1) from fact_relationship").fetchone() == (2, 2**62 + 11)
    assert con.execute("select count(*) from notenlp_note_nlp_key").fetchone() == (0,)


def test_an_unknown_id_mode_is_one_config_error():
    from notenlp.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="NOTENLP_NOTE_NLP_IDS must be one of dense, hash"):
        Settings(note_nlp_ids="wide")
