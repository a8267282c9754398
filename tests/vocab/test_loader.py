import datetime

import duckdb
import pytest

from notenlp.vocab.loader import ATHENA_TABLES, ICD10CM_CONCEPT_ID_BASE, ddl_tables, load_athena, load_demo

from .conftest import CONCEPTS, RELATIONSHIPS, SYNONYMS


def test_ddl_has_every_athena_table_with_cdm_columns():
    tables = ddl_tables()
    assert set(ATHENA_TABLES) <= set(tables)
    assert [c for c, _ in tables["concept"]] == [
        "concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "standard_concept",
        "concept_code", "valid_start_date", "valid_end_date", "invalid_reason"]


def test_load_athena_types_counts_and_idempotence(tmp_path, athena_dir):
    db = tmp_path / "w.duckdb"
    counts = load_athena(db, athena_dir)
    assert counts["concept"] == len(CONCEPTS)
    assert counts["concept_synonym"] == len(SYNONYMS)
    assert counts["concept_relationship"] == len(RELATIONSHIPS)
    assert counts["drug_strength"] == 2
    assert counts["concept_ancestor"] == 0  # no file: created empty
    again = load_athena(db, athena_dir)
    assert again == counts
    con = duckdb.connect(str(db), read_only=True)
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'concept'").fetchall())
    assert types["concept_id"] == "INTEGER" and types["valid_start_date"] == "DATE"
    row = con.execute("SELECT concept_name, valid_start_date, standard_concept FROM concept "
                      "WHERE concept_id = 9999001").fetchone()
    assert row == ('Has "quoted" name', datetime.date(1970, 1, 1), "S")
    assert con.execute("SELECT standard_concept FROM concept WHERE concept_id = 45591453").fetchone()[0] is None
    strength = con.execute("SELECT numerator_value FROM drug_strength WHERE drug_concept_id = 19132304").fetchone()[0]
    assert strength == pytest.approx(0.000833)


def test_load_athena_missing_folder(tmp_path):
    from notenlp.config import ConfigError

    with pytest.raises(ConfigError, match="^Athena folder .*nope does not exist$"):
        load_athena(tmp_path / "w.duckdb", tmp_path / "nope")
    assert not (tmp_path / "w.duckdb").exists()


def test_demo_vocabulary_with_icd10cm(tmp_path):
    db = tmp_path / "demo.duckdb"
    counts = load_demo(db)
    assert counts["concept"] > 2000 and counts["concept_relationship"] > 4000
    assert counts["icd10cm_concepts"] > 70000
    con = duckdb.connect(str(db), read_only=True)
    code, target = con.execute(
        "SELECT c.concept_code, r.concept_id_2 FROM concept c JOIN concept_relationship r "
        "ON r.concept_id_1 = c.concept_id AND r.relationship_id = 'Maps to' "
        "WHERE c.vocabulary_id = 'ICD10CM' AND c.concept_code = 'I10'").fetchone()
    assert (code, target) == ("I10", 320128)  # Essential (primary) hypertension -> Essential hypertension
    lowest = con.execute("SELECT min(concept_id) FROM concept WHERE vocabulary_id = 'ICD10CM'").fetchone()[0]
    assert lowest > ICD10CM_CONCEPT_ID_BASE


def _concepts(db) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM concept").fetchone()[0]


def _load_cli(capsys, db, folder) -> tuple[int, str]:
    from notenlp.cli import main

    code = main(["vocab", "--warehouse", str(db), "load", "--athena", str(folder)])
    return code, capsys.readouterr().err


def test_vocab_load_refuses_a_folder_without_concept_and_keeps_the_vocabulary(tmp_path, athena_dir, capsys):
    db = tmp_path / "w.duckdb"
    loaded = load_athena(db, athena_dir)["concept"]
    empty = tmp_path / "EMPTY_DIR"
    empty.mkdir()
    code, err = _load_cli(capsys, db, empty)
    assert (code, err) == (2, f"notenlp: Athena folder {empty} has no CONCEPT.csv (or CONCEPT.csv.gz): pass the "
                              "folder of an unzipped Athena download; the vocabulary in the warehouse is unchanged\n")
    assert _concepts(db) == loaded == len(CONCEPTS)
    code, err = _load_cli(capsys, db, tmp_path / "nope")
    assert (code, err) == (2, f"notenlp: Athena folder {tmp_path / 'nope'} does not exist\n")
    assert _concepts(db) == loaded


def test_vocab_load_never_replaces_a_vocabulary_with_an_empty_one(tmp_path, athena_dir, capsys):
    db = tmp_path / "w.duckdb"
    loaded = load_athena(db, athena_dir)
    headers_only = tmp_path / "headers"
    headers_only.mkdir()
    for table in ("CONCEPT", "CONCEPT_RELATIONSHIP", "CONCEPT_SYNONYM"):
        first = (athena_dir / f"{table}.csv").read_text(encoding="utf-8").splitlines()[0]
        (headers_only / f"{table}.csv").write_text(first + "\n", encoding="utf-8")
    code, err = _load_cli(capsys, db, headers_only)
    assert (code, err) == (2, f"notenlp: {headers_only / 'CONCEPT.csv'} holds no concept row: the vocabulary in "
                              "the warehouse is unchanged\n")
    with duckdb.connect(str(db), read_only=True) as con:
        for table, count in loaded.items():
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count, table


def test_demo_vocabulary_has_concept_ancestor_from_its_hierarchy(tmp_path):
    """The shipped CONCEPT_ANCESTOR is the closure of the shipped 'Is a' (and 'Has tradename') rows: self rows,
    parents, grandparents."""
    db = tmp_path / "demo.duckdb"
    load_demo(db, icd10cm=False)
    con = duckdb.connect(str(db), read_only=True)
    is_a = con.execute("select concept_id_1, concept_id_2 from concept_relationship "
                       "join concept c1 on c1.concept_id = concept_id_1 and c1.standard_concept = 'S' "
                       "join concept c2 on c2.concept_id = concept_id_2 and c2.standard_concept = 'S' "
                       "where relationship_id = 'Is a' and concept_id_1 <> concept_id_2").fetchall()
    ancestors = {(a, d): (lo, hi) for a, d, lo, hi in con.execute("select * from concept_ancestor").fetchall()}
    assert is_a and all(ancestors[(parent, child)][0] == 1 for child, parent in is_a)
    assert ancestors[(432867, 4120314)] == (1, 1)  # Hyperlipidemia -> Hypertriglyceridemia
    assert ancestors[(4329041, 4316217)][0] == 3  # Pain -> ... -> Primary fibromyalgia syndrome
    assert ancestors[(1127433, 19041324)] == (1, 1)  # clinical drug -> its branded drug ('Has tradename')
    standard = {r[0] for r in con.execute("select concept_id from concept where standard_concept = 'S'").fetchall()}
    assert all(ancestors.get((c, c)) == (0, 0) for c in standard)
    assert {c for pair in ancestors for c in pair} <= standard | {
        r[0] for r in con.execute("select concept_id from concept where standard_concept = 'C'").fetchall()}
