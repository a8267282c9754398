"""Cohorts as data, the note_fact view and patient_summary, on a warehouse holding the demo gold."""

from __future__ import annotations

import json
import re
from datetime import date

import duckdb
import pytest

from notenlp import cohorts
from notenlp.config import ConfigError

from . import expected
from .conftest import NIGHT
from .gold_warehouse import build, entity_id, exists


def _rows(path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def test_every_shipped_cohort_equals_the_gold(refreshed, gold):
    definitions = cohorts.load_definitions()
    assert len(definitions) >= 4
    for d in definitions:
        rows = _rows(refreshed, "select subject_id, cohort_start_date, cohort_end_date from cohort "
                     "where cohort_definition_id = $id", {"id": d.cohort_definition_id})
        assert {r[0]: (r[1], r[2]) for r in rows} == expected.cohort(gold, d), d.name
    assert _rows(refreshed, "select count(*) from cohort")[0][0] > 0
    names = dict(_rows(refreshed, "select cohort_definition_name, cohort_initiation_date from cohort_definition"))
    assert names == {d.name: NIGHT for d in definitions}


def test_the_demo_cohort_needs_both_descendants_and_the_window(refreshed, gold):
    """hyperlipidemia_last_year: members found only through hypertriglyceridemia (concept_ancestor), and a
    person whose hyperlipidemia mentions all lie more than 365 days before their latest note is left out."""
    members = {r[0] for r in _rows(refreshed, "select subject_id from cohort where cohort_definition_id = 1")}
    named = {g["person_id"] for g, e in expected.facts(gold)
             if e["concept_id"] == 432867 and exists(e) == "Y" and not e["historical"]}
    assert members - named, "no member comes through a descendant"
    assert set(expected.affirmed_condition_patients(gold, 432867, 100_000)) - members, "the window excludes nobody"


def test_refresh_twice_gives_the_same_rows_and_a_shrinking_cohort_loses_rows(tmp_path, gold):
    path = tmp_path / "w.duckdb"
    build(path, gold)
    tables = ("cohort", "cohort_definition", "patient_summary", "note_fact")
    cohorts.refresh_warehouse(path, NIGHT)
    first = {t: sorted(_rows(path, f"select * from {t}"), key=repr) for t in tables}
    cohorts.refresh_warehouse(path, NIGHT)
    assert {t: sorted(_rows(path, f"select * from {t}"), key=repr) for t in tables} == first
    members = _rows(path, "select subject_id from cohort where cohort_definition_id = 3")
    assert members
    with duckdb.connect(str(path)) as con:  # a rerun of the member's notes no longer finds the relation
        con.execute("delete from note_nlp_relation where note_id in (select note_id from note where person_id = $p)",
                    {"p": members[0][0]})
    cohorts.refresh_warehouse(path, NIGHT)
    assert _rows(path, "select subject_id from cohort where cohort_definition_id = 3") == members[1:]
    assert len(_rows(path, "select * from cohort_definition")) == len(first["cohort_definition"])


def test_note_fact_has_one_row_per_fact_with_its_flags_and_offsets(refreshed, gold):
    rows = {r[0]: r for r in _rows(refreshed, "select f.note_nlp_id, f.person_id, f.note_date, f.label, "
                                   "f.concept_id, f.concept_name, f.domain_id, f.term_exists, f.negated, f.historical, "
                                   "f.subject, f.section, substr(n.note_text, f.start_offset + 1, "
                                   "f.end_offset - f.start_offset) from note_fact f join note n using (note_id)")}
    want = list(expected.facts(gold))
    assert len(rows) == len(want)
    for g, e in want:
        row = rows[entity_id(g["note_id"], e["id"])]
        assert row[1:5] == (g["person_id"], date.fromisoformat(g["note_date"]), e["label"], e["concept_id"])
        assert row[7:11] == (exists(e), e["negated"], e["historical"], "family" if e["family"] else "patient")
        assert row[11] == (e["section"] or None) and row[12] == e["text"]
        assert (row[5] is None) == (e["concept_id"] == 0) and (row[6] is None) == (e["concept_id"] == 0)


def test_patient_summary_lists_active_problems_and_medications_with_their_attributes(refreshed, gold):
    summary = _rows(refreshed, "select person_id, kind, concept_id, strength, route, frequency, first_mention_date, "
                    "last_mention_date from patient_summary where concept_id <> 0")
    assert {(r[0], r[2]) for r in summary if r[1] == "problem"} == expected.active_problems(gold)
    medications = {(r[0], r[2]): dict(zip(("strength", "route", "frequency"), r[3:6]))
                   for r in summary if r[1] == "medication"}
    assert medications == expected.active_medications(gold)
    assert sum(1 for m in medications.values() if m["strength"] and m["route"] and m["frequency"]) > 20
    assert all(r[6] <= r[7] for r in summary)


def test_a_broken_definition_is_one_clear_error(tmp_path):
    (tmp_path / "t.sql").write_text("select person_id, note_date as cohort_start_date, note_date as cohort_end_date "
                                    "from note_fact where concept_id = $concept_id", encoding="utf-8")
    (tmp_path / "typo.json").write_text(json.dumps({"cohort_definition_id": 9, "template": "t.sql",
                                                    "parameters": {"concept": 1}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"typo.json: parameters missing \['concept_id'\], not in the template "
                                          r"\['concept'\]"):
        cohorts.load_definitions(tmp_path)
    (tmp_path / "typo.json").write_text(json.dumps({"cohort_definition_id": 9, "template": "t.sql",
                                                    "parameters": {"concept_id": 1}}), encoding="utf-8")
    (tmp_path / "twin.json").write_text((tmp_path / "typo.json").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError, match="share cohort_definition_id 9"):
        cohorts.load_definitions(tmp_path)


def test_cli_list_show_refresh(refreshed, monkeypatch, capsys):
    from notenlp.cli import main

    monkeypatch.setenv("NOTENLP_HOME", str(refreshed.parents[1]))
    assert main(["cohort", "list"]) == 0
    listed = capsys.readouterr().out
    assert "hyperlipidemia_last_year" in listed and "wheezing_only_negated" in listed
    assert re.search(r"current_smokers +0 persons", listed)  # refreshed, no member
    assert main(["cohort", "show", "acetaminophen_diarrhea_ade"]) == 0
    shown = capsys.readouterr().out
    assert "drug_adverse_event.sql" in shown and '"drug_concept_id": 1127433' in shown
    assert main(["cohort", "refresh", "--run-date", NIGHT.isoformat()]) == 0
    assert "acetaminophen_diarrhea_ade" in capsys.readouterr().out
    assert main(["cohort", "show", "no_such_cohort"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
