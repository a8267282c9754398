"""Medication span conventions of the demo gold (n2c2 2018 / i2b2 2009)."""
from __future__ import annotations

import re


def test_as_needed_is_part_of_its_frequency(gold_200):
    frequencies = [e for g in gold_200 for e in g["entities"] if e["label"] == "FREQUENCY"]
    assert any(e["text"].endswith(" as needed") and len(e["text"]) > len("as needed") for e in frequencies)
    for gold in gold_200:
        ends = {e["end"] for e in gold["entities"] if e["label"] == "FREQUENCY"}
        # no frequency is followed by an "as needed" left outside it
        assert not any(re.match(r" (?:as needed|prn)\b", gold["text"][end:], re.IGNORECASE) for end in ends)


def test_a_drug_name_ending_in_its_form_is_a_drug_and_a_form(gold_200):
    seen = 0
    for gold in gold_200:
        by_id = {e["id"]: e for e in gold["entities"]}
        forms = {(r["head"], r["tail"]) for r in gold["relations"] if r["type"] == "has_form"}
        for e in gold["entities"]:
            assert not (e["label"] == "DRUG" and re.search(r" (?:patch|cream|inhaler|IUD|implant)$", e["text"]))
            if e["label"] == "FORM" and gold["text"][e["start"] - 1] == " ":
                before = [d for d in by_id.values() if d["label"] == "DRUG" and d["end"] == e["start"] - 1]
                if before:
                    assert (before[0]["id"], e["id"]) in forms
                    seen += 1
    assert seen > 0
