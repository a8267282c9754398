"""What the demo gold says each cohort, fact and summary holds: plain Python over gold.jsonl and the
shipped vocabulary files, written apart from the SQL it checks."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import date, timedelta

from notenlp.resources import resource_path

from .gold_warehouse import exists

FACT_LABELS = ("PROBLEM", "DRUG", "TEST", "PROCEDURE")


def _rows(table: str) -> list[dict]:
    with gzip.open(resource_path("demo_vocab") / f"{table}.csv.gz", "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def descendants(concept_id: int) -> set[int]:
    found = {int(r["descendant_concept_id"]) for r in _rows("CONCEPT_ANCESTOR")
             if int(r["ancestor_concept_id"]) == concept_id}
    return found | {concept_id}


def facts(gold: list[dict]):
    """(note, entity) of every fact mention (attributes are not facts)."""
    for g in gold:
        for e in g["entities"]:
            if e["label"] in FACT_LABELS:
                yield g, e


def _span(dates: list[str]) -> tuple[date, date]:
    return date.fromisoformat(min(dates)), date.fromisoformat(max(dates))


def affirmed_condition_patients(gold, ancestor_concept_id: int, within_days: int) -> dict[int, tuple[date, date]]:
    wanted = descendants(ancestor_concept_id)
    latest: dict[int, date] = {}
    for g in gold:
        d = date.fromisoformat(g["note_date"])
        latest[g["person_id"]] = max(latest.get(g["person_id"], d), d)
    dates = defaultdict(list)
    for g, e in facts(gold):
        if (e["concept_id"] in wanted and exists(e) == "Y" and not e["historical"]
                and date.fromisoformat(g["note_date"]) >= latest[g["person_id"]] - timedelta(days=within_days)):
            dates[g["person_id"]].append(g["note_date"])
    return {person: _span(d) for person, d in dates.items()}


def drug_adverse_event(gold, drug_concept_id: int, problem_concept_id: int) -> dict[int, tuple[date, date]]:
    drugs, problems = descendants(drug_concept_id), descendants(problem_concept_id)
    dates = defaultdict(list)
    for g in gold:
        entities = {e["id"]: e for e in g["entities"]}
        for r in g["relations"]:
            if (r["type"] == "causes_adverse_event" and entities[r["head"]]["concept_id"] in drugs
                    and entities[r["tail"]]["concept_id"] in problems):
                dates[g["person_id"]].append(g["note_date"])
    return {person: _span(d) for person, d in dates.items()}


def negated_only_finding(gold, finding_concept_id: int) -> dict[int, tuple[date, date]]:
    wanted = descendants(finding_concept_id)
    mentions = defaultdict(list)
    for g, e in facts(gold):
        if e["concept_id"] in wanted:
            mentions[g["person_id"]].append((g["note_date"], e["negated"]))
    return {person: _span([d for d, _ in m]) for person, m in mentions.items() if all(neg for _, neg in m)}


TEMPLATES = {"affirmed_condition_patients.sql": affirmed_condition_patients,
             "drug_adverse_event.sql": drug_adverse_event, "negated_only_finding.sql": negated_only_finding}


def cohort(gold, definition) -> dict[int, tuple[date, date]]:
    return TEMPLATES[definition.template](gold, **definition.parameters)


def active_medications(gold) -> dict[tuple[int, int], dict[str, str | None]]:
    """(person, drug concept) -> the latest strength, route and frequency (by note date, note id, offset)."""
    latest: dict[tuple[int, int], dict] = {}
    for g in gold:
        entities = {e["id"]: e for e in g["entities"]}
        attributes = defaultdict(dict)  # a drug mention's first strength, route, frequency (as the load keeps)
        for r in sorted(g["relations"], key=lambda r: entities[r["tail"]]["start"]):
            kind = {"has_strength": "strength", "has_route": "route", "has_frequency": "frequency"}.get(r["type"])
            if kind:
                attributes[r["head"]].setdefault(kind, " ".join(entities[r["tail"]]["text"].split()))
        for e in g["entities"]:
            if e["label"] != "DRUG" or e["concept_id"] == 0 or exists(e) == "N" or e["historical"]:
                continue
            slot = latest.setdefault((g["person_id"], e["concept_id"]), {})
            key = (g["note_date"], g["note_id"], e["start"])
            for kind in ("strength", "route", "frequency"):
                value = attributes[e["id"]].get(kind)
                if value is not None and key > slot.get(f"{kind}_key", ("",)):
                    slot[kind], slot[f"{kind}_key"] = value, key
    return {k: {kind: v.get(kind) for kind in ("strength", "route", "frequency")} for k, v in latest.items()}


def active_problems(gold) -> set[tuple[int, int]]:
    return {(g["person_id"], e["concept_id"]) for g, e in facts(gold)
            if e["label"] == "PROBLEM" and e["concept_id"] and exists(e) == "Y" and not e["historical"]}


def concept_names() -> dict[int, str]:
    return {int(r["concept_id"]): r["concept_name"] for r in _rows("CONCEPT")}


def _name(entity: dict, names: dict[int, str]) -> str:
    return names.get(entity["concept_id"]) if entity["concept_id"] else None


def medication_list(gold, person_id: int) -> list[tuple]:
    """patient_summary's medication rows of one person: (term, strength, route, frequency, first, last)."""
    names = concept_names()
    groups: dict[tuple, dict] = {}
    latest = active_medications(gold)
    for g, e in facts(gold):
        if g["person_id"] != person_id or e["label"] != "DRUG" or exists(e) == "N" or e["historical"]:
            continue
        key = (e["concept_id"], "" if e["concept_id"] else e["text"].lower())
        group = groups.setdefault(key, {"dates": [], "written": []})
        group["dates"].append(g["note_date"])
        group["written"].append(e["text"].lower())
    rows = []
    for (concept_id, _), group in groups.items():
        attributes = latest.get((person_id, concept_id), {}) if concept_id else {}
        rows.append((names.get(concept_id) or min(group["written"]), attributes.get("strength"),
                     attributes.get("route"), attributes.get("frequency"), *_span(group["dates"])))
    return sorted(rows, key=lambda r: (r[0], r[4]))


