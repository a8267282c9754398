"""Synthetic MIMIC-style clinical notes with exact gold annotations (see docs/demo_gold.md).

Notes are assembled from templates (``resources/demo/notes.json``) whose slots are filled from the
bundled demo OMOP CDM (each note's conditions and drugs are its person's CONDITION_OCCURRENCE and
DRUG_EXPOSURE rows), the clinical vocabulary (``clinical.json``) and synthetic PHI lexicons
(``phi.json``). Every slot is appended to the text while its offsets are recorded, so the gold is
exact by construction: PHI spans, sections, entities (assertion flags, concept ids) and relations.

Each note draws from its own ``random.Random`` seeded by ``(seed, row index)``: the output depends
only on the seed and the row, never on global state.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any

from notenlp.resources import resource_path

log = logging.getLogger(__name__)

NOTEEVENTS_COLUMNS = ("ROW_ID", "SUBJECT_ID", "HADM_ID", "CHARTDATE", "CHARTTIME", "STORETIME", "CATEGORY",
                      "DESCRIPTION", "CGID", "ISERROR", "TEXT")
ERROR_RATE = 0.01  # MIMIC-III marks about 1% of notes ISERROR=1
MIMIC_PLACEHOLDER_RATE = 0.08  # notes de-identified MIMIC-III style: [**Known lastname 1234**]
BLANK_PLACEHOLDER_RATE = 0.02  # notes de-identified MIMIC-IV style: ___
OLD_AGE_RATE = 0.06  # notes whose patient is over 89 (an AGE identifier under Safe Harbor)
MISSPELLING_RATE = 0.04
ABBREVIATION_RATE = 0.45  # share of mentions using a variant term rather than the concept name

FLAG_NAMES = {"neg": "negated", "pos": "possible", "hyp": "hypothetical", "cond": "conditional",
              "hist": "historical", "fam": "family"}
MED_ATTRIBUTES = {"STRENGTH": ("STRENGTH", "has_strength"), "DOSE": ("DOSE", "has_dose"),
                  "ROUTE": ("ROUTE", "has_route"), "FREQ": ("FREQUENCY", "has_frequency"),
                  "DUR": ("DURATION", "has_duration"), "FORM": ("FORM", "has_form"),
                  "FREQPRN": ("FREQUENCY", "has_frequency")}
_SLOT = re.compile(r"\{([A-Za-z0-9]+)(?::([a-z,]+))?(?:#([a-z]+))?\}")
_SYNTHEA_SUFFIX = re.compile(r"\s*\((?:disorder|finding|situation|procedure|morphologic abnormality)\)$")
_DRUG_COMPONENT = re.compile(r"([a-z][A-Za-z0-9 ,\-]*?)\s+([\d.]+)\s+(MG/ML|MG/HR|MG/ACTUAT|UNT/ML|MG|ML)\b")
_DRUG_NOISE = re.compile(r"\bNDA\d+\b|Abuse-Deterrent|\b\d+ (?:HR|DAY|ACTUAT)\b")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


@dataclass(frozen=True, slots=True)
class ConceptRef:
    concept_id: int
    vocabulary_id: str = ""
    concept_code: str = ""
    name: str = ""


NO_CONCEPT = ConceptRef(0)


@dataclass(frozen=True, slots=True)
class Term:
    """A clinical thing and the surface forms a note may use for it."""
    concept: ConceptRef
    terms: tuple[str, ...]
    reveals: tuple[str, ...] = ()  # imaging tests: first terms of the findings they may show
    # Terms that name a different concept than ``concept`` (``CBC`` alone is the CBC panel, not the
    # hemogram with differential that ``CBC with diff`` names).
    term_concepts: tuple[tuple[str, ConceptRef], ...] = ()

    def concept_of(self, term: str) -> ConceptRef:
        return next((concept for written, concept in self.term_concepts if written == term), self.concept)


@dataclass(frozen=True, slots=True)
class Drug:
    concept: ConceptRef
    names: tuple[str, ...]
    strengths: tuple[str, ...]  # empty for packs, which carry no single strength
    forms: tuple[str, ...]
    routes: tuple[str, ...]
    doses: tuple[str, ...]
    full_name: str  # the RxNorm string, used as a mention when it is short enough
    indications: frozenset[int]  # concept ids of the problems it treats
    # The RxNorm ingredient, for a single-ingredient drug the vocabulary has it for: the concept of a
    # mention when the note states no strength or full name of the product (see ``_text_supported_drugs``).
    ingredient: ConceptRef = NO_CONCEPT


@dataclass(frozen=True, slots=True)
class Person:
    person_id: int
    sex: str
    year_of_birth: int
    conditions: tuple[Term, ...]  # clinical conditions (social findings kept apart)
    social: tuple[Term, ...]
    drugs: tuple[Drug, ...]


@dataclass(frozen=True, slots=True)
class Slot:
    kind: str
    flags: tuple[str, ...]
    ref: str


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[str | Slot, ...]
    relations: tuple[tuple[str, str, str], ...] = ()
    imaging_pairs: tuple[tuple[str, str], ...] = ()  # (test ref, finding ref) to keep plausible, unrelated

    def kinds(self) -> set[str]:
        return {p.kind for p in self.parts if isinstance(p, Slot)}


_MED_LINE_PARTS = (Slot("MED", (), ""),)


def parse_template(spec: str | dict[str, Any]) -> Template:
    text, relations = (spec, []) if isinstance(spec, str) else (spec["t"], spec.get("rel", []))
    parts: list[str | Slot] = []
    last = 0
    for match in _SLOT.finditer(text):
        if match.start() > last:
            parts.append(text[last:match.start()])
        flags = tuple(FLAG_NAMES[f] for f in match.group(2).split(",")) if match.group(2) else ()
        kind = match.group(1)
        # An imaging test and a finding in one sentence get refs so the finding fits the test.
        ref = match.group(3) or (f"_{len(parts)}" if kind in ("I", "R") else "")
        parts.append(Slot(kind, flags, ref))
        last = match.end()
    if last < len(text):
        parts.append(text[last:])
    related = {(head, tail) for head, _, tail in relations}
    tests = [p.ref for p in parts if isinstance(p, Slot) and p.kind == "I"]
    pairs = tuple((tests[0], p.ref) for p in parts if isinstance(p, Slot) and p.kind == "R" and tests
                  and (tests[0], p.ref) not in related)
    return Template(tuple(parts), tuple(tuple(r) for r in relations), pairs)


def _read_csv_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def clean_concept_name(name: str) -> str:
    return _SYNTHEA_SUFFIX.sub("", name)


def _ingredient_concept(ingredient: str, ingredients: dict[str, ConceptRef]) -> ConceptRef:
    """``penicillin V potassium`` -> the Ingredient ``penicillin V``: the longest ingredient name that
    the product's (salt-qualified) ingredient starts with, word by word."""
    words = ingredient.lower().split()
    for length in range(len(words), 0, -1):
        found = ingredients.get(" ".join(words[:length]))
        if found is not None:
            return found
    return NO_CONCEPT


