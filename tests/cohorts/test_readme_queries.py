"""Every query the README shows runs on the demo gold warehouse and answers what the gold says."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from notenlp import cohorts

from . import expected

README = Path(__file__).resolve().parents[2] / "README.md"
QUERY = re.compile(r"<!-- readme-query: (\w+) -->\s*```sql\n(.*?)```", re.S)
ANSWER = re.compile(r"<!-- readme-answer: (\w+) -->persons ([\d, ]+)<!-- /readme-answer -->")


def readme_queries() -> dict[str, str]:
    return dict(QUERY.findall(README.read_text(encoding="utf-8")))


def test_readme_shows_the_four_queries():
    assert set(readme_queries()) == {"cohort", "fact_view", "patient_summary", "drug_ade"}


def test_each_readme_query_gives_the_gold_answer(refreshed, gold):
    hyperlipidemia = next(d for d in cohorts.load_definitions() if d.name == "hyperlipidemia_last_year")
    want = {
        "cohort": [(p, *span) for p, span in sorted(expected.cohort(gold, hyperlipidemia).items())],
        "fact_view": expected.hypertriglyceridemia_facts(gold),
        "patient_summary": expected.medication_list(gold, 1),
        "drug_ade": expected.drug_adverse_event_pairs(gold),
    }
    with duckdb.connect(str(refreshed), read_only=True) as con:
        for name, sql in readme_queries().items():
            got = con.execute(sql).fetchall()
            assert got, f"README query {name} answers nothing on the demo"
            assert got == want[name], name
    answers = ANSWER.findall(README.read_text(encoding="utf-8"))
    stated = {name: [int(p) for p in persons.split(",")] for name, persons in answers}
    assert stated == {name: [row[0] for row in want[name]] for name in ("cohort", "fact_view")}
