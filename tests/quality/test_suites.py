"""The suite files are valid GX 1.x suites and their patterns mean what the project's contracts say."""

from __future__ import annotations

import re

import pytest

from notenlp.attributes import RELATION_TYPES
from notenlp.doc import Entity
from notenlp.omop import term_modifiers
from notenlp.quality.suites import EXPECTATIONS_DIR, load_suite

SUITES = sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


def _kwargs(suite: str, reason: str) -> dict:
    return next(e["kwargs"] for e in load_suite(suite).expectations if e["meta"]["reason"] == reason)


def test_every_suite_is_shipped():
    assert SUITES == ["deid_notes", "note_nlp", "note_nlp_relation", "raw_notes"]


@pytest.mark.parametrize("name", SUITES)
def test_suite_loads_as_a_gx_suite(name):
    import great_expectations as gx

    suite = load_suite(name)
    gx_suite = gx.ExpectationSuite(name=suite.name, expectations=suite.expectations)
    assert len(gx_suite.expectations) == len(suite.expectations) > 0
    assert all(reason and re.fullmatch(r"[a-z_]+", reason) for reason in suite.reasons)


@pytest.mark.parametrize(("text", "reason"), [
    ("SSN 123-45-6789.", "residual_ssn"),
    ("call (617) 432-1234 today", "residual_phone"),
    ("cell 617.432.1234", "residual_phone"),
    ("mail john.smith@gmail.com", "residual_email"),
    ("see https://portal.hospital.org/x", "residual_url"),
    ("MRN: 4456789", "residual_mrn"),
])
def test_residual_phi_patterns_catch_real_formats(text, reason):
    assert re.search(_kwargs("deid_notes", reason)["regex"], text)


@pytest.mark.parametrize(("text", "reason"), [
    ("SSN 912-45-6789.", "residual_ssn"),  # surrogate SSNs use area 9xx
    ("call (617) 555-0123 today", "residual_phone"),  # surrogate phones are 555-01xx
    ("mail jane.roe@example.org", "residual_email"),
    ("see https://www.smith.example.org", "residual_url"),
    ("MRN: 9912345", "residual_mrn"),  # surrogate ids start with 99
    ("BP 120/80, HR 72, glucose 105-110", "residual_phone"),
])
def test_residual_phi_patterns_let_surrogates_and_clinical_numbers_pass(text, reason):
    assert not re.search(_kwargs("deid_notes", reason)["regex"], text)


def test_term_modifiers_pattern_accepts_what_omop_writes():
    pattern = _kwargs("note_nlp", "bad_term_modifiers")["regex"]
    entity = Entity(start=0, end=4, text="pain", label="PROBLEM", negated=True, family=True, section="hpi")
    assert re.fullmatch(pattern, term_modifiers(entity))
    assert re.fullmatch(pattern, term_modifiers(Entity(start=0, end=4, text="pain", label="DRUG")))
    assert not re.fullmatch(pattern, "negated=yes;label=PROBLEM")


def test_relationship_types_are_the_projects():
    assert set(_kwargs("note_nlp_relation", "unknown_relationship")["value_set"]) == set(RELATION_TYPES)
