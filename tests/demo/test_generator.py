from __future__ import annotations

import csv
import gzip
import json
import re

import pandas as pd

from notenlp.attributes import ASSERTION_FLAGS, ENTITY_LABELS, LABEL_DOMAINS, PHI_TYPES, RELATION_TYPES
from notenlp.cli import main as cli_main
from notenlp.demo.generator import NOTEEVENTS_COLUMNS, clean_concept_name, iter_demo_notes, iter_demo_rows, write_demo
from notenlp.jsonl import read_docs
from notenlp.resources import resource_path

SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z]+)*$")


def _cdm(name: str) -> pd.DataFrame:
    return pd.read_csv(resource_path("demo_cdm", f"{name}.csv.gz"), dtype=str, keep_default_na=False)


def test_same_seed_same_notes_other_seed_other_notes():
    first = list(iter_demo_notes(25, seed=7))
    assert first == list(iter_demo_notes(25, seed=7))
    other = list(iter_demo_notes(25, seed=8))
    assert [g["text"] for g in first] != [g["text"] for g in other]


def test_a_longer_run_starts_with_the_shorter_run():
    shorter = list(iter_demo_notes(10, seed=2))
    assert shorter == list(iter_demo_notes(20, seed=2))[:len(shorter)]


def test_every_span_indexes_its_text(gold_200):
    for gold in gold_200:
        text = gold["text"]
        for span in gold["phi"] + gold["entities"]:
            assert 0 <= span["start"] < span["end"] <= len(text)
            assert text[span["start"]:span["end"]] == span["text"]
        for section in gold["sections"]:
            assert 0 <= section["start"] < section["end"] <= len(text)
            assert SNAKE_CASE.match(section["name"]), section["name"]


def test_entities_never_overlap_phi_and_sit_in_their_section(gold_200):
    for gold in gold_200:
        phi = [(p["start"], p["end"]) for p in gold["phi"]]
        for entity in gold["entities"]:
            assert all(entity["end"] <= start or entity["start"] >= end for start, end in phi)
            containing = [s["name"] for s in gold["sections"] if s["start"] <= entity["start"] < s["end"]]
            assert entity["section"] == (containing[0] if containing else "")
        spans = sorted((s["start"], s["end"]) for s in gold["sections"])
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "sections overlap"


def test_entity_ids_labels_flags_and_relations_follow_the_contract(gold_200):
    relation_types = set()
    for gold in gold_200:
        entities = gold["entities"]
        assert [e["id"] for e in entities] == list(range(len(entities)))
        assert [(e["start"], e["end"]) for e in entities] == sorted((e["start"], e["end"]) for e in entities)
        for entity in entities:
            assert entity["label"] in ENTITY_LABELS
            assert all(isinstance(entity[flag], bool) for flag in ASSERTION_FLAGS)
        for relation in gold["relations"]:
            heads, tails = RELATION_TYPES[relation["type"]]
            assert entities[relation["head"]]["label"] in heads
            assert entities[relation["tail"]]["label"] in tails
            relation_types.add(relation["type"])
    assert relation_types == set(RELATION_TYPES)


def test_every_phi_type_and_both_placeholder_styles_appear_in_200_notes(gold_200):
    types = {p["type"] for gold in gold_200 for p in gold["phi"]}
    assert types == set(PHI_TYPES)
    texts = [p["text"] for gold in gold_200 for p in gold["phi"]]
    assert any(t.startswith("[**") and t.endswith("**]") for t in texts)
    assert "___" in texts
    for gold in gold_200:
        for p in gold["phi"]:
            assert p["subtype"].split(".")[0] == p["type"]


def test_assertion_flags_all_occur(gold_200):
    entities = [e for gold in gold_200 for e in gold["entities"]]
    for flag in ASSERTION_FLAGS:
        assert any(e[flag] for e in entities), flag
    assert any(e["negated"] and e["family"] for e in entities)  # "no family history of colon cancer"


def test_concept_ids_exist_in_the_shipped_concept_table_with_matching_domain(gold_200):
    concepts = _cdm("concept").set_index("concept_id")
    for gold in gold_200:
        for entity in gold["entities"]:
            if entity["concept_id"] == 0:
                assert entity["vocabulary_id"] == "" and entity["concept_code"] == ""
                continue
            row = concepts.loc[str(entity["concept_id"])]
            assert row["standard_concept"] == "S"
            assert row["domain_id"] in LABEL_DOMAINS[entity["label"]]
            assert (row["vocabulary_id"], row["concept_code"]) == (entity["vocabulary_id"], entity["concept_code"])