def _parse_drug(concept: ConceptRef, clinical: dict[str, Any], ingredient_concepts: dict[str, ConceptRef]) -> Drug:
    """Split an RxNorm drug name into ingredient names, strength and dose form."""
    name = concept.name
    brand_match = re.search(r"\[([^\]]+)\]", name)
    brand = re.sub(r"\s+\d+ Day$", "", brand_match.group(1)) if brand_match else ""
    core = _DRUG_NOISE.sub(" ", re.sub(r"\[[^\]]*\]", "", name))
    components = _DRUG_COMPONENT.findall(core)
    ingredients = list(dict.fromkeys(c[0].strip() for c in components))
    key = " / ".join(ingredients)
    names = list(clinical["drug_terms"].get(key, []))
    if not names and ingredients:
        names = [ingredients[0]] if len(ingredients) == 1 else ["-".join(ingredients[:2])]
    if brand and brand not in names:
        names.append(brand)
    pack = name.startswith("{")
    strengths: list[str] = []
    if components and not pack:
        unit = components[0][2]
        value = "/".join(dict.fromkeys(c[1] for c in components)) if len(components) > 1 else components[0][1]
        for unit_text in clinical["strength_units"].get(unit, [unit.lower()]):
            strengths.append(f"{value} {unit_text}")
        strengths.append(f"{value}{clinical['strength_units'].get(unit, [unit.lower()])[0]}")
    tail = core[core.rfind(components[-1][2]) + len(components[-1][2]):] if components else core
    form_key = "Pack" if pack else next((k for k in sorted(clinical["forms"], key=len, reverse=True)
                                          if k and k in tail), "")
    form = clinical["forms"][form_key]
    return Drug(concept, tuple(names) or (name,), tuple(strengths), tuple(form["form"]), tuple(form["route"]),
                tuple(form["dose"]), "" if pack or len(name) > 60 else name,
                frozenset(c for c in clinical["indications"].get(key, ()) if c),
                _ingredient_concept(ingredients[0], ingredient_concepts) if len(ingredients) == 1 and not pack
                else NO_CONCEPT)