def drug_adverse_event_pairs(gold, limit: int = 10) -> list[tuple]:
    """(drug, adverse event, persons, mentions), most persons first, as the README's drug-ADE query."""
    names = concept_names()
    pairs: dict[tuple[str, str], dict] = {}
    for g in gold:
        entities = {e["id"]: e for e in g["entities"]}
        for r in g["relations"]:
            drug, event = entities[r["head"]], entities[r["tail"]]
            if r["type"] != "causes_adverse_event" or drug["label"] not in FACT_LABELS or \
                    event["label"] not in FACT_LABELS:
                continue
            key = (_name(drug, names) or drug["text"].lower(), _name(event, names) or event["text"].lower())
            pair = pairs.setdefault(key, {"persons": set(), "mentions": 0})
            pair["persons"].add(g["person_id"])
            pair["mentions"] += 1
    rows = [(drug, event, len(p["persons"]), p["mentions"]) for (drug, event), p in pairs.items()]
    return sorted(rows, key=lambda r: (-r[2], -r[3], r[0], r[1]))[:limit]


def hypertriglyceridemia_facts(gold) -> list[tuple]:
    """The README's fact-view query: (person, mentions, notes, first note date) of present hypertriglyceridemia."""
    mentions = defaultdict(list)
    for g, e in facts(gold):
        if e["concept_id"] == 4120314 and exists(e) == "Y" and not e["historical"]:
            mentions[g["person_id"]].append((g["note_id"], g["note_date"]))
    return [(person, len(m), len({n for n, _ in m}), date.fromisoformat(min(d for _, d in m)))
            for person, m in sorted(mentions.items())]
