"""An ATLAS cohort expression, compiled by OHDSI's Python Circe, refreshes into COHORT beside the NLP cohorts."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from datetime import date

import duckdb

from notenlp import cohorts
from notenlp.resources import resource_path
from notenlp.vocab.loader import load_demo

from . import expected

CONDITION_OCCURRENCE = """create table condition_occurrence (condition_occurrence_id integer not null,
    person_id bigint not null, condition_concept_id integer not null, condition_start_date date not null,
    condition_start_datetime timestamp null, condition_end_date date null, condition_end_datetime timestamp null,
    condition_type_concept_id integer not null, condition_status_concept_id integer null,
    stop_reason varchar(20) null, provider_id integer null, visit_occurrence_id integer null,
    visit_detail_id integer null, condition_source_value varchar(50) null,
    condition_source_concept_id integer null, condition_status_source_value varchar(50) null)"""
OBSERVATION_PERIOD = """create table observation_period (observation_period_id integer not null,
    person_id bigint not null, observation_period_start_date date not null,
    observation_period_end_date date not null, period_type_concept_id integer not null)"""


def _conditions() -> list[dict]:
    with gzip.open(resource_path("demo_cdm") / "condition_occurrence.csv.gz", "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_atlas_cohort_runs_on_the_structured_cdm(tmp_path):
    folder = tmp_path / "cohorts"
    shutil.copytree(cohorts.COHORT_DIR / "atlas", folder / "atlas")
    (folder / "hyperlipidemia_diagnosed.json").write_text(json.dumps(
        {"cohort_definition_id": 101, "description": "ATLAS: first hyperlipidemia condition_occurrence",
         "atlas": "atlas/hyperlipidemia_condition_occurrence.json"}), encoding="utf-8")
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        load_demo(con, icd10cm=False)
        con.execute(CONDITION_OCCURRENCE)
        con.execute(OBSERVATION_PERIOD)
        con.execute(f"insert into condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, "
                    f"condition_start_date, condition_end_date, condition_type_concept_id, "
                    f"condition_source_concept_id) select condition_occurrence_id, person_id, condition_concept_id, "
                    f"condition_start_date, condition_end_date, 32817, condition_source_concept_id from "
                    f"read_csv('{resource_path('demo_cdm') / 'condition_occurrence.csv.gz'}')")
        con.execute("insert into observation_period select person_id, person_id, min(condition_start_date), "
                    "max(coalesce(condition_end_date, condition_start_date)), 32817 from condition_occurrence "
                    "group by person_id")
    for _ in range(2):  # the same night twice: the same rows
        counts = cohorts.refresh_warehouse(path, date(2026, 12, 1), folder)
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select subject_id, cohort_start_date, cohort_end_date from cohort "
                           "where cohort_definition_id = 101 order by 1").fetchall()
        syntax = con.execute("select cohort_definition_syntax from cohort_definition "
                             "where cohort_definition_id = 101").fetchone()[0]
    # Circe without an end strategy: from the first qualifying event to the end of its observation period
    wanted, first, last = expected.descendants(432867), {}, {}
    for c in _conditions():
        person, start = int(c["person_id"]), date.fromisoformat(c["condition_start_date"])
        end = date.fromisoformat(c["condition_end_date"] or c["condition_start_date"])
        last[person] = max(last.get(person, start), end)
        if int(c["condition_concept_id"]) in wanted:
            first[person] = min(first.get(person, start), start)
    assert rows and rows == [(p, first[p], last[p]) for p in sorted(first)]
    assert counts == {"hyperlipidemia_diagnosed": len(rows)}
    assert json.loads(syntax)["PrimaryCriteria"]["CriteriaList"][0]["ConditionOccurrence"]["CodesetId"] == 0