@dataclass(slots=True)
class DemoResources:
    """Everything the generator reads, loaded once: the demo CDM and the vocabulary files."""
    persons: tuple[Person, ...]
    concepts: dict[int, ConceptRef]
    findings: dict[str, tuple[Term, ...]]
    findings_by_term: dict[str, Term]
    tests: dict[str, tuple[Term, ...]]
    procedures: tuple[Term, ...]
    misspellings: dict[str, tuple[str, ...]]
    frequencies: tuple[str, ...]
    durations: tuple[str, ...]
    section_headers: dict[str, tuple[str, ...]]
    bodies: dict[str, dict[str, Any]]
    note_types: dict[str, dict[str, Any]]
    med_lines: tuple[Template, ...]
    finding_slots: dict[str, str]  # template slot -> findings kind in clinical.json
    literals: dict[str, Any]
    phi: dict[str, Any]
    note_type_names: tuple[str, ...] = ()
    note_type_weights: tuple[float, ...] = ()

    @classmethod
    def load(cls) -> "DemoResources":
        def load_json(name: str) -> dict[str, Any]:
            return json.loads(resource_path("demo", name).read_text(encoding="utf-8"))

        clinical, notes, phi = load_json("clinical.json"), load_json("notes.json"), load_json("phi.json")
        cdm = resource_path("demo_cdm")
        concept_rows = _read_csv_gz(cdm / "concept.csv.gz")
        concepts = {int(r["concept_id"]): ConceptRef(int(r["concept_id"]), r["vocabulary_id"], r["concept_code"],
                                                     clean_concept_name(r["concept_name"]))
                    for r in concept_rows}
        ingredient_concepts = {r["concept_name"].lower(): concepts[int(r["concept_id"])] for r in concept_rows
                               if r["concept_class_id"] == "Ingredient" and r["standard_concept"] == "S"}

        def term(concept_id: int, terms: list[str]) -> Term:
            concept = concepts[concept_id] if concept_id else NO_CONCEPT
            return Term(concept, tuple(terms))

        condition_terms = clinical["condition_terms"]
        by_person_conditions: dict[int, dict[int, Term]] = {}
        for row in _read_csv_gz(cdm / "condition_occurrence.csv.gz"):
            concept = concepts[int(row["condition_concept_id"])]
            variants = condition_terms.get(str(concept.concept_id)) or [concept.name.lower()]
            by_person_conditions.setdefault(int(row["person_id"]), {})[concept.concept_id] = \
                Term(concept, tuple(dict.fromkeys([concept.name.lower(), *variants])))
        drugs: dict[int, Drug] = {}
        by_person_drugs: dict[int, dict[int, Drug]] = {}
        for row in _read_csv_gz(cdm / "drug_exposure.csv.gz"):
            concept_id = int(row["drug_concept_id"])
            if concept_id not in drugs:
                drugs[concept_id] = _parse_drug(concepts[concept_id], clinical, ingredient_concepts)
            by_person_drugs.setdefault(int(row["person_id"]), {})[concept_id] = drugs[concept_id]
        social_ids = set(clinical["social_condition_ids"])
        persons = []
        for row in _read_csv_gz(cdm / "person.csv.gz"):
            pid = int(row["person_id"])
            if pid in by_person_conditions and pid in by_person_drugs:
                conditions = by_person_conditions[pid].values()
                social = tuple(c for c in conditions if c.concept.concept_id in social_ids)
                clinical_conditions = tuple(c for c in conditions if c.concept.concept_id not in social_ids)
                persons.append(Person(pid, "F" if row["gender_concept_id"] == "8532" else "M",
                                      int(row["year_of_birth"]), clinical_conditions or social, social,
                                      tuple(by_person_drugs[pid].values())))
        findings: dict[str, list[Term]] = {}
        for item in clinical["findings"]:
            for kind in item["kinds"]:
                findings.setdefault(kind, []).append(term(item["concept_id"], item["terms"]))
        tests: dict[str, list[Term]] = {}
        for item in clinical["tests"]:
            tests.setdefault(item["kind"], []).append(
                Term(concepts[item["concept_id"]] if item["concept_id"] else NO_CONCEPT, tuple(item["terms"]),
                     tuple(item.get("reveals", ())),
                     tuple((t, concepts[c]) for t, c in item.get("term_concept_ids", {}).items())))
        bodies = {}
        for name, body in notes["bodies"].items():
            bodies[name] = {**body, "items": [parse_template(t) for t in body["items"]],
                            "first": [parse_template(t) for t in body.get("first", [])]}
        note_types = {}
        for name, spec in notes["note_types"].items():
            note_types[name] = {**spec, "preamble": [(parse_template(t), p) for t, p in spec["preamble"]],
                                "footer": [(parse_template(t), p) for t, p in spec["footer"]]}
        resources = cls(
            persons=tuple(persons), concepts=concepts,
            findings={k: tuple(v) for k, v in findings.items()},
            findings_by_term={t.terms[0]: t for kind in findings.values() for t in kind}, tests={k: tuple(v) for k, v in tests.items()},
            procedures=tuple(term(p["concept_id"], p["terms"]) for p in clinical["procedures"]),
            misspellings={k: tuple(v) for k, v in clinical["misspellings"].items()},
            frequencies=tuple(clinical["frequencies"]), durations=tuple(clinical["durations"]),
            section_headers={k: tuple(v) for k, v in notes["sections"].items()}, bodies=bodies,
            note_types=note_types, med_lines=tuple(parse_template(t) for t in notes["med_lines"]),
            literals=notes["literals"], phi=phi, finding_slots=notes["finding_slots"],
        )
        resources.note_type_names = tuple(note_types)
        resources.note_type_weights = tuple(spec["weight"] for spec in note_types.values())
        return resources


@dataclass(slots=True)
class _NoteState:
    """One note while it is written: the text so far and the gold recorded alongside."""
    rng: Random
    res: DemoResources
    person: Person
    mode: str  # "real", "mimic" or "blank": how PHI is written
    note_date: date
    age: int
    first_name: str
    last_name: str
    clinicians: list[str]
    nurse: str
    family: list[str]
    ids: dict[str, str]
    conditions: tuple[Term, ...]
    drugs: tuple[Drug, ...]
    description: str
    parts: list[str] = field(default_factory=list)
    pos: int = 0
    section: str = ""
    used: set[int] = field(default_factory=set)  # ids of the Terms already named in this section
    phi: list[dict[str, Any]] = field(default_factory=list)
    sections: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += len(text)

    def add_phi(self, text: str, subtype: str) -> None:
        self.phi.append({"start": self.pos, "end": self.pos + len(text), "type": subtype.split(".")[0],
                         "subtype": subtype, "text": text})
        self.add(text)

    def add_entity(self, text: str, label: str, concept: ConceptRef, flags: tuple[str, ...] = ()) -> int:
        entity_id = len(self.entities)
        self.entities.append({
            "id": entity_id, "start": self.pos, "end": self.pos + len(text), "text": text, "label": label,
            "section": self.section, "negated": "negated" in flags, "possible": "possible" in flags,
            "hypothetical": "hypothetical" in flags, "conditional": "conditional" in flags,
            "historical": "historical" in flags, "family": "family" in flags, "concept_id": concept.concept_id,
            "source_concept_id": concept.concept_id, "vocabulary_id": concept.vocabulary_id,
            "concept_code": concept.concept_code})
        self.parts.append(text)
        self.pos += len(text)
        return entity_id


