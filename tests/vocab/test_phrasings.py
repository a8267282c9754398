"""The real-phrasing set: items from MeSH-linked corpus mentions, their kinds and the dev/aside split."""

from __future__ import annotations

from collections import Counter

import pytest

from notenlp.evaluation.phrasings import Item, build, corpus_mentions, kind_of, part_of, score
from notenlp.vocab.text import key

NAMES = {("PROBLEM", key("Dyspnea")): {(312437, "Dyspnea")}, ("DRUG", key("aspirin")): {(1112807, "aspirin")},
         ("PROBLEM", key("Heart failure")): {(316139, "Heart failure")},
         ("PROBLEM", key("Shock")): {(201965, "Shock"), (9, "Shock")}}  # two concepts of one name: no anchor


def test_items_are_the_other_phrasings_of_a_mesh_id_anchored_on_one_concept_name():
    mentions = {("PROBLEM", "D004417"): Counter({"dyspnea": 4, "Dyspnoea": 2, "shortness of breath": 1}),
                ("DRUG", "D001241"): Counter({"aspirin": 3, "ASA": 5, "Aspirin": 1}),
                ("PROBLEM", "D006333"): Counter({"CHF": 2}),  # no phrasing names a concept: no anchor
                ("PROBLEM", "D012769"): Counter({"shock": 2, "circulatory failure": 1})}
    items = {(i.phrasing, i.concept_id, i.kind) for i in build(mentions, NAMES)}
    assert items == {("Dyspnoea", 312437, "spelling"), ("shortness of breath", 312437, "synonym"),
                     ("ASA", 1112807, "abbreviation")}  # the anchor and its case copies are no items


def test_kinds():
    assert kind_of("CHF", "Heart failure") == "abbreviation"
    assert kind_of("failure heart", "Heart failure") == "word order"
    assert kind_of("congestive heart failure", "Heart failure") == "qualifier"
    assert kind_of("anaemia", "Anemia") == "spelling"
    assert kind_of("cardiac failure", "Heart failure") == "synonym"


def test_split_is_by_mesh_id_and_stable():
    parts = {mesh: part_of(mesh) for mesh in (f"D{n:06d}" for n in range(1000))}
    assert parts == {mesh: part_of(mesh) for mesh in parts}
    assert 0.2 < sum(p == "aside" for p in parts.values()) / len(parts) < 0.4


def test_score_counts_each_part_and_kind():
    items = [Item("a", "PROBLEM", "D1", 1, "A", "synonym", "dev", 1),
             Item("b", "PROBLEM", "D1", 1, "A", "spelling", "dev", 1),
             Item("c", "PROBLEM", "D2", 2, "C", "synonym", "aside", 1)]
    rows = {(r["part"], r["kind"]): r for r in score(items, [1, 0, 2], {"a": 1})}
    assert rows[("dev", "ALL")]["normalizer"] == pytest.approx(0.5)
    assert rows[("dev", "ALL")]["exact_string"] == pytest.approx(0.5)
    assert rows[("aside", "ALL")]["normalizer"] == pytest.approx(1.0)


def test_corpus_mentions_leave_out_composite_mesh_ids(tmp_path):
    (tmp_path / "ncbi-disease").mkdir()
    (tmp_path / "ncbi-disease" / "NCBItrainset_corpus.txt").write_text(
        "1|t|Dyspnoea.\n1\t0\t8\tDyspnoea\tSpecificDisease\tD004417\n1\t0\t8\tx\tModifier\tD1|D2\n", encoding="utf-8")
    assert corpus_mentions(tmp_path) == {("PROBLEM", "D004417"): Counter({"Dyspnoea": 1})}
