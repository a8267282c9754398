"""One declaration per fact: what follows from ``notenlp.attributes`` agrees with it, and cited docs exist."""

from __future__ import annotations

import itertools
import re
from dataclasses import fields
from pathlib import Path

from notenlp.attributes import ASSERTION_FLAGS
from notenlp.doc import Entity
from notenlp.omop import MODIFIER_KEYS, parse_term_modifiers, term_exists, term_modifiers, term_temporal
from notenlp.schemas import ENTITY, column_types

ROOT = Path(__file__).resolve().parents[2]


def test_entity_schema_and_dataclass_carry_exactly_the_declared_assertion_flags():
    boolean_columns = [name for name, kind in column_types(ENTITY) if kind == "boolean"]
    boolean_fields = [f.name for f in fields(Entity) if f.type in (bool, "bool")]
    assert boolean_columns == list(ASSERTION_FLAGS)
    assert boolean_fields == list(ASSERTION_FLAGS)


def test_omop_columns_follow_every_combination_of_flags():
    for values in itertools.product((False, True), repeat=len(ASSERTION_FLAGS)):
        flags = dict(zip(ASSERTION_FLAGS, values))
        entity = Entity(start=0, end=1, text="x", label="PROBLEM", section="hpi", **flags)
        absent = flags["negated"] or flags["possible"] or flags["hypothetical"] or flags["conditional"] or flags["family"]
        assert term_exists(entity) == ("N" if absent else "Y")
        assert term_temporal(entity) == ("past" if flags["historical"] else "present")
        modifiers = parse_term_modifiers(term_modifiers(entity))
        assert tuple(modifiers) == MODIFIER_KEYS
        assert modifiers["subject"] == ("family" if flags["family"] else "patient")
        assert all(modifiers[k] == str(flags[k]).lower() for k in MODIFIER_KEYS[:5])


def test_every_doc_a_source_file_cites_exists():
    cited = set()
    for path in [*ROOT.glob("src/notenlp/**/*.py"), *ROOT.glob("dags/*.py"), *ROOT.glob("jobs/*.py")]:
        cited.update(re.findall(r"\bdocs/[\w/.-]+\.md\b", path.read_text(encoding="utf-8")))
    assert cited, "no doc citation found: the pattern no longer matches"
    assert sorted(c for c in cited if not (ROOT / c).is_file()) == []