class NoteWriter:
    """Writes one synthetic note per call; all randomness comes from the Random handed in."""

    def __init__(self, resources: DemoResources | None = None) -> None:
        self.res = resources or DemoResources.load()
        phi = self.res.phi
        self._phi_slots = {
            "NAME": self._patient_name, "PLAST": lambda s: (s.last_name, "NAME.PATIENT"),
            "PFIRST": lambda s: (s.first_name, "NAME.PATIENT"), "DR": self._clinician,
            "DRL": lambda s: (s.rng.choice(s.clinicians).split()[-1], "NAME.CLINICIAN"),
            "RN": lambda s: (s.nurse, "NAME.CLINICIAN"), "FAM": lambda s: (s.rng.choice(s.family), "NAME.FAMILY"),
            "DATE": self._date, "DOB": self._birth_date, "YEAR": lambda s: (str(s.note_date.year - s.rng.randint(1, 15)), "DATE.YEAR"),
            "TIME": self._time, "MRN": lambda s: (s.ids["MRN"], "ID.MRN"),
            "ACCT": lambda s: (s.ids["ACCT"], "ID.ACCOUNT"), "SSN": lambda s: (s.ids["SSN"], "ID.SSN"),
            "LIC": lambda s: (s.ids["LIC"], "ID.LICENSE"), "DEV": lambda s: (s.ids["DEV"], "ID.DEVICE"),
            "HPID": lambda s: (s.ids["HPID"], "ID.HEALTHPLAN"), "JOB": lambda s: (str(s.rng.randint(10000, 99999)), "ID.JOB"),
            "CLIP": lambda s: (str(s.rng.randint(1000000, 9999999)), "ID.CLIP"),
            "PLATE": lambda s: (f"{s.rng.choice(('NJ', 'MA', 'NY'))} {s.rng.randint(1, 9)}"
                                f"{''.join(s.rng.choices('ABCDEFGHJKLMNPRSTUVWXYZ', k=2))}-{s.rng.randint(100, 999)}",
                                "ID.VEHICLE"),
            "PHONE": lambda s: (self._phone_number(s.rng), "PHONE"),
            "FAX": lambda s: (self._phone_number(s.rng), "PHONE.FAX"),
            "EMAIL": self._email, "URL": self._url, "IP": self._ip,
            "STREET": lambda s: (f"{s.rng.randint(2, 998)} {s.rng.choice(phi['streets'])}", "LOCATION.STREET"),
            "CITY": lambda s: (s.rng.choice(phi["cities"]), "LOCATION.CITY"),
            "STATE": lambda s: (s.rng.choice(phi["states"]), "LOCATION.STATE"),
            "ZIP": lambda s: (f"0{s.rng.randint(1000, 9999)}", "LOCATION.ZIP"),
            "HOSP": lambda s: (s.rng.choice(phi["hospitals"]), "LOCATION.HOSPITAL"),
            "PLAN": lambda s: (s.rng.choice(phi["plans"]), "ID.HEALTHPLAN"),
        }
        self._entity_slots = {"P", "SOC", "D", "DS", "T", "I", "X", "MED", *self.res.finding_slots}
        self._revealing_tests = [t for t in self.res.tests["imaging"] if t.reveals]
        # "q6h as needed" is one frequency (n2c2 2018, i2b2 2009 conventions): a PRN slot writes it as one span.
        self._prn_frequencies = tuple(f"{f} as needed" for f in self.res.frequencies
                                      if not re.search(r"\bprn\b|as needed", f, re.IGNORECASE))
        self._date_formats = [(f, subtype) for f, subtype in phi["date_formats"]]
        self._form_names = sorted({f.lower() for p in self.res.persons for d in p.drugs for f in d.forms},
                                  key=len, reverse=True)

    # ---- PHI values -------------------------------------------------------------------------
    def _patient_name(self, s: _NoteState) -> tuple[str, str]:
        first, last = s.first_name, s.last_name
        form = s.rng.random()
        text = f"{first} {last}" if form < 0.6 else f"{last}, {first}" if form < 0.85 else f"{first[0]}. {last}"
        return text, "NAME.PATIENT"

    def _clinician(self, s: _NoteState) -> tuple[str, str]:
        name = s.rng.choice(s.clinicians)
        first, last = name.split(" ", 1)
        form = s.rng.random()
        text = name if form < 0.5 else f"{first[0]}. {last}" if form < 0.8 else last
        return text, "NAME.CLINICIAN"

    def _date(self, s: _NoteState) -> tuple[str, str]:
        day = s.note_date - timedelta(days=s.rng.randint(0, 400) if s.rng.random() < 0.4 else s.rng.randint(0, 5))
        fmt, subtype = s.rng.choice(self._date_formats)
        return fmt.format(**_date_fields(day)), subtype

    def _birth_date(self, s: _NoteState) -> tuple[str, str]:
        day = date(s.note_date.year - s.age, 1, 1) + timedelta(days=s.rng.randint(0, 364))
        fmt, _ = s.rng.choice([f for f in self._date_formats if f[1] == "DATE.FULL"])
        return fmt.format(**_date_fields(day)), "DATE.FULL"

    def _time(self, s: _NoteState) -> tuple[str, str]:
        hour, minute = s.rng.randint(0, 23), s.rng.randint(0, 59)
        fmt = s.rng.choice(self.res.phi["time_formats"])
        return fmt.format(**_time_fields(hour, minute, s.rng.randint(0, 59))), "DATE.TIME"

    @staticmethod
    def _phone_number(rng: Random) -> str:
        area, line = rng.choice(("201", "617", "732", "908", "973", "508", "781")), rng.randint(100, 199)
        form = rng.random()
        if form < 0.4:
            return f"({area}) 555-0{line}"
        return f"{area}-555-0{line}" if form < 0.8 else f"{area}.555.0{line}"

    def _email(self, s: _NoteState) -> tuple[str, str]:
        person = s.rng.choice((f"{s.first_name} {s.last_name}", *s.clinicians))
        first, last = person.split(" ", 1)
        local = f"{first}.{last}" if s.rng.random() < 0.5 else f"{first[0]}{last}{s.rng.randint(1, 99)}"
        local = re.sub(r"[^A-Za-z0-9.]", "", local).lower()
        return f"{local}@{s.rng.choice(self.res.phi['email_domains'])}", "EMAIL"

    def _url(self, s: _NoteState) -> tuple[str, str]:
        phi = self.res.phi
        return f"https://{s.rng.choice(phi['url_hosts'])}{s.rng.choice(phi['url_paths'])}{s.rng.randint(10000, 999999)}", "URL"

    def _ip(self, s: _NoteState) -> tuple[str, str]:
        rng = s.rng
        if rng.random() < 0.5:
            return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "IP"
        return f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "IP"

    def _placeholder(self, s: _NoteState, subtype: str) -> str:
        if s.mode == "blank":
            return "___"
        options = self.res.phi["placeholders"].get(subtype) or ["[**Numeric Identifier {n}**]"]
        day = s.note_date - timedelta(days=s.rng.randint(0, 60))
        fields = _date_fields(day)
        fields.update(_time_fields(s.rng.randint(0, 23), s.rng.randint(0, 59), 0), n=s.rng.randint(1, 9999))
        return s.rng.choice(options).format(**fields)

    def _write_phi(self, s: _NoteState, kind: str) -> None:
        text, subtype = self._phi_slots[kind](s)
        if s.mode != "real":
            text = self._placeholder(s, subtype)
        s.add_phi(text, subtype)

    # ---- entities ---------------------------------------------------------------------------
    def _surface(self, s: _NoteState, item: Term, capitalize: bool) -> tuple[str, ConceptRef]:
        """The mention as written (variant, misspelling, capital) and the concept of the variant."""
        rng = s.rng
        term = item.terms[0] if rng.random() > ABBREVIATION_RATE else rng.choice(item.terms)
        text = self._misspell(rng, term) if rng.random() < MISSPELLING_RATE else term
        if capitalize and text[:1].islower():
            text = text[0].upper() + text[1:]
        return text, item.concept_of(term)

    def _misspell(self, rng: Random, text: str) -> str:
        known = self.res.misspellings.get(text.lower())
        if known:
            return rng.choice(known)
        words = text.split(" ")
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        word = words[longest]
        if len(word) < 6 or not word.isalpha():
            return text
        i = rng.randint(1, len(word) - 3)
        words[longest] = word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swap two interior letters
        return " ".join(words)

    def _pick(self, s: _NoteState, kind: str, flags: tuple[str, ...]) -> tuple[Term, str]:
        rng, res = s.rng, self.res
        if kind == "P":
            return rng.choice(s.conditions), "PROBLEM"
        if kind == "SOC":
            return rng.choice(s.person.social or s.conditions), "PROBLEM"
        if kind in res.finding_slots:
            return rng.choice(res.findings[res.finding_slots[kind]]), "PROBLEM"
        if kind == "T":
            return rng.choice(res.tests["lab"]), "TEST"
        if kind == "I":
            return rng.choice(res.tests["imaging"]), "TEST"
        return rng.choice(res.procedures), "PROCEDURE"

    def _write_drug(self, s: _NoteState, drug: Drug, flags: tuple[str, ...], capitalize: bool,
                    full: bool = False) -> int:
        rng = s.rng
        if full and drug.full_name:
            return s.add_entity(drug.full_name, "DRUG", drug.concept, flags)
        text = drug.names[0] if rng.random() > ABBREVIATION_RATE else rng.choice(drug.names)
        if rng.random() < MISSPELLING_RATE:
            text = self._misspell(rng, text)
        if capitalize and text[:1].islower():
            text = text[0].upper() + text[1:]
        # A name that ends in its dosage form ("fentanyl patch") is a drug and a form, as n2c2 2018 annotates it.
        form = next((f for f in self._form_names if len(text) > len(f) + 1 and text.lower().endswith(" " + f)), None)
        if form is None:
            return s.add_entity(text, "DRUG", drug.concept, flags)
        drug_id = s.add_entity(text[:-len(form) - 1], "DRUG", drug.concept, flags)
        s.add(" ")
        form_id = s.add_entity(text[-len(form):], "FORM", NO_CONCEPT)
        s.relations.append({"head": drug_id, "tail": form_id, "type": "has_form"})
        return drug_id

    def _write_med_line(self, s: _NoteState, number: int) -> None:
        rng = s.rng
        drug = rng.choice(s.drugs)
        templates = [t for t in self.res.med_lines if drug.strengths or "STRENGTH" not in t.kinds()]
        template = rng.choice(templates)
        forced: dict[str, Any] = {}
        if template.relations:
            symptoms = [t for t in self.res.findings["symptom"] if t.concept.concept_id in drug.indications]
            if not symptoms:
                template = rng.choice([t for t in templates if not t.relations])
            else:
                forced = {tail: rng.choice(symptoms) for _, _, tail in template.relations}
        refs: dict[str, int] = {}
        attributes: list[tuple[int, str]] = []
        for part in template.parts:
            if isinstance(part, str):
                s.add(part)
            elif part.kind == "n":
                s.add(str(number))
            elif part.kind == "DRUG":
                refs["drug"] = self._write_drug(s, drug, (), capitalize=rng.random() < 0.5)
            elif part.kind in MED_ATTRIBUTES:
                label, relation = MED_ATTRIBUTES[part.kind]
                pool = {"STRENGTH": drug.strengths, "DOSE": drug.doses, "ROUTE": drug.routes,
                        "FREQ": self.res.frequencies, "DUR": self.res.durations, "FORM": drug.forms,
                        "FREQPRN": self._prn_frequencies}[part.kind]
                attributes.append((s.add_entity(rng.choice(pool), label, NO_CONCEPT), relation))
            else:
                self._write_slot(s, part, refs, capitalize=False, forced=forced)
        for entity_id, relation in attributes:
            s.relations.append({"head": refs["drug"], "tail": entity_id, "type": relation})
        self._add_relations(s, template, refs)

    # ---- templates --------------------------------------------------------------------------
    def _paired_picks(self, s: _NoteState, template: Template) -> dict[str, Any]:
        """Coherent pairs for relation templates: a drug with a problem it treats, a test with what it can show."""
        slots = {p.ref: p for p in template.parts if isinstance(p, Slot) and p.ref}
        forced: dict[str, Any] = {}
        rng = s.rng
        for head, relation, tail in template.relations:
            head_slot, tail_slot = slots.get(head), slots.get(tail)
            if relation == "treats" and head_slot is not None and head_slot.kind == "D" and tail_slot is not None:
                pool = {"P": s.person.conditions, "S": self.res.findings["symptom"],
                        "F": self.res.findings["finding"]}.get(tail_slot.kind, ())
                drugs = list(s.drugs) + list(s.person.drugs)
                rng.shuffle(drugs)
                for drug in drugs:
                    matches = [t for t in pool if t.concept.concept_id in drug.indications]
                    if matches:
                        forced[head], forced[tail] = drug, rng.choice(matches)
                        break
            elif relation == "reveals" and head_slot is not None and head_slot.kind == "I":
                test = rng.choice(self._revealing_tests)
                forced[head] = test
                forced[tail] = self.res.findings_by_term[rng.choice(test.reveals)]
        for head, tail in template.imaging_pairs:
            test = forced.get(head) or rng.choice(self._revealing_tests)
            forced[head] = test
            forced[tail] = self.res.findings_by_term[rng.choice(test.reveals)]
        return forced

    def _write_slot(self, s: _NoteState, slot: Slot, refs: dict[str, int], capitalize: bool,
                    forced: dict[str, Any] | None = None) -> None:
        kind, rng = slot.kind, s.rng
        chosen = forced.get(slot.ref) if forced and slot.ref else None
        if kind in self._phi_slots:
            self._write_phi(s, kind)
        elif kind == "AGE":
            if s.age > 89:
                if s.mode == "real":
                    s.add_phi(str(s.age), "AGE.OVER_89")
                else:
                    s.add_phi(self._placeholder(s, "AGE.OVER_89"), "AGE.OVER_89")
            else:
                s.add(str(s.age))
        elif kind == "D" or kind == "DS":
            drug = chosen or rng.choice(s.drugs)
            refs[slot.ref] = self._write_drug(s, drug, slot.flags, capitalize, full=kind == "DS")
        elif kind == "MED":
            self._write_med_line(s, 1)
        elif kind in self._entity_slots:
            item, label = self._pick(s, kind, slot.flags)
            for _ in range(2):  # re-draw so a section rarely names the same thing twice
                if id(item) not in s.used:
                    break
                item, label = self._pick(s, kind, slot.flags)
            item = chosen or item
            s.used.add(id(item))
            surface, concept = self._surface(s, item, capitalize)
            refs[slot.ref] = s.add_entity(surface, label, concept, slot.flags)
        else:
            s.add(self._literal(s, kind, capitalize))

    def _literal(self, s: _NoteState, kind: str, capitalize: bool) -> str:
        rng, male = s.rng, s.person.sex == "M"
        pronouns = {"he": "he" if male else "she", "He": "He" if male else "She", "his": "his" if male else "her",
                    "His": "His" if male else "Her", "him": "him" if male else "her"}
        if kind in pronouns:
            return pronouns[kind]
        if kind in ("sex", "man", "Mr"):
            return rng.choice(self.res.literals[kind][s.person.sex])
        if kind == "service":
            return rng.choice(self.res.literals["service"])
        if kind == "rel":
            word = rng.choice(self.res.phi["relations"])
            return word[0].upper() + word[1:] if capitalize else word
        if kind == "desc":
            return s.description
        if kind in self.res.literals["ranges"]:
            low, high = self.res.literals["ranges"][kind]
            return str(rng.randint(low, high))
        if kind == "temp":
            return f"{rng.randint(6, 9)}.{rng.randint(0, 9)}" if rng.random() < 0.85 else f"9.{rng.randint(0, 9)}"
        if kind == "dec":
            return f"{rng.randint(0, 15)}.{rng.randint(0, 9)}"
        raise KeyError(f"unknown template slot {kind!r}")

    @staticmethod
    def _add_relations(s: _NoteState, template: Template, refs: dict[str, int]) -> None:
        for head, relation, tail in template.relations:
            if head in refs and tail in refs:
                s.relations.append({"head": refs[head], "tail": refs[tail], "type": relation})

    def _write_template(self, s: _NoteState, template: Template, capitalize_first: bool = True) -> None:
        refs: dict[str, int] = {}
        forced = self._paired_picks(s, template) if template.relations or template.imaging_pairs else None
        for i, part in enumerate(template.parts):
            if isinstance(part, str):
                s.add(part)
            else:
                self._write_slot(s, part, refs, capitalize=capitalize_first and i == 0, forced=forced)
        self._add_relations(s, template, refs)

    def _write_body(self, s: _NoteState, body: dict[str, Any], count: int) -> None:
        rng = s.rng
        items: list[Template] = body["items"]
        chosen = rng.sample(items, count) if count <= len(items) else [rng.choice(items) for _ in range(count)]
        if body["first"]:
            chosen[0] = rng.choice(body["first"])
        style = body["style"]
        bullet = rng.choice(("", "- ", "* ", "# ", "1. ")) if style == "list" else ""
        for i, template in enumerate(chosen):
            if i:
                if style == "prose":
                    s.add("\n" if rng.random() < 0.2 else " " if rng.random() < 0.8 else "  ")
                else:
                    s.add("\n")
            if style == "list" and bullet:
                s.add(f"{i + 1}. " if bullet == "1. " else bullet)
            if template.parts == _MED_LINE_PARTS:
                self._write_med_line(s, i + 1)
            else:
                self._write_template(s, template, capitalize_first=style != "list" or rng.random() < 0.5)

    def _write_section(self, s: _NoteState, name: str, body_name: str, count: int) -> None:
        rng = s.rng
        start = s.pos
        s.section = name
        s.used.clear()
        header = rng.choice(self.res.section_headers[name])
        s.add(header)
        body = self.res.bodies[body_name]
        s.add("\n" if body["style"] != "prose" or rng.random() < 0.5 else " ")
        self._write_body(s, body, count)
        s.sections.append({"start": start, "end": s.pos, "name": name})
        s.section = ""
        s.add("\n\n")

    def write(self, rng: Random, note_id: int) -> dict[str, Any]:
        """One note: its NOTEEVENTS fields and its gold record."""
        res = self.res
        type_name = rng.choices(res.note_type_names, res.note_type_weights)[0]
        spec = res.note_types[type_name]
        person = rng.choice(res.persons)
        phi = res.phi
        female = person.sex == "F"
        # Synthea's records end in 2022; MIMIC shifts dates into 2100-2200, one shift per person.
        real_date = date(2016, 1, 1) + timedelta(days=rng.randint(0, 6 * 365))
        note_date = real_date + timedelta(days=round((90 + (person.person_id * 37) % 80) * 365.25))
        age = max(1, real_date.year - person.year_of_birth)
        if rng.random() < OLD_AGE_RATE:
            age = rng.randint(90, 104)
        mode_roll = rng.random()
        mode = "mimic" if mode_roll < MIMIC_PLACEHOLDER_RATE else \
            "blank" if mode_roll < MIMIC_PLACEHOLDER_RATE + BLANK_PLACEHOLDER_RATE else "real"
        last_names = phi["last_names"]
        all_first = phi["first_names_female"] + phi["first_names_male"]
        state = _NoteState(
            rng=rng, res=res, person=person, mode=mode, note_date=note_date, age=age,
            first_name=rng.choice(phi["first_names_female"] if female else phi["first_names_male"]),
            last_name=rng.choice(last_names),
            clinicians=[f"{rng.choice(all_first)} {rng.choice(last_names)}" for _ in range(3)],
            nurse=rng.choice(all_first), family=[],
            ids={"MRN": str(rng.randint(1000000, 99999999)), "ACCT": f"{rng.choice(('A', 'V', ''))}{rng.randint(10**8, 10**9 - 1)}",
                 "SSN": f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                 "LIC": f"{rng.choice(('MD', 'RN', 'NJ', 'MA'))}{rng.randint(10000, 999999)}",
                 "DEV": f"{rng.choice(('SN', 'PM', 'ICD'))}-{rng.randint(100000, 9999999)}",
                 "HPID": f"{rng.choice(('XJH', 'BHP', 'MCS', 'W'))}{rng.randint(10**8, 10**9 - 1)}"},
            conditions=tuple(rng.sample(person.conditions, min(6, len(person.conditions)))),
            drugs=tuple(rng.sample(person.drugs, min(6, len(person.drugs)))),
            description=rng.choice(spec["descriptions"]),
        )
        state.family = [f"{rng.choice(all_first)} {state.last_name}" for _ in range(2)]
        for template, probability in spec["preamble"]:
            if rng.random() < probability:
                self._write_template(state, template)
                state.add("\n")
        state.add("\n")
        for name, body_name, probability, (low, high) in spec["sections"]:
            if rng.random() >= probability:
                continue
            if name == "_title":
                self._write_body(state, res.bodies[body_name], 1)
                state.add("\n")
            else:
                self._write_section(state, name, body_name, rng.randint(low, high))
        for template, probability in spec["footer"]:
            if rng.random() < probability:
                self._write_template(state, template)
                state.add("\n")
        text = "".join(state.parts)
        chart_time = "" if type_name == "discharge" else \
            f"{note_date.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        store_time = "" if type_name in ("discharge", "radiology") else chart_time[:-5] + f"{rng.randint(0, 59):02d}:00"
        row = {"ROW_ID": note_id, "SUBJECT_ID": person.person_id,
               "HADM_ID": 100000 + (person.person_id * 7919 + note_date.toordinal() // 7) % 900000,
               "CHARTDATE": note_date.isoformat(), "CHARTTIME": chart_time, "STORETIME": store_time,
               "CATEGORY": spec["category"], "DESCRIPTION": state.description,
               "CGID": "" if type_name in ("discharge", "radiology") else rng.randint(14000, 21999),
               "ISERROR": 1 if rng.random() < ERROR_RATE else "", "TEXT": text}
        _text_supported_drugs(state)
        gold = {"note_id": note_id, "person_id": person.person_id, "note_date": note_date.isoformat(),
                "note_type": spec["category"], "text": text, "phi": state.phi, "sections": state.sections,
                "entities": state.entities, "relations": state.relations}
        return {"row": row, "gold": gold}


def _text_supported_drugs(state: _NoteState) -> None:
    """A drug the note names only by name (no strength, no full RxNorm name, in any of its mentions)
    is its RxNorm ingredient in the gold, not the person's product: the text does not say which product.

    Mentions of a product whose strength the note states keep the product (they corefer with it).
    """
    by_concept = {drug.concept.concept_id: drug for drug in (*state.drugs, *state.person.drugs)}
    strength_heads = {r["head"] for r in state.relations if r["type"] == "has_strength"}
    stated: set[int] = set()
    for entity in state.entities:
        drug = by_concept.get(entity["concept_id"]) if entity["label"] == "DRUG" else None
        if drug is not None and (entity["id"] in strength_heads or entity["text"] == drug.full_name):
            stated.add(drug.concept.concept_id)
    for entity in state.entities:
        drug = by_concept.get(entity["concept_id"]) if entity["label"] == "DRUG" else None
        if drug is not None and drug.concept.concept_id not in stated and drug.ingredient.concept_id:
            entity.update(concept_id=drug.ingredient.concept_id, source_concept_id=drug.ingredient.concept_id,
                          vocabulary_id=drug.ingredient.vocabulary_id, concept_code=drug.ingredient.concept_code)


def _date_fields(day: date) -> dict[str, str]:
    suffix = "th" if 11 <= day.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
    month = _MONTHS[day.month - 1]
    return {"YYYY": str(day.year), "YY": f"{day.year % 100:02d}", "MM": f"{day.month:02d}", "M": str(day.month),
            "DD": f"{day.day:02d}", "D": str(day.day), "Mon": month[:3], "Month": month, "Dth": f"{day.day}{suffix}"}


def _time_fields(hour: int, minute: int, second: int) -> dict[str, str]:
    h12 = hour % 12 or 12
    return {"H": str(hour), "HH": f"{hour:02d}", "mm": f"{minute:02d}", "ss": f"{second:02d}", "h": str(h12),
            "AMPM": "AM" if hour < 12 else "PM", "ampm": "am" if hour < 12 else "pm"}


def iter_demo_rows(n: int, seed: int = 0, resources: DemoResources | None = None) -> Iterator[dict[str, Any]]:
    """``{"row": NOTEEVENTS fields, "gold": gold record}`` for rows 1..n, ISERROR rows included."""
    writer = NoteWriter(resources)
    for index in range(n):
        yield writer.write(Random(f"notenlp-demo/{seed}/{index}"), index + 1)


def iter_demo_notes(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Gold records (with "text") of the non-error notes among the first n rows, deterministic by seed."""
    for item in iter_demo_rows(n, seed):
        if item["row"]["ISERROR"] != 1:
            yield item["gold"]


def _encode(item: dict[str, Any]) -> tuple[list[Any], str | None, str | None]:
    """A note as its CSV row and, unless it is an ISERROR row, its notes.jsonl and gold.jsonl lines."""
    row, gold = item["row"], item["gold"]
    values = [row[c] for c in NOTEEVENTS_COLUMNS]
    if row["ISERROR"] == 1:
        return values, None, None
    note = {"note_id": gold["note_id"], "person_id": gold["person_id"], "note_date": gold["note_date"],
            "text": gold["text"]}
    return values, json.dumps(note, ensure_ascii=False), json.dumps(gold, ensure_ascii=False, separators=(",", ":"))


_worker_writer: NoteWriter | None = None  # one per worker process, built once by _init_worker


def _init_worker() -> None:
    global _worker_writer
    _worker_writer = NoteWriter()


def _encode_range(task: tuple[int, int, int]) -> list[tuple[list[Any], str | None, str | None]]:
    seed, start, stop = task
    assert _worker_writer is not None
    return [_encode(_worker_writer.write(Random(f"notenlp-demo/{seed}/{i}"), i + 1)) for i in range(start, stop)]


def _encoded_notes(n: int, seed: int, workers: int) -> Iterator[tuple[list[Any], str | None, str | None]]:
    if workers <= 1:
        for item in iter_demo_rows(n, seed):
            yield _encode(item)
        return
    import multiprocessing

    # Each note has its own seeded Random, so splitting the rows between processes changes nothing.
    chunk = 250
    tasks = [(seed, start, min(start + chunk, n)) for start in range(0, n, chunk)]
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        for encoded in pool.imap(_encode_range, tasks):
            yield from encoded


def write_demo(out_dir: str | Path, n: int, seed: int = 0, workers: int = 1,
               progress_every: int = 10_000) -> dict[str, Path]:
    """Write NOTEEVENTS.csv.gz, notes.jsonl and gold.jsonl under out_dir; returns their paths.

    The files depend only on n and seed, whatever the number of worker processes.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"noteevents": out / "NOTEEVENTS.csv.gz", "notes": out / "notes.jsonl", "gold": out / "gold.jsonl"}
    started = time.perf_counter()
    errors = 0
    with gzip.open(paths["noteevents"], "wt", encoding="utf-8", newline="", compresslevel=5) as csv_handle, \
            open(paths["notes"], "w", encoding="utf-8") as notes_handle, \
            open(paths["gold"], "w", encoding="utf-8") as gold_handle:
        writer = csv.writer(csv_handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(NOTEEVENTS_COLUMNS)
        for count, (values, note_line, gold_line) in enumerate(_encoded_notes(n, seed, workers), 1):
            writer.writerow(values)
            if note_line is None:
                errors += 1
            else:
                notes_handle.write(note_line + "\n")
                gold_handle.write(gold_line + "\n")
            if progress_every and count % progress_every == 0:
                log.info("wrote %d of %d notes (%.0f notes/s)", count, n, count / (time.perf_counter() - started))
    log.info("wrote %d notes (%d ISERROR rows kept only in NOTEEVENTS) in %.1f s", n, errors,
             time.perf_counter() - started)
    return paths
