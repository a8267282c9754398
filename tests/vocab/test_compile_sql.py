"""The dictionary compiler keys names in DuckDB SQL; Python's ``text.key``/``name_variants`` is the reference."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from notenlp.vocab import loader
from notenlp.vocab.dictionary import (SQL_PYTHON_ONLY, SQL_VARIANT_KEYS, _sql_macros, _variant_keys,
                                      compile_dictionary)

# Word order, qualifiers in brackets, LOINC properties, trailing suffixes, plurals of every kind,
# numbers and codes, punctuation, odd spacing, and names the rules must leave alone.
TRICKY = [
    "Fracture of hip", "Closed fracture of neck of femur", "Diabetes mellitus, type 2", "Severe anxiety (panic)",
    "Glucose [Mass/volume] in Serum or Plasma", "Hemoglobin A1c/Hemoglobin.total in Blood", "Vomiting symptom",
    "Pain finding", "Kidney disorder", "Disorder", "Series of injections", "Boxes", "Crises", "Arteries", "Ribs",
    "Class", "Virus", "Diagnosis", "Days", "Atlas", "Photos", "Wishes", "Matches", "Taxes", "Gases", "ies", "Lies",
    "0.5 mg tablet", "1.2.3 test", "T2DM", "b12 deficiency", "COVID-19", "  leading and trailing  ",
    "Double  space  name", "(Parenthesis only)", "[Bracket only]", "Name [prop] (qualifier)", "x (y) of z",
    "Injury of ear, nose, and throat", "Pain in limb, lower", "Arm, left, upper", "Cancer of the head of pancreas",
    "A, B", ", leading comma", "of", " of ", "Tumor of the big of toe", "Structure of 1st metacarpal of hand",
    "Type 1 diabetes mellitus, uncontrolled", "S/P CABG", "Reaction to drug [X] finding", "Hypertensive disorder",
    "Abc) unbalanced (", "Ratio ((nested) brackets)", "Mild symptom", "Lumps of breast symptom",
    "ALLERGY TO PEANUTS", "Échographie du cœur", "Sjögren's syndrome", "naïve T cells", "tab\tseparated",
]


def _sql_keys(con, terms: list[str]) -> set[tuple[str, str, bool]]:
    con.execute("CREATE OR REPLACE TABLE sample (term VARCHAR)")
    con.executemany("INSERT INTO sample VALUES (?)", [[t] for t in terms])
    return set(con.execute(SQL_VARIANT_KEYS.format(source="sample")).fetchall())


def _python_keys(terms: list[str]) -> set[tuple[str, str, bool]]:
    return {(term, key, is_name) for term in terms for key, is_name in _variant_keys(term)}


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    for macro in _sql_macros():
        connection.execute(macro)
    yield connection
    connection.close()


def test_sql_keys_equal_python_keys_on_tricky_names(con):
    ascii_terms = [t for t in TRICKY if not con.execute(f"SELECT {SQL_PYTHON_ONLY} FROM (SELECT ? AS term)",
                                                         [t]).fetchall()[0][0]]
    # Non-ASCII and control characters are routed to Python, never keyed in SQL.
    assert set(TRICKY) - set(ascii_terms) == {"Échographie du cœur", "Sjögren's syndrome", "naïve T cells",
                                              "tab\tseparated"}
    assert _sql_keys(con, ascii_terms) == _python_keys(ascii_terms)
    keys = {(key, is_name) for term, key, is_name in _sql_keys(con, ["Fractures of ribs (disorder)"])}
    assert keys == {("fracture of rib disorder", True), ("fracture of rib", False), ("rib fracture", False)}


def test_sql_keys_equal_python_keys_on_the_demo_vocabulary(con, tmp_path: Path):
    warehouse = tmp_path / "vocab.duckdb"
    loader.load_demo(warehouse)
    vocab = duckdb.connect(str(warehouse), read_only=True)
    terms = [r[0] for r in vocab.execute(
        "SELECT DISTINCT term FROM (SELECT concept_name AS term FROM concept UNION ALL "
        "SELECT concept_synonym_name FROM concept_synonym) WHERE term <> ''").fetchall()]
    vocab.close()
    assert len(terms) > 50_000
    ascii_terms = [t for t in terms if all(" " <= ch <= "~" for ch in t)]
    assert _sql_keys(con, ascii_terms) == _python_keys(ascii_terms)


@pytest.mark.slow
def test_compiled_dictionary_identical_with_and_without_sql_keys(tmp_path: Path):
    warehouse = tmp_path / "vocab.duckdb"
    loader.load_demo(warehouse)
    compile_dictionary(warehouse, tmp_path / "sql.parquet")
    compile_dictionary(warehouse, tmp_path / "python.parquet", sql_keys=False)
    con = duckdb.connect()
    sql, python = (f"read_parquet('{tmp_path / name}')" for name in ("sql.parquet", "python.parquet"))
    assert con.execute(f"SELECT count(*) FROM {sql}").fetchall()[0][0] > 100_000
    for a, b in ((sql, python), (python, sql)):
        assert con.execute(f"SELECT * FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}) LIMIT 5").fetchall() == []