def test_drugs_come_from_the_persons_drug_exposures(gold_200):
    drugs = _cdm("drug_exposure")
    by_person = drugs.groupby("person_id")["drug_concept_id"].agg(set).to_dict()
    concepts = _cdm("concept").set_index("concept_id")
    persons = set(_cdm("person")["person_id"])
    ingredient_mentions = 0
    for gold in gold_200:
        assert str(gold["person_id"]) in persons
        exposures = by_person[str(gold["person_id"])]
        exposure_names = " | ".join(concepts.loc[c, "concept_name"].lower() for c in exposures)
        for entity in gold["entities"]:
            if entity["label"] != "DRUG":
                continue
            if str(entity["concept_id"]) in exposures:
                continue
            # A drug named without its strength anywhere in the note is its ingredient, of an exposure.
            row = concepts.loc[str(entity["concept_id"])]
            assert row["concept_class_id"] == "Ingredient"
            assert row["concept_name"].lower() in exposure_names
            assert not any(r["head"] == entity["id"] and r["type"] == "has_strength" for r in gold["relations"])
            ingredient_mentions += 1
    assert ingredient_mentions > 0


def test_medication_lines_carry_attributes_and_names_drop_synthea_suffixes(gold_200):
    entities = [e for gold in gold_200 for e in gold["entities"]]
    assert {"STRENGTH", "DOSE", "ROUTE", "FREQUENCY", "DURATION", "FORM"} <= {e["label"] for e in entities}
    assert clean_concept_name("Acute viral pharyngitis (disorder)") == "Acute viral pharyngitis"
    assert not any("(disorder)" in e["text"] or "(finding)" in e["text"] for e in entities)


def test_written_files_round_trip(tmp_path):
    n = 300
    paths = write_demo(tmp_path / "demo", n, seed=0)
    frame = pd.read_csv(paths["noteevents"], dtype={"ISERROR": "Int64"}, keep_default_na=False,
                        na_values={"ISERROR": [""]})
    assert list(frame.columns) == list(NOTEEVENTS_COLUMNS)
    assert len(frame) == n
    errors = set(frame.loc[frame["ISERROR"] == 1, "ROW_ID"])
    assert 0 < len(errors) < n * 0.05
    assert frame["TEXT"].str.contains("\n").all() and frame["TEXT"].str.contains('"').any()
    gold = [json.loads(line) for line in paths["gold"].read_text(encoding="utf-8").splitlines()]
    notes = list(read_docs(paths["notes"]))
    assert [g["note_id"] for g in gold] == [d.note_id for d in notes] == [r for r in frame["ROW_ID"] if r not in errors]
    texts = dict(zip(frame["ROW_ID"], frame["TEXT"]))
    for record, doc in zip(gold, notes):
        assert texts[record["note_id"]] == record["text"] == doc.text
        assert doc.note_date == record["note_date"] == frame.set_index("ROW_ID").loc[record["note_id"], "CHARTDATE"]
    assert gold == list(iter_demo_notes(n, seed=0))
    with gzip.open(paths["noteevents"], "rt", encoding="utf-8", newline="") as handle:
        raw = list(csv.reader(handle))
    assert len(raw) == n + 1  # the csv module agrees with pandas on quoting of multi-line TEXT


def test_worker_processes_write_the_same_files(tmp_path):
    single = write_demo(tmp_path / "one", 520, seed=3)
    parallel = write_demo(tmp_path / "two", 520, seed=3, workers=2)
    for key in ("notes", "gold"):
        assert single[key].read_bytes() == parallel[key].read_bytes()
    with gzip.open(single["noteevents"], "rb") as a, gzip.open(parallel["noteevents"], "rb") as b:
        assert a.read() == b.read()


def test_error_rows_match_iter_demo_rows():
    rows = list(iter_demo_rows(400, seed=0))
    error_ids = {r["row"]["ROW_ID"] for r in rows if r["row"]["ISERROR"] == 1}
    assert error_ids
    assert not error_ids & {g["note_id"] for g in iter_demo_notes(400, seed=0)}


def test_cli_writes_the_three_files(tmp_path, capsys):
    assert cli_main(["demo-data", "--notes", "12", "--seed", "1", "--out", str(tmp_path / "out")]) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"NOTEEVENTS.csv.gz", "notes.jsonl", "gold.jsonl"}
    assert "wrote 12 notes" in capsys.readouterr().out
